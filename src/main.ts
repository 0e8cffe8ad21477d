// The pipeline as the README's "What one step does" tells it. Only bad inputs, the build, the gates
// (size budget, smoke test) and the push fail the step; optional parts warn unless asked to be strict.
import * as core from '@actions/core';
import { Inputs, Outputs } from './constants.js';
import { markMain } from './state.js';
import { endRun, phase, type Run, startRun } from './lifecycle.js';
import { settingsFromInputs } from './settings/parse.js';
import type { Settings } from './settings/types.js';
import { setupBuildx } from './buildx/setup.js';
import { platformNodes } from './buildx/builder.js';
import { resolveBuild } from './build/resolve.js';
import { buildWithRetries } from './build/retry.js';
import { recordGoSaves, restoreGoStep } from './cache/phases.js';
import { recordFingerprint } from './cache/skip.js';
import { buildArgvFor, exportIfStepsRan } from './cache/layerexport.js';
import { inBackground } from './tracked.js';
import { reportBuild } from './report/outputs.js';
import { enforceBudget, measureImage } from './report/measure.js';
import { previousSizes, summarySafely } from './report/summary.js';
import { failureMessage, runSmoke, SmokeError } from './smoke/test.js';
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
    await (settings.merge ? mergeDigests(settings) : pipeline(settings, run));
  } catch (err) {
    core.setFailed((err as Error).message);
  } finally {
    if (run) await endRun(run);
  }
}

async function pipeline(input: Settings, run: Run): Promise<void> {
  const { buildx, builder, unemulated } = await phase('Set up Buildx', () => setupBuildx(input, run.tempDir));
  const build = await resolveBuild(input, builder, run);
  const s = build.settings;
  const go = await phase('Restore Go caches', () => restoreGoStep(s, buildx, builder, run.tempDir));
  const { argv, kept } = buildArgvFor(build, go.fingerprint);
  const result = await phase(`Build ${s.platforms.join(', ')}`, () =>
    buildWithRetries(buildx, argv, build.metadataFile, s).finally(build.disposeSecrets),
  );
  const exported = kept ? await exportIfStepsRan(buildx, build, result.vertices, s.cacheStrict) : {};
  const goStats = go.plan ? await recordGoSaves(go.plan, result.vertices, s, builder, buildx) : undefined;
  // Beside the gates: only the next run reads it, and endRun waits for it.
  if (!exported.failed) inBackground(recordFingerprint(go.fingerprint, s, exported.vertices ?? result.vertices));
  const stats = reportBuild(builder, result, s.cacheStrict);
  const digest = result.metadata?.digest;
  if (build.output.kind === 'none') {
    // call: check, outline, …: the build printed its answer; there is no image to test or push.
    core.info(`${Inputs.call}: ${s.flags.call} builds no image: no sizes, no smoke test, nothing pushed`);
    core.setOutput(Outputs.pushed, 'false');
    return;
  }
  const ref = build.refToTest(digest);
  const previous = previousSizes(s.push, s.tags);
  // The gates. A failure here deletes an image BuildKit already staged by digest.
  const smoke = await withdrawOnFailure(build.output, digest, async () => {
    const measured = await phase('Image sizes', () => measureImage(buildx, build.output, ref, digest, run, s.platforms));
    enforceBudget(s.maxImageSize, measured, s.platforms); // nothing is pushed over budget
    const smoke = s.smoke.enabled
      ? await phase('Smoke test', () => runSmoke(s.smoke, build.output, ref, run.runKey, unemulated))
      : undefined;
    await summarySafely(
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
    if (smoke && !smoke.passed) throw new SmokeError(failureMessage(smoke));
    return smoke;
  });
  if (s.push) await publish(build, buildx, digest, run.tempDir);
  core.setOutput(Outputs.pushed, String(s.push));
  await proveAfterPush(s, digest, smoke, run.tempDir);
}
