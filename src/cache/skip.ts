// Whether the Go caches need restoring at all. A run whose inputs are those a
// layer cache ref was exported with will take every step from that ref, so no
// step mounts the Go caches: restoring them would move tens of megabytes for
// nothing (issue 11: a no-change run was 6-9x slower than a plain cache).
// If a step runs after all (the ref's layers were pruned, a base image tag
// moved), it runs with empty Go caches: slower, never wrong, and its caches are
// saved as usual.
import * as fs from 'node:fs';
import * as core from '@actions/core';
import type { Settings } from '../settings/types.js';
import { cacheProblems, type MergedVertex } from '../build/rawjson.js';
import { contextFiles, dockerignoreText, fingerprintOf, ignorePatterns } from './fingerprint.js';
import { layerCacheRefs, refScheme } from './keys.js';
import { markerMatches, writeMarker } from './marker.js';
import { saveAllowed } from './refs.js';

type SkipSettings = Pick<
  Settings,
  'file' | 'context' | 'buildArgs' | 'target' | 'platforms' | 'flags' | 'cacheRef' | 'cacheMode' | 'workflow' | 'buildId' | 'saveOn'
>;

export interface FingerprintCheck {
  fingerprint: string;
  /** The layer cache ref whose stored fingerprint is this run's, when one is. */
  matched?: string;
  /** Why the Go caches are (not) skipped, for the log. */
  reason: string;
}

export function buildFingerprint(s: SkipSettings): string {
  return fingerprintOf({
    dockerfile: fs.readFileSync(s.file, 'utf8'),
    buildArgs: s.buildArgs,
    target: s.target,
    platforms: s.platforms,
    buildContexts: s.flags.buildContexts,
    files: contextFiles(s.context, ignorePatterns(dockerignoreText(s.context, s.file))),
  });
}

/** The fingerprint, and whether a layer cache ref this run imports was exported with it; undefined without cache-ref. */
export async function checkFingerprint(s: SkipSettings): Promise<FingerprintCheck | undefined> {
  const scheme = refScheme(s);
  if (!scheme) return undefined;
  const t0 = Date.now();
  const fingerprint = buildFingerprint(s);
  core.debug(`build fingerprint ${fingerprint} (${Date.now() - t0} ms)`);
  if (s.flags.noCache || s.flags.noCacheFilters.length > 0) return { fingerprint, reason: 'no-cache makes steps run again' };
  // mode=min exports only the final stage: the stage that runs go build is never in the layer cache.
  if (s.cacheMode !== 'max') return { fingerprint, reason: 'cache-mode: min leaves the Go stage out of the layer cache' };
  const refs = layerCacheRefs(scheme).read;
  const checks = await Promise.all(
    refs.map((r) => markerMatches(r, fingerprint).catch((err: Error) => ({ match: false, why: `${r}: ${err.message}` }))),
  );
  const hit = checks.findIndex((c) => c.match);
  for (const c of checks) core.debug(`fingerprint: ${c.why}`);
  if (hit >= 0) return { fingerprint, matched: refs[hit], reason: checks[hit].why };
  return { fingerprint, reason: checks.map((c) => c.why).join('; ') };
}

/**
 * After the build: stores the fingerprint beside the ref this run exported to, unless the export failed
 * or this run may not write caches. A failure is a warning; it only costs the next run a restore.
 */
export async function recordFingerprint(check: FingerprintCheck | undefined, s: SkipSettings, vertices: MergedVertex[]): Promise<void> {
  const scheme = refScheme(s);
  if (!check || !scheme || !saveAllowed(s).ok) return;
  if (cacheProblems(vertices).some((p) => p.kind === 'export')) return;
  const write = layerCacheRefs(scheme).write;
  try {
    // Unchanged inputs and the ref unchanged since: the stored marker is still true.
    if (check.matched === write && (await markerMatches(write, check.fingerprint)).match) return;
    await writeMarker(write, check.fingerprint);
  } catch (err) {
    core.warning(
      `Could not store the build's fingerprint beside ${write}: ${(err as Error).message}. The next run restores the Go caches.`,
    );
  }
}
