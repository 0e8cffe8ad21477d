// `cache-cleanup: true`: deletes whole cache scopes from the cache-ref repository (a closed pull request's, a
// deleted branch's, those this repository has not written for a while), and on ghcr.io the untagged versions
// the cache's overwrites left. Where the registry refuses, the log says what is left and why; that is a
// warning unless cache-strict.
import * as core from '@actions/core';
import * as out from '../output.js';
import { Outputs } from '../constants.js';
import { registryOf } from '../ref.js';
import { type RegistryClient, registryClient } from '../registry/client.js';
import { sha256 } from '../registry/oci.js';
import { pushArtifact } from '../registry/referrer.js';
import { cacheAnnotations } from '../cacherefs/keys.js';
import type { OciManifest } from '../registry/oci.js';
import type { CleanupSettings } from '../settings/cleanup.js';
import { formatBytes } from '../settings/values.js';
import { PackagesApi, packageOf } from './packages.js';
import { type Kept, type PackageVersion, selectTags, type Selection, untaggedCandidates } from './select.js';
import { isCacheManifest, parseCacheTag, tagRecord, type TagRecord } from './cachetags.js';
import { cleanupGhaEntries, type GhaDeleted } from './gha.js';

/** What a placeholder that takes a tag away from a shared manifest carries (see pointAway). */
const PLACEHOLDER_TYPE = 'application/vnd.go-buildx-action.deleted-tag.v1+json';
/** An untagged version younger than this may still be read by a job that resolved its tag just before. */
export const UNTAGGED_GRACE_MS = 24 * 3_600_000;
/** Untagged manifests read per run to tell cache manifests from anything else; the rest wait for the next run. */
const UNTAGGED_PER_RUN = 500;

export interface CleanupResult {
  backend: 'github-packages' | 'registry';
  scopes: { scope: string; why: string }[];
  /** Tags deleted (or, with dry run, that would be). */
  deleted: string[];
  untagged: number;
  kept: Kept[];
  dryRun: boolean;
  /** Why some of what was chosen is still there. */
  problems: string[];
  /** actions/cache entries deleted (or, with dry run, that would be), with go-cache-backend: gha. */
  ghaEntries: GhaDeleted[];
}

/** ghcr.io, and a GitHub Enterprise Server's `containers.<host>`: their deletes go through the Packages API. */
export function backendFor(s: Pick<CleanupSettings, 'api' | 'cacheRef' | 'workflow'>): 'github-packages' | 'registry' {
  if (s.api !== 'auto') return s.api;
  const host = registryOf(s.cacheRef.repository).host;
  const server = new URL(s.workflow.serverUrl).host;
  return host === 'ghcr.io' || host === `containers.${server}` ? 'github-packages' : 'registry';
}

async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

/** Each cache tag with its digest, and for the tags the action writes itself, who wrote it and when. */
async function readTags(client: RegistryClient, prefix: string): Promise<TagRecord[]> {
  const parsed = (await client.tags()).map((t) => parseCacheTag(prefix, t)).filter((t) => t !== undefined);
  const records = await pool(parsed, 8, async (t): Promise<TagRecord | undefined> => {
    if (t.kind === 'layer') {
      const digest = await client.manifestDigest(t.tag);
      return digest ? tagRecord(t, digest) : undefined;
    }
    const raw = await client.manifestRaw(t.tag);
    if (!raw) return undefined;
    return tagRecord(t, sha256(raw.body), JSON.parse(raw.body.toString('utf8')) as OciManifest);
  });
  return records.filter((r) => r !== undefined);
}

async function isCacheDigest(client: RegistryClient, digest: string): Promise<boolean> {
  const raw = await client.manifestRaw(digest);
  return raw !== undefined && isCacheManifest(JSON.parse(raw.body.toString('utf8')) as OciManifest);
}

export async function cleanupCache(s: CleanupSettings, now = new Date()): Promise<CleanupResult> {
  const { repository, tag: prefix } = s.cacheRef;
  const backend = backendFor(s);
  // Deleting is the registry API's only on the registry backend; ghcr.io's token service is asked for no more
  // than it grants (the Packages API deletes there).
  const client = await registryClient(repository, backend === 'registry' ? 'pull,push,delete' : 'pull,push');
  const records = await readTags(client, prefix);
  const selection = selectTags(records, {
    scopes: s.scopes,
    olderThanMs: s.olderThanMs,
    now,
    keepScopes: [s.workflow.defaultScope],
    repository: s.workflow.repository.toLowerCase(),
  });
  out.debug(
    `cleanup of ${repository} (${prefix}-…, ${backend}): ${records.length} cache tag(s), rules ${JSON.stringify(s.scopes)} older than ${s.olderThanMs ?? 'off'} ms`,
  );
  const result: CleanupResult = {
    backend,
    scopes: selection.scopes,
    deleted: [],
    untagged: 0,
    kept: selection.kept,
    dryRun: s.dryRun,
    problems: [],
    ghaEntries: [],
  };
  describe(repository, records.length, selection, s.dryRun);
  if (backend === 'registry') await deleteThroughRegistry(client, selection, result);
  else await deleteThroughPackages(client, s, selection, result, now);
  return result;
}

