// The pipeline as the README's "What one step does" tells it. Only bad inputs, the build, the gates
// (size budget, smoke test) and the push fail the step; optional parts warn unless asked to be strict.
import * as out from './output.js';
import { markMain } from './state.js';
import { endRun, phase, type Run, startRun } from './lifecycle.js';
import { settingsFromInputs } from './settings/parse.js';
import type { Settings } from './settings/types.js';
import { setupBuildx } from './buildx/setup.js';
import { prepareSettings, resolveBuild } from './imagebuild/resolve.js';
import { buildWithRetries } from './imagebuild/retry.js';
import { restoreGoStep } from './gocache/phases.js';
import { layerExportPlan } from './layercache/layerexport.js';
import { startFingerprintCheck } from './layercache/skip.js';
import { release } from './release.js';
import { mergeDigests } from './merge.js';
import { cleanupFromInputs } from './settings/cleanup.js';
import { runCleanup } from './cleanup/run.js';

export async function main(): Promise<void> {
  markMain();
  let run: Run | undefined;
  try {
    // The cleanup mode reads only its own inputs: its job has no checkout to find a Dockerfile in.
    const cleanup = cleanupFromInputs();
    if (cleanup) return await runCleanup(cleanup);
    const settings = settingsFromInputs();
    run = startRun();
    // The merge job is a peer of the pipeline: it makes the index from digests the build jobs pushed.
    await (settings.merge ? mergeDigests(settings, run.tempDir) : pipeline(settings, run));
  } catch (err) {
    out.fail((err as Error).message);
  } finally {
    if (run) await endRun(run);
  }
}

/** Setup, resolve, restore and build; then release.ts: the gates, the push, the summary and the proofs. */
async function pipeline(input: Settings, run: Run): Promise<void> {
  const prepared = await prepareSettings(input, run);
  // Inputs, the engine and the registry are all the fingerprint check needs: it runs beside the whole setup
  // (it never rejects: a failure is a warning where the restore reads it).
  const fingerprint = startFingerprintCheck(prepared);
  const { buildx, builder, unemulated } = await phase('Set up Buildx', () => setupBuildx(prepared, run.tempDir));
  const build = await resolveBuild(prepared, builder, run);
  const s = build.settings;
  const go = await phase('Restore Go caches', () => restoreGoStep(s, buildx, builder, run.tempDir, fingerprint));
  const layerExport = layerExportPlan(build, go.fingerprint, s.cacheStrict);
  const result = await phase(`Build ${s.platforms.join(', ')}`, () =>
    buildWithRetries(buildx, layerExport.argv, build.metadataFile, s).finally(build.disposeSecrets),
  );
  await release({ build, buildx, builder, run, unemulated, go, layerExport, result });
}
