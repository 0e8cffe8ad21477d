// When the action's own layer cache (cache-ref) is exported. Outside strict mode the build leaves that
// export out and the post step runs it, from the builder's cache: measured on a code-only change here, the
// export was 0.6-0.8 s of a 7.5 s main step, and the image, the push and the job's next steps do not need
// it (the next run does). actions/cache saves in post for the same reason. With `cache-strict` it stays in
// the build, whose failure it may then be; post never fails.
//
// A run whose fingerprint matched the very ref it writes does not export it at all when every step came
// from it. Measured on Docker 26.1 (BuildKit 0.13): re-exporting a build that took every step from the
// imported cache left one layer of the Go stage out of the new cache image (9 layers, then 8), and the
// next code change ran `go mod download` and the steps before it again.
import * as out from '../output.js';
import { Inputs } from '../constants.js';
import type { BuildxCommand } from '../buildx/command.js';
import { cacheStats, type MergedVertex } from '../imagebuild/rawjson.js';
import { reportCacheProblems } from './problems.js';
import { runBuild } from '../imagebuild/runner.js';
import type { ResolvedBuild } from '../imagebuild/resolve.js';
import { phase } from '../lifecycle.js';
import { inBackground } from '../tracked.js';
import { type SavedDoc, saveLayerExport, type SavedLayerExport } from '../state.js';
import {
  buildFingerprint,
  type FingerprintCheck,
  fingerprintRecord,
  type FingerprintRecord,
  type FingerprintSource,
  recordFingerprint,
  type SkipSettings,
} from './skip.js';
import type { SizeMemo } from './marker.js';

export interface LayerExportPlan {
  /** The argv the build runs with. */
  argv: string[];
  /** The own export was left out of the build: it runs after it (post, or in strict mode right away). */
  after: boolean;
  /** The fingerprint matched the ref the export writes: it runs only if a step ran all the same. */
  matched: boolean;
}

/**
 * Pure: the build's argv, and what is left of the own layer cache export for after it. Without a
 * fingerprint (no Go caches to restore, so none was computed) the post step could not tell whether a later
 * step changed the build context, so the build exports as before.
 */
export function layerExportPlan(
  build: Pick<ResolvedBuild, 'argv' | 'ownCache'>,
  check: FingerprintCheck | undefined,
  cacheStrict: boolean,
): LayerExportPlan {
  const own = build.ownCache;
  const matched = !!own && check?.matched === own.ref;
  if (!own || ((cacheStrict || !check) && !matched)) return { argv: build.argv, after: false, matched };
  return { argv: own.argvKeeping, after: true, matched };
}

/**
 * After the build: the own export is skipped (every step came from a matching ref), run now (strict mode),
 * or handed to the post step; the fingerprint is stored once the export it describes is done.
 */
export async function afterBuild(
  buildx: BuildxCommand,
  build: Pick<ResolvedBuild, 'ownCache'>,
  plan: LayerExportPlan,
  vertices: MergedVertex[],
  s: SkipSettings & { cacheStrict: boolean },
  check: FingerprintCheck | undefined,
): Promise<void> {
  const record = fingerprintRecord(check, s);
  const own = build.ownCache;
  const stats = cacheStats(vertices);
  if (!plan.after || !own || (plan.matched && stats.hits === stats.steps)) {
    if (own && plan.after) out.info(`Layer cache: every step came from ${own.ref}, whose fingerprint matched, so it is not exported again`);
    // Beside the gates: only the next run reads it, and endRun waits for it.
    inBackground(recordFingerprint(record, vertices));
    return;
  }
  if (plan.matched) out.info(`${stats.steps - stats.hits} step(s) ran although the fingerprint matched: ${own.ref} is exported`);
  const state: LayerExportState = {
    buildx,
    ref: own.ref,
    argv: own.exportArgv,
    metadataFile: own.exportMetadataFile,
    record,
    source: fingerprintSource(s, check?.bases ?? []),
    // layerExportPlan leaves the export to after the build only with a fingerprint.
    fingerprint: check?.fingerprint ?? '',
  };
  if (!s.cacheStrict) {
    saveLayerExport(toSaved(state));
    out.info(`Layer cache: ${own.ref} is exported in the post step (${Inputs.cacheStrict}: true exports it here)`);
    return;
  }
  const exported = await exportLayerCache(state, true);
  if (exported) inBackground(recordFingerprint(record, exported));
}

