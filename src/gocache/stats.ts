// The Go caches explain themselves (issue 11). A step-level hit rate can read
// 90% while every package compiles from scratch, so per platform the action
// reports how long `go build` took against how long it took cold, and what the
// caches cost to carry. The cold times and the last runs' costs are kept in a
// small artifact beside the saved GOCACHE (`<ref>-stats`, registry backend),
// which the post step updates after each save.
import * as out from '../output.js';
import { durationSeconds, type MergedVertex, parseStepName, stepPlatform } from '../imagebuild/rawjson.js';
import type { CacheMount } from '../dockerfile/gomounts.js';
import { splitRef } from '../ref.js';
import { registryClient } from '../registry/client.js';
import { pushArtifact, readArtifact } from '../registry/referrer.js';
import { cacheAnnotations } from '../cacherefs/keys.js';
import { mountsCache } from './transfer.js';

const STATS_TYPE = 'application/vnd.go-buildx-action.gocache-stats.v1+json';
/** How many runs' costs are kept, and how many losing runs in a row earn a warning. */
export const STREAK = 3;

export interface RunCost {
  /** Seconds the main step spent restoring, the post step saving, and what the caches saved in `go build`. */
  restore: number;
  save: number;
  saved: number;
}

export interface GoCacheHistory {
  /** Per platform, the seconds of `go build` with nothing restored. */
  coldSeconds: Record<string, number>;
  runs: RunCost[];
}

export interface PlatformStats {
  /** This run's `go build` seconds; null when the step came from the layer cache. */
  goBuildSeconds: number | null;
  coldSeconds: number | null;
  savedSeconds: number | null;
}

export interface GoCacheStats {
  platforms: Record<string, PlatformStats>;
  /** Seconds the restored caches saved in `go build`, all platforms together (null: no cold time to compare with). */
  savedSeconds: number | null;
  restore: { seconds: number; bytes: number; skipped?: string };
}

const round = (n: number) => Math.round(n * 10) / 10;

export function statsRef(gobuildRef: string): string {
  return `${gobuildRef}-stats`;
}

/** Per platform, the seconds of the steps that ran with this GOCACHE mount (cached steps: null). */
export function goBuildSeconds(vertices: MergedVertex[], mount: CacheMount, platforms: string[]): Record<string, number | null> {
  const out: Record<string, number | null> = Object.fromEntries(platforms.map((p) => [p, null]));
  for (const v of vertices) {
    if (v.cached || !v.completed || !mountsCache(v.name, mount)) continue;
    const p = stepPlatform(parseStepName(v.name)?.label ?? '') ?? platforms[0];
    const s = durationSeconds(v);
    if (p && s !== undefined) out[p] = round((out[p] ?? 0) + s);
  }
  return out;
}

/** This run's figures against the cold times (a run that restored no GOCACHE is itself the cold one). */
export function computeStats(
  goBuild: Record<string, number | null>,
  history: GoCacheHistory | undefined,
  restore: GoCacheStats['restore'],
  restoredBuild: boolean,
): GoCacheStats {
  const platforms: Record<string, PlatformStats> = {};
  let total: number | null = null;
  for (const [p, now] of Object.entries(goBuild)) {
    const cold = restoredBuild ? (history?.coldSeconds[p] ?? null) : now;
    const saved = now !== null && cold !== null ? round(Math.max(0, cold - now)) : null;
    platforms[p] = { goBuildSeconds: now, coldSeconds: cold, savedSeconds: saved };
    if (saved !== null) total = round((total ?? 0) + saved);
  }
  return { platforms, savedSeconds: total, restore };
}

/** The history after this run: cold times kept (or set by a cold run), this run's cost appended. */
export function nextHistory(prev: GoCacheHistory | undefined, stats: GoCacheStats, saveSeconds: number): GoCacheHistory {
  const coldSeconds = { ...(prev?.coldSeconds ?? {}) };
  for (const [p, x] of Object.entries(stats.platforms)) {
    if (coldSeconds[p] === undefined && x.coldSeconds !== null) coldSeconds[p] = x.coldSeconds;
  }
  const run = { restore: round(stats.restore.seconds), save: round(saveSeconds), saved: stats.savedSeconds ?? 0 };
  return { coldSeconds, runs: [...(prev?.runs ?? []), run].slice(-STREAK) };
}

/** A warning when each of the last STREAK runs spent more carrying the caches than they saved. */
export function losingStreak(history: GoCacheHistory | undefined): string | undefined {
  const runs = history?.runs ?? [];
  if (runs.length < STREAK || !runs.every((r) => r.restore + r.save > r.saved)) return undefined;
  const each = runs.map((r) => `restore ${r.restore}s + save ${r.save}s against ${r.saved}s saved`).join('; ');
  return `The Go caches cost more than they saved in each of the last ${STREAK} runs (${each}). Consider go-cache: false, or a smaller go-cache-max-size.`;
}

export async function readHistory(gobuildRef: string): Promise<GoCacheHistory | undefined> {
  const { repository, tag } = splitRef(statsRef(gobuildRef));
  const blob = await readArtifact(await registryClient(repository, 'pull'), tag ?? '', STATS_TYPE);
  return blob ? (JSON.parse(blob.toString('utf8')) as GoCacheHistory) : undefined;
}

export async function writeHistory(gobuildRef: string, history: GoCacheHistory): Promise<void> {
  const { repository, tag } = splitRef(statsRef(gobuildRef));
  const blob = Buffer.from(JSON.stringify(history));
  await pushArtifact(await registryClient(repository), STATS_TYPE, blob, cacheAnnotations(), { tag });
  out.debug(`Go cache history at ${statsRef(gobuildRef)}: ${blob.toString('utf8')}`);
}