function describe(repository: string, total: number, sel: Selection, dryRun: boolean): void {
  const verb = dryRun ? 'would delete' : 'deletes';
  if (sel.scopes.length === 0) out.info(`${repository}: ${total} cache tag(s); no scope to delete`);
  for (const { scope, why } of sel.scopes) {
    const tags = sel.delete.filter((t) => t.scope === scope).map((t) => t.tag);
    out.info(`Scope ${scope} (${why}): ${verb} ${tags.length} tag(s): ${tags.join(', ')}`);
  }
  for (const k of sel.kept) out.info(`Kept ${k.tag}: ${k.why}`);
}

/**
 * Removes a tag alone, leaving the manifest it names, which a kept tag also names (scopes whose layer caches
 * are identical share one manifest). Distribution answers a DELETE of a tag with 400 DIGEST_INVALID, and
 * OCI 1.1's tag delete is not everywhere, so the tag is pointed at a placeholder of its own, which is then
 * deleted by digest. Returns the placeholder's digest.
 */
async function pointAway(client: RegistryClient, tag: string): Promise<string> {
  const blob = Buffer.from(JSON.stringify({ deleted: tag, at: new Date().toISOString() }));
  return (await pushArtifact(client, PLACEHOLDER_TYPE, blob, cacheAnnotations(), { tag })).digest;
}

const NOTHING = `sha256:${'0'.repeat(64)}`;

/** False, with the problem recorded, when the registry answered that it does not delete at all. */
function deletesAllowed(r: { status: number; detail: string }, result: CleanupResult): boolean {
  if (r.status !== 405 && !/UNSUPPORTED/.test(r.detail)) return true;
  result.problems.push(
    `the registry refuses deletes (${r.status}${r.detail ? ` ${r.detail}` : ''}); nothing was deleted. ` +
      'Turn deletes on (distribution: storage.delete.enabled), or use its own retention policy',
  );
  return false;
}

/** Distribution and most registries: the manifest DELETE, which takes every tag naming that manifest. */
async function deleteThroughRegistry(client: RegistryClient, sel: Selection, result: CleanupResult): Promise<void> {
  // Whether deletes are on, before any tag is pointed away: a manifest that is not there answers 404 where
  // they are, and 405 where they are not.
  if (sel.delete.length > 0 && !result.dryRun && !deletesAllowed(await client.deleteManifest(NOTHING), result)) return;
  for (const [digest, tags] of groupByDigest(sel.delete)) {
    if (result.dryRun) {
      result.deleted.push(...tags);
      continue;
    }
    const keptTag = sel.shared.get(digest);
    const targets = keptTag
      ? await Promise.all(tags.map(async (t) => ({ digest: await pointAway(client, t), tags: [t] })))
      : [{ digest, tags }];
    for (const target of targets) {
      const r = await client.deleteManifest(target.digest);
      if (r.deleted || r.status === 404) {
        result.deleted.push(...target.tags);
        continue;
      }
      if (!deletesAllowed(r, result)) return;
      result.problems.push(`${target.tags.join(', ')} stay: the registry answered ${r.status} ${r.detail}`);
    }
  }
}

function groupByDigest(tags: TagRecord[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const t of tags) m.set(t.digest, [...(m.get(t.digest) ?? []), t.tag]);
  return m;
}

/** ghcr.io: a version is a manifest with all its tags, deleted through the Packages API. */
async function deleteThroughPackages(
  client: RegistryClient,
  s: CleanupSettings,
  sel: Selection,
  result: CleanupResult,
  now: Date,
): Promise<void> {
  if (!s.github) {
    result.problems.push('github-token is empty, and deleting from GitHub Packages needs it');
    return;
  }
  const api = new PackagesApi(s.github, packageOf(registryOf(s.cacheRef.repository).path));
  const versions = await api.versions();
  const byDigest = new Map(versions.map((v) => [v.digest, v]));
  const deleting = new Set(sel.delete.map((t) => t.tag));
  const chosen: PackageVersion[] = [];
  const alone: string[] = [];
  for (const [digest, tags] of groupByDigest(sel.delete)) {
    const v = byDigest.get(digest);
    if (!v) {
      result.problems.push(`${tags.join(', ')} stay: the Packages API lists no version ${digest}`);
      continue;
    }
    // A version that a kept tag also names: only these tags go (pointAway), the version stays.
    if (v.tags.some((t) => !deleting.has(t))) alone.push(...tags);
    else chosen.push(v);
  }
  if (alone.length > 0 && !s.dryRun) {
    const placeholders = new Set(await Promise.all(alone.map((t) => pointAway(client, t))));
    chosen.push(...(await api.versions()).filter((v) => placeholders.has(v.digest)));
  } else if (alone.length > 0) result.deleted.push(...alone);
  let untagged: PackageVersion[] = [];
  if (s.untagged) {
    const candidates = untaggedCandidates(versions, now, UNTAGGED_GRACE_MS).slice(0, UNTAGGED_PER_RUN);
    const isCache = await pool(candidates, 8, (v) => isCacheDigest(client, v.digest).catch(() => false));
    untagged = candidates.filter((_, i) => isCache[i]);
    out.info(
      `${untagged.length} untagged version(s) older than a day that the cache's overwrites left ${s.dryRun ? 'would be' : 'are'} deleted`,
    );
  }
  if (s.dryRun) {
    result.deleted.push(...chosen.flatMap((v) => v.tags));
    result.untagged = untagged.length;
    return;
  }
  for (const v of [...chosen, ...untagged]) {
    try {
      await api.deleteVersion(v.id);
    } catch (err) {
      result.problems.push(`${(err as Error).message}; what was not deleted yet stays`);
      return;
    }
    if (v.tags.length > 0) result.deleted.push(...v.tags);
    else result.untagged++;
  }
}

