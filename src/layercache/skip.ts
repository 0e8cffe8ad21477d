// Whether the Go caches need restoring at all. A run whose inputs are those a
// layer cache ref was exported with will take every step from that ref, so no
// step mounts the Go caches: restoring them would move tens of megabytes for
// nothing (issue 11: a no-change run was 6-9x slower than a plain cache).
// The fingerprint covers the images the build starts from, and `pull: true` never skips (it may bring a
// newer base whatever the registry said a moment ago). If a step runs after all (the ref's layers were
// pruned), it runs with empty Go caches: slower, never wrong, and its caches are saved as usual.
import * as out from '../output.js';
import * as fs from 'node:fs';
import type { Settings } from '../settings/types.js';
import { cacheProblems, type MergedVertex } from '../imagebuild/rawjson.js';
import { contextFiles, dockerignoreText, fingerprintOf, ignorePatterns } from './fingerprint.js';
import { layerCacheRefs, refScheme } from '../cacherefs/keys.js';
import { type MarkerState, markerMatches, markerVerdict, readMarker, type SizeMemo, writeMarker } from './marker.js';
import { saveAllowed } from '../cacherefs/refs.js';
import { findGoCacheMounts } from '../dockerfile/gomounts.js';
import { buildArgMap } from '../dockerfile/reader.js';
import { externalImages } from '../dockerfile/bases.js';
import { baseDigests, baseLines } from './basedigests.js';

export type SkipSettings = Pick<
  Settings,
  'file' | 'context' | 'buildArgs' | 'target' | 'platforms' | 'flags' | 'cacheRef' | 'cacheMode' | 'workflow' | 'buildId' | 'saveOn'
>;

/** What the fingerprint is computed from: the settings, and what each image the build starts from was. */
export type FingerprintSource = Pick<Settings, 'file' | 'context' | 'buildArgs' | 'target' | 'platforms'> & {
  flags: Pick<Settings['flags'], 'buildContexts'>;
  bases: string[];
};

/** The fingerprint to store after the export, and the ref it goes beside. */
export interface FingerprintRecord {
  fingerprint: string;
  write: string;
  /** The ref whose stored fingerprint matched this run's, if one did. */
  matched?: string;
}

export interface FingerprintCheck {
  fingerprint: string;
  /** The base image lines it was computed with (post computes the context's part again, not these). */
  bases: string[];
  /** The layer cache ref whose stored fingerprint is this run's, when one is. */
  matched?: string;
  /** What that ref's marker recorded of the image built with it: its unpacked sizes by layers. */
  sizes?: SizeMemo;
  /** Why the Go caches are (not) skipped, for the log. */
  reason: string;
  /** Debug lines, printed by the phase that uses the check (it may run beside another phase). */
  details?: string[];
}

/** The files of the context BuildKit receives (after .dockerignore), with their content hashes. */
function sentFiles(s: Pick<Settings, 'context' | 'file'>): Record<string, string> {
  return contextFiles(s.context, ignorePatterns(dockerignoreText(s.context, s.file)));
}

export function buildFingerprint(s: FingerprintSource, files = sentFiles(s)): string {
  return fingerprintOf({
    dockerfile: fs.readFileSync(s.file, 'utf8'),
    buildArgs: s.buildArgs,
    target: s.target,
    platforms: s.platforms,
    buildContexts: s.flags.buildContexts,
    files,
    bases: s.bases,
  });
}

/** The images the Dockerfile builds from, resolved now: their lines, and those whose digest is unknown. */
async function resolveBases(s: Pick<Settings, 'file' | 'buildArgs'>): Promise<{ lines: string[]; unknown: string[] }> {
  const external = externalImages(fs.readFileSync(s.file, 'utf8'), buildArgMap(s.buildArgs));
  const bases = await baseDigests(external.images);
  const unresolved = external.unresolved.map((ref) => ({ ref, problem: 'a variable nothing sets' }));
  const unknown = [...bases.filter((b) => !b.digest), ...unresolved].map((b) => `${b.ref}: ${b.problem}`);
  return { lines: [...baseLines(bases), ...unresolved.map((u) => `${u.ref} ? -`)], unknown };
}

