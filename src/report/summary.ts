// The job summary: one table per run (per platform: sizes, layers, cache,
// smoke test, durations), a mermaid timeline of the slowest build steps with
// the cached ones marked, and the size change against the image the tag
// pointed at before. A failure here is only a warning.
import * as out from '../output.js';
import * as core from '@actions/core';
import type { CacheStats, MergedVertex } from '../imagebuild/rawjson.js';
import { durationSeconds, formatRate, parseStepName, stepPlatform } from '../imagebuild/rawjson.js';
import type { SmokeReport } from '../smoke/test.js';
import { type ImageSizes, summarize } from './sizes.js';
import { type PlatformManifest } from '../registry/oci.js';
import { registryManifests } from '../registry/client.js';
import { formatBytes } from '../settings/values.js';
import type { GoCacheStats } from '../gocache/stats.js';

export interface SummaryData {
  platforms: string[];
  tags: string[];
  digest?: string;
  stats: CacheStats;
  vertices?: MergedVertex[];
  sizes?: ImageSizes;
  /** Sizes of the image the first tag pointed at before this run, when there was one. */
  previous?: ImageSizes;
  smoke?: SmokeReport;
  buildSeconds: number;
  /** A builder of several nodes: which node built each platform. */
  nodes?: { platform: string; node: string }[];
  /** What the Go caches did: go build against cold, and what carrying them cost. */
  goCache?: GoCacheStats;
}

interface PlatformBuild {
  hits: number;
  steps: number;
  seconds: number;
}

/** Cache hits and busy time per platform; a step with no platform in its label counts for every platform. */
export function perPlatform(vertices: MergedVertex[], platforms: string[]): Record<string, PlatformBuild> {
  const out: Record<string, PlatformBuild> = Object.fromEntries(platforms.map((p) => [p, { hits: 0, steps: 0, seconds: 0 }]));
  for (const v of vertices) {
    const step = parseStepName(v.name);
    if (!step || step.instruction === 'FROM') continue;
    const p = stepPlatform(step.label);
    for (const target of p && out[p] ? [p] : platforms) {
      out[target].steps++;
      if (v.cached) out[target].hits++;
      else out[target].seconds += durationSeconds(v) ?? 0;
    }
  }
  return out;
}

function delta(now: number | undefined, before: number | undefined): string {
  if (now === undefined || before === undefined) return '';
  const d = now - before;
  const pct = before > 0 ? ` (${d >= 0 ? '+' : ''}${((d / before) * 100).toFixed(1)}%)` : '';
  return `${d >= 0 ? '+' : '−'}${formatBytes(Math.abs(d))}${pct}`;
}

export function summaryRows(d: SummaryData): string[][] {
  const builds = perPlatform(d.vertices ?? [], d.platforms);
  return d.platforms.map((p) => {
    const size = d.sizes?.[p];
    const smoke = d.smoke?.results[p];
    const smokeCell = !smoke
      ? 'not run'
      : smoke.skipped
        ? 'skipped'
        : smoke.passed
          ? `passed in ${smoke.ms} ms (${smoke.probe})`
          : `FAILED (${smoke.probe})`;
    const b = builds[p];
    return [
      p,
      formatBytes(size?.compressed ?? null),
      d.previous ? delta(size?.compressed, d.previous[p]?.compressed) || 'new platform' : 'no previous image',
      formatBytes(size?.uncompressed ?? null),
      size ? String(size.layers) : 'n/a',
      b && b.steps > 0 ? `${b.hits}/${b.steps}` : 'n/a',
      b ? `${b.seconds.toFixed(1)} s` : 'n/a',
      smokeCell,
    ];
  });
}