/**
 * The cleanup mode's step: the deletion in a group, its result as the `cache-cleanup-result` output, and what is
 * left as a warning (an error with cache-strict: true).
 */
export async function runCleanup(s: CleanupSettings): Promise<void> {
  const result = await out.group(`Clean up ${s.cacheRef.repository}`, async () => {
    let r: CleanupResult;
    try {
      r = await cleanupCache(s);
    } catch (err) {
      r = { ...EMPTY, backend: backendFor(s), dryRun: s.dryRun, problems: [(err as Error).message] };
    }
    // The registry's failure does not keep the actions/cache entries: they are another store.
    const gha = await cleanupGhaEntries(s);
    return { ...r, ghaEntries: gha.deleted, problems: [...r.problems, ...gha.problems] };
  });
  core.setOutput(Outputs.cleanupResult, JSON.stringify(result));
  const done = result.dryRun ? 'would delete' : 'deleted';
  out.info(
    `Cleanup of ${s.cacheRef.repository} (${result.backend}): ${done} ${result.deleted.length} tag(s) in ${result.scopes.length} scope(s)` +
      (result.backend === 'github-packages' ? ` and ${result.untagged} untagged version(s)` : '') +
      (s.gha ? `; actions/cache: ${done} ${result.ghaEntries.length} entr(ies)` : ''),
  );
  try {
    await core.summary.addRaw(summaryMarkdown(s.cacheRef.repository, result)).write();
  } catch (err) {
    out.warning(`The job summary could not be written: ${(err as Error).message}`);
  }
  if (result.problems.length === 0) return;
  const text = `The cleanup left part of what it chose: ${result.problems.join('; ')}`;
  if (s.strict) throw new Error(`${text} (cache-strict: true)`);
  out.warning(text);
}

/** The job summary: each scope, why it went, how many tags; what stayed and why. Tags are [a-z0-9._-] only. */
export function summaryMarkdown(repository: string, r: CleanupResult): string {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const rows = r.scopes.map(
    ({ scope, why }) =>
      `| \`${scope}\` | ${why} | ${r.deleted.filter((t) => t.endsWith(`-${scope}`) || t.includes(`-${scope}-`)).length} |`,
  );
  return [
    `### go-buildx-action: cache cleanup of \`${repository}\``,
    '',
    `Through ${r.backend === 'registry' ? "the registry's manifest DELETE" : 'the GitHub Packages API'}: ${verb} ${r.deleted.length} tag(s)` +
      (r.backend === 'github-packages' ? ` and ${r.untagged} untagged version(s)` : '') +
      '.',
    '',
    ...(rows.length > 0 ? ['| scope | why | tags |', '| --- | --- | --- |', ...rows, ''] : ['No scope to delete.', '']),
    ...(r.kept.length > 0
      ? [`Kept: ${r.kept.length} tag(s) of those scopes (another repository's, or with no record of who wrote them).`, '']
      : []),
    ...(r.ghaEntries.length > 0
      ? [
          `actions/cache: ${verb} ${r.ghaEntries.length} entr(ies), ${formatBytes(r.ghaEntries.reduce((n, e) => n + e.bytes, 0))}, in scope(s) ${[...new Set(r.ghaEntries.map((e) => `\`${e.scope}\``))].join(', ')}.`,
          '',
        ]
      : []),
    ...(r.problems.length > 0 ? ['Left behind:', '', ...r.problems.map((p) => `- ${p.replace(/</g, '&lt;')}`), ''] : []),
  ].join('\n');
}

const EMPTY: Omit<CleanupResult, 'backend' | 'dryRun' | 'problems'> = { scopes: [], deleted: [], untagged: 0, kept: [], ghaEntries: [] };