/** The fingerprint, and whether a layer cache ref this run imports was exported with it; undefined without cache-ref. */
export async function checkFingerprint(s: SkipSettings): Promise<FingerprintCheck | undefined> {
  const scheme = refScheme(s);
  if (!scheme) return undefined;
  const t0 = Date.now();
  const early = skipRuledOut(s);
  // The registry requests go out first, the markers too: they need no fingerprint (each is a round trip,
  // 50-150 ms on a hosted registry). The context walk runs while they are answered.
  const refs = layerCacheRefs(scheme).read;
  const reading = early
    ? []
    : refs.map((r) =>
        readMarker(r).then(
          (state): { state: MarkerState } => ({ state }),
          (err: Error) => ({ why: `${r}: ${err.message}` }),
        ),
      );
  const resolving = resolveBases(s);
  resolving.catch(() => undefined);
  const files = sentFiles(s);
  const { lines: bases, unknown } = await resolving;
  const fingerprint = buildFingerprint({ ...s, bases }, files);
  const details = [`build fingerprint ${fingerprint} (${Date.now() - t0} ms)`, ...bases.map((b) => `fingerprint base: ${b}`)];
  const fp = { fingerprint, bases, details };
  if (early) return { ...fp, reason: early };
  if (unknown.length > 0) return { ...fp, reason: `what the build starts from is not known (${unknown.join('; ')})` };
  const states = await Promise.all(reading);
  const checks = states.map((x, i) => ('state' in x ? markerVerdict(refs[i], x.state, fingerprint) : { match: false, why: x.why }));
  const hit = checks.findIndex((c) => c.match);
  details.push(...checks.map((c) => `fingerprint: ${c.why}`));
  if (hit >= 0) {
    const found = states[hit];
    const sizes = 'state' in found ? found.state.record?.sizes : undefined;
    return { ...fp, matched: refs[hit], reason: checks[hit].why, ...(sizes ? { sizes } : {}) };
  }
  return { ...fp, reason: checks.map((c) => c.why).join('; ') };
}

/** Why no run with these settings can skip the Go caches, whatever the fingerprint; undefined when one may. */
function skipRuledOut(s: SkipSettings): string | undefined {
  if (s.flags.noCache || s.flags.noCacheFilters.length > 0) return 'no-cache makes steps run again';
  if (s.cacheMode !== 'max') return 'cache-mode: min leaves the Go stage out of the layer cache';
  if (s.flags.pull) return 'pull: true may bring newer base images, so steps may run again';
  return undefined;
}

/**
 * The check started while the builder is set up (it needs only the inputs and the registry), when the
 * Go caches are on: the restore phase waits for it. Never rejects: a failure is a warning there.
 */
export function startFingerprintCheck(s: SkipSettings & Pick<Settings, 'goCache'>): Promise<FingerprintCheck | Error | undefined> {
  // Only a Dockerfile with Go cache mounts has anything to skip (restoreGoStep reads the check only then).
  if (!s.goCache.enabled || !hasGoCacheMounts(s)) return Promise.resolve(undefined);
  return checkFingerprint(s).catch((err: Error) => err);
}

function hasGoCacheMounts(s: Pick<Settings, 'file' | 'buildArgs' | 'goCache'>): boolean {
  try {
    return findGoCacheMounts(fs.readFileSync(s.file, 'utf8'), buildArgMap(s.buildArgs), s.goCache.mounts).mounts.length > 0;
  } catch {
    // An unreadable Dockerfile fails the build itself, with a clearer message than this check could give.
    return false;
  }
}

/** Where the fingerprint goes once the export worked; undefined without cache-ref or when this run may not write caches. */
export function fingerprintRecord(check: FingerprintCheck | undefined, s: SkipSettings): FingerprintRecord | undefined {
  const scheme = refScheme(s);
  if (!check || !scheme || !saveAllowed(s).ok) return undefined;
  return { fingerprint: check.fingerprint, write: layerCacheRefs(scheme).write, matched: check.matched };
}

/**
 * After the export: stores the fingerprint beside the ref it wrote, unless the export failed. A failure
 * is a warning; it only costs the next run a restore.
 */
export async function recordFingerprint(
  rec: FingerprintRecord | undefined,
  vertices: MergedVertex[],
  /** The image's unpacked sizes by layers, when main measured them before this runs (the post step's export). */
  sizes?: SizeMemo,
): Promise<void> {
  if (!rec) return;
  if (cacheProblems(vertices).some((p) => p.kind === 'export')) return;
  try {
    // Unchanged inputs and the ref unchanged since: the stored marker is still true.
    if (rec.matched === rec.write && (await markerMatches(rec.write, rec.fingerprint)).match) return;
    await writeMarker(rec.write, rec.fingerprint, sizes);
  } catch (err) {
    out.warning(
      `Could not store the build's fingerprint beside ${rec.write}: ${(err as Error).message}. The next run restores the Go caches.`,
    );
  }
}