export interface LayerExportState {
  buildx: BuildxCommand;
  /** The layer cache ref it writes. */
  ref: string;
  /** `buildx build` argv of the export alone (cacheonly output, no secrets), and its metadata file. */
  argv: string[];
  metadataFile: string;
  /** Stored beside the ref once the export worked. */
  record?: FingerprintRecord;
  /** The build's fingerprint, and what it was computed from: post exports only while the context still gives it. */
  fingerprint: string;
  source: FingerprintSource;
}

/** To state.ts's plain types (state sits below this folder and knows none of its types). */
function toSaved(st: LayerExportState): SavedLayerExport {
  return { ...st, record: st.record as unknown as SavedDoc | undefined, source: st.source as unknown as SavedDoc };
}

/** What main saved, back in this folder's types (state checked the HMAC and the outer shape). */
export function layerExportFromSaved(s: SavedLayerExport): LayerExportState {
  return { ...s, record: s.record as unknown as FingerprintRecord | undefined, source: s.source as unknown as FingerprintSource };
}

/**
 * What the fingerprint was computed from, for the post step to check the build context is still the one
 * built. Only these fields go into the saved state: the settings also hold the secrets.
 */
function fingerprintSource(s: Omit<FingerprintSource, 'bases'>, bases: string[]): FingerprintSource {
  return {
    bases,
    file: s.file,
    context: s.context,
    buildArgs: s.buildArgs,
    target: s.target,
    platforms: s.platforms,
    flags: { buildContexts: s.flags.buildContexts },
  };
}

/**
 * The export build: every step comes from the builder's cache, so it runs none (it has no secrets). Its
 * vertices, or undefined when it failed (a warning; an error when `strict`).
 */
async function exportLayerCache(st: LayerExportState, strict: boolean): Promise<MergedVertex[] | undefined> {
  return phase('Export the layer cache', async () => {
    out.debug(`layer cache export argv: ${JSON.stringify(st.argv)}`);
    let exported: MergedVertex[];
    try {
      exported = (await runBuild(st.buildx, st.argv, st.metadataFile)).vertices;
    } catch (err) {
      const msg = `Exporting the layer cache to ${st.ref} failed: ${(err as Error).message}`;
      if (strict) throw new Error(`${msg} (${Inputs.cacheStrict}: true)`);
      out.warning(`${msg}. The next run will start colder.`);
      return undefined;
    }
    const stats = cacheStats(exported);
    if (stats.hits < stats.steps) out.info(`${stats.steps - stats.hits} step(s) were not in the builder's cache and ran again`);
    // Outside strict mode BuildKit only marks a failed export on its vertex (the import was reported with the build).
    reportCacheProblems(exported, strict, 'export');
    return exported;
  });
}

/**
 * The post step's export. Never throws. When a later step wrote into the build context (a coverage file,
 * generated code, a downloaded artifact), the export still runs: skipping it left the next run an old layer
 * cache. The steps that read what changed run again inside it, with the builder's warm Go cache mounts, so
 * the ref holds the context as it is now, and its marker says so.
 */
export async function exportInPost(st: LayerExportState, sizes?: SizeMemo): Promise<void> {
  try {
    const now = buildFingerprint(st.source);
    let record = st.record;
    if (now !== st.fingerprint) {
      out.info(
        `The build context changed after the build (fingerprint ${st.fingerprint}, now ${now}): the export runs again the steps that read what changed, and ${st.ref} is marked with the context as it is now`,
      );
      record = record && { ...record, fingerprint: now, matched: undefined };
    }
    const exported = await exportLayerCache(st, false);
    if (exported) await recordFingerprint(record, exported, sizes);
  } catch (err) {
    out.warning(`Exporting the layer cache failed: ${(err as Error).message}`);
  }
}
