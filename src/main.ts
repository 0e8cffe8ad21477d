// The pipeline as the README's "What one step does" tells it. Only bad inputs, the build, the gates
// (size budget, smoke test) and the push fail the step; optional parts warn unless asked to be strict.
import * as out from './output.js';
import * as core from '@actions/core';
import { Inputs, Outputs } from './constants.js';
import { markMain } from './state.js';
import { endRun, phase, type Run, startRun } from './lifecycle.js';
import { settingsFromInputs } from './settings/parse.js';
import type { Settings } from './settings/types.js';
import { setupBuildx } from './buildx/setup.js';
import { type Builder, platformNodes } from './buildx/builder.js';
import { prepareSettings, type ResolvedBuild, resolveBuild } from './build/resolve.js';
import type { BuildResult } from './build/runner.js';
import type { CacheStats } from './build/rawjson.js';
import type { BuildxCommand } from './buildx/command.js';
import type { GoCacheStats } from './cache/stats.js';
import { buildWithRetries } from './build/retry.js';
import { recordGoSaves, restoreGoStep } from './cache/phases.js';
import { afterBuild, layerExportPlan } from './cache/layerexport.js';
import { startFingerprintCheck } from './cache/skip.js';
import { reportBuild } from './report/outputs.js';
import { enforceBudget, type Measured, readImageSizes, reportImageSizes, sizesBesidePush, type SizesRead } from './report/measure.js';
import { previousSizes, summarySafely } from './report/summary.js';
import { failureMessage, runSmoke, SmokeError, type SmokeReport } from './smoke/test.js';
import { proveAfterPush } from './sign/proofs.js';
import { publish } from './publish/publish.js';
import { mergeDigests } from './publish/merge.js';
import { withdrawOnFailure } from './publish/withdraw.js';

export async function main(): Promise<void> {
  markMain();
  let run: Run | undefined;
  try {
    const settings = settingsFromInputs();
    run = startRun();
    await (settings.merge ? mergeDigests(settings, run.tempDir) : pipeline(settings, run));
  } catch (err) {
    out.fail((err as Error).message);
  } finally {
    if (run) await endRun(run);
  }
}

async function pipeline(input: Settings, run: Run): Promise<void> {
  const prepared = await prepareSettings(input, run);
  // Inputs and the registry are all the fingerprint check needs: it runs beside the builder setup.
  let fingerprint: ReturnType<typeof startFingerprintCheck> | undefined;
  const { buildx, builder, unemulated } = await phase('Set up Buildx', () =>
    setupBuildx(prepared, run.tempDir, () => (fingerprint = startFingerprintCheck(prepared))),
  );
  const build = await resolveBuild(prepared, builder, run);
  const s = build.settings;
  const go = await phase('Restore Go caches', () => restoreGoStep(s, buildx, builder, run.tempDir, fingerprint));
  const layerExport = layerExportPlan(build, go.fingerprint, s.cacheStrict);
  const result = await phase(`Build ${s.platforms.join(', ')}`, () =>
    buildWithRetries(buildx, layerExport.argv, build.metadataFile, s).finally(build.disposeSecrets),
  );
  await afterBuild(buildx, build, layerExport, result.vertices, s, go.fingerprint);
  const goStats = go.plan ? await recordGoSaves(go.plan, result.vertices, s, builder, buildx) : undefined;
  const stats = reportBuild(builder, result, s.cacheStrict);
  const digest = result.metadata?.digest;
  if (build.output.kind === 'none') {
    // call: check, outline, …: the build printed its answer; there is no image to test or push.
    out.info(`${Inputs.call}: ${s.flags.call} builds no image: no sizes, no smoke test, nothing pushed`);
    core.setOutput(Outputs.pushed, 'false');
    return;
  }
  await testAndRelease({ s, build, buildx, builder, run, unemulated, result, stats, goStats, digest });
}

interface Built {
  s: Settings;
  build: ResolvedBuild;
  buildx: BuildxCommand;
  builder: Builder;
  run: Run;
  unemulated: string[];
  result: BuildResult;
  stats: CacheStats;
  goStats?: GoCacheStats;
  digest?: string;
}

/** The gates (size budget, smoke test), then the push, the summary and the proofs. */
async function testAndRelease({ s, build, buildx, builder, run, unemulated, result, stats, goStats, digest }: Built): Promise<void> {
  const ref = build.refToTest(digest);
  const previous = previousSizes(s.push, s.tags);
  const summary = (measured: Measured | undefined, smoke: SmokeReport | undefined) =>
    summarySafely(
      {
        ...s,
        digest,
        stats,
        vertices: result.vertices,
        buildSeconds: result.seconds,
        sizes: measured?.sizes,
        smoke,
        goCache: goStats,
        nodes: platformNodes(builder, s.platforms),
      },
      previous,
    );
  const readSizes = () => readImageSizes(buildx, build.output, ref, digest, run, s.platforms);
  const sizesPhase = (reading: Promise<SizesRead>) => phase('Image sizes', async () => reportImageSizes(await reading, s.platforms));
  // Without a budget the sizes gate nothing: they are read beside the push, which leaves the image they read alone.
  const beside = sizesBesidePush(s, build);
  // The gates. A failure here deletes an image BuildKit already staged by digest.
  const smoke = await withdrawOnFailure(build.output, digest, async () => {
    const measured = beside ? undefined : await sizesPhase(readSizes());
    enforceBudget(s.maxImageSize, measured, s.platforms); // nothing is pushed over budget
    const smoke = s.smoke.enabled
      ? await phase('Smoke test', () => runSmoke(s.smoke, build.output, ref, run.runKey, unemulated))
      : undefined;
    if (smoke && !smoke.passed) {
      await summary(measured ?? (await sizesPhase(readSizes())), smoke);
      throw new SmokeError(failureMessage(smoke));
    }
    if (!beside) await summary(measured, smoke);
    return smoke;
  });
  // What the registry holds is what gets signed: the build's digest, but for the classic store's image ID.
  let published = digest;
  if (beside) {
    const reading = readSizes();
    try {
      published = await publish(build, buildx, digest, run.tempDir);
    } finally {
      await summary(await sizesPhase(reading), smoke);
    }
  } else if (s.push) published = await publish(build, buildx, digest, run.tempDir);
  core.setOutput(Outputs.pushed, String(s.push));
  await proveAfterPush(s, published, smoke, run.tempDir, build.byDigest);
}
