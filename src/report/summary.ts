// The job summary: one table per run. A failure here is only a warning.
import * as core from '@actions/core';
import type { CacheStats } from '../build/rawjson.js';
import { formatRate } from '../build/rawjson.js';
import type { SmokeReport } from '../smoke/index.js';
import type { ImageSizes } from './sizes.js';
import { formatBytes } from './outputs.js';

export interface SummaryData {
  platforms: string[];
  tags: string[];
  digest?: string;
  stats: CacheStats;
  sizes?: ImageSizes;
  smoke?: SmokeReport;
  buildSeconds: number;
}

export function summaryRows(d: SummaryData): string[][] {
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
    return [
      p,
      formatBytes(size?.compressed ?? null),
      formatBytes(size?.uncompressed ?? null),
      size ? String(size.layers) : 'n/a',
      smokeCell,
    ];
  });
}

export async function writeSummary(d: SummaryData): Promise<void> {
  core.summary.addHeading('go-buildx-action', 3);
  if (d.tags.length > 0) core.summary.addRaw(`Tags: ${d.tags.map((t) => `\`${t}\``).join(', ')}`, true);
  if (d.digest) core.summary.addRaw(`Digest: \`${d.digest}\``, true);
  core.summary.addRaw(
    `Build: ${d.buildSeconds.toFixed(1)} s, cache ${d.stats.hits}/${d.stats.steps} steps (${formatRate(d.stats.rate)}%)`,
    true,
  );
  core.summary.addTable([
    [
      { data: 'platform', header: true },
      { data: 'compressed', header: true },
      { data: 'unpacked', header: true },
      { data: 'layers', header: true },
      { data: 'smoke test', header: true },
    ],
    ...summaryRows(d),
  ]);
  await core.summary.write();
}