/** Mermaid's gantt syntax gives ":" "#" and ";" a meaning; keep names plain and short. */
function taskName(v: MergedVertex): string {
  const step = parseStepName(v.name);
  const text = (v.name ?? '')
    .replace(/^\[[^\]]*\]\s*/, '')
    .replace(/--mount=\S+\s*/g, '')
    .replace(/[:#;]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const where = step ? `${stepPlatform(step.label) ?? 'all'} ${step.index}/${step.count}` : '';
  const short = text.length > 48 ? `${text.slice(0, 47)}…` : text;
  return `${where} ${short}${v.cached ? ' (cached)' : ''}`.trim();
}

/**
 * A gantt of the slowest Dockerfile steps on the build's own timeline
 * (milliseconds from its first step). Cached steps are tagged "done", which
 * mermaid draws in grey.
 */
export function mermaidTimeline(vertices: MergedVertex[], limit = 10): string | undefined {
  const steps = vertices.filter((v) => {
    const s = parseStepName(v.name);
    return s && s.instruction !== 'FROM' && v.started && v.completed;
  });
  if (steps.length === 0) return undefined;
  const t0 = Math.min(...steps.map((v) => Date.parse(v.started!)));
  const slowest = [...steps].sort((a, b) => (durationSeconds(b) ?? 0) - (durationSeconds(a) ?? 0)).slice(0, limit);
  slowest.sort((a, b) => Date.parse(a.started!) - Date.parse(b.started!));
  const span = Math.max(...slowest.map((v) => Date.parse(v.completed!) - t0));
  // Seconds with milliseconds for short builds, minutes:seconds for long ones.
  const axis = span < 20_000 ? '%S.%L s' : '%M:%S';
  const lines = ['gantt', '  title Slowest build steps (grey: cached)', '  dateFormat x', `  axisFormat ${axis}`];
  slowest.forEach((v, i) => {
    const start = Date.parse(v.started!) - t0;
    const end = Math.max(Date.parse(v.completed!) - t0, start + 1);
    lines.push(`  ${taskName(v)} :${v.cached ? 'done, ' : ''}s${i}, ${start}, ${end}`);
  });
  return lines.join('\n');
}

const HEADERS = ['platform', 'compressed', 'change', 'unpacked', 'layers', 'cache hits', 'build time', 'smoke test'];

/** The summary as markdown with one HTML table; blank lines keep markdown and HTML blocks apart, as GitHub renders them. */
export function summaryMarkdown(d: SummaryData): string {
  const head = [
    ...(d.tags.length > 0 ? [`Tags: ${d.tags.map((t) => `\`${t}\``).join(', ')}`] : []),
    ...(d.digest ? [`Digest: \`${d.digest}\``] : []),
    `Build: ${d.buildSeconds.toFixed(1)} s, cache ${d.stats.hits}/${d.stats.steps} steps (${formatRate(d.stats.rate)}%)`,
    ...(d.nodes && d.nodes.length > 0 ? [`Nodes: ${d.nodes.map((n) => `${n.platform} on \`${n.node}\``).join(', ')}`] : []),
  ];
  const cell = (tag: string, x: string) => `<${tag}>${x.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</${tag}>`;
  const table = [
    '<table>',
    `<tr>${HEADERS.map((h) => cell('th', h)).join('')}</tr>`,
    ...summaryRows(d).map((r) => `<tr>${r.map((x) => cell('td', x)).join('')}</tr>`),
    '</table>',
  ].join('\n');
  const chart = mermaidTimeline(d.vertices ?? []);
  const go = d.goCache ? goCacheLines(d.goCache) : undefined;
  return [
    '### go-buildx-action',
    head.join('  \n'),
    table,
    ...(go ? [go] : []),
    ...(chart ? [`\`\`\`mermaid\n${chart}\n\`\`\``] : []),
    '',
  ].join('\n\n');
}

/** The Go caches' line: what was restored, and per platform go build against its cold time. */
export function goCacheLines(g: GoCacheStats): string {
  const restore = g.restore.skipped
    ? `not restored (${g.restore.skipped}: every step that mounts them came from the layer cache)`
    : `restored ${formatBytes(g.restore.bytes)} in ${g.restore.seconds.toFixed(1)} s`;
  const per = Object.entries(g.platforms).map(([p, x]) =>
    x.goBuildSeconds === null
      ? `${p}: go build from the layer cache`
      : `${p}: go build ${x.goBuildSeconds.toFixed(1)} s${x.coldSeconds !== null ? ` (cold ${x.coldSeconds.toFixed(1)} s, saved ${(x.savedSeconds ?? 0).toFixed(1)} s)` : ''}`,
  );
  return [`Go caches: ${restore}`, ...per].join('  \n');
}

export async function writeSummary(d: SummaryData): Promise<void> {
  await core.summary.addRaw(summaryMarkdown(d)).write();
}

export async function writeMergeSummary(d: {
  tags: string[];
  digest: string;
  manifests: PlatformManifest[];
  sizes: ImageSizes;
}): Promise<void> {
  core.summary.addHeading('go-buildx-action: merged index', 3);
  core.summary.addRaw(`Tags: ${d.tags.map((t) => `\`${t}\``).join(', ')}`, true);
  core.summary.addRaw(`Index: \`${d.digest}\``, true);
  core.summary.addTable([
    ['platform', 'manifest', 'compressed', 'layers'].map((h) => ({ data: h, header: true })),
    ...d.manifests.map((m) => [
      m.platform,
      `\`${m.digest}\``,
      formatBytes(d.sizes[m.platform].compressed),
      String(d.sizes[m.platform].layers),
    ]),
  ]);
  await core.summary.write();
}

/** The job summary of a build; a failure here is only a warning. */
export async function summarySafely(
  d: Omit<SummaryData, 'previous'> & { push: boolean },
  previous: Promise<ImageSizes | undefined> | undefined,
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await writeSummary({ ...d, previous: await previous });
  } catch (err) {
    out.warning(`Could not write the job summary: ${(err as Error).message}`);
  }
}

/**
 * Sizes of what the first tag points at in the registry now, before this run pushes; undefined when there
 * is nothing (or no push, or no summary). Started early, so that it overlaps the sizes and the smoke test.
 */
export function previousSizes(push: boolean, tags: string[]): Promise<ImageSizes | undefined> | undefined {
  if (!process.env.GITHUB_STEP_SUMMARY || !push || !tags[0]) return undefined;
  return registryManifests(tags[0]).then(
    (m) => summarize(m, {}),
    (err: Error) => {
      out.debug(`no previous image at ${tags[0]}: ${err.message}`);
      return undefined;
    },
  );
}
