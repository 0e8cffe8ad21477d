// The main step after the build: the build's outputs and the caches it leaves to post, then the gates (size
// budget, smoke test), and only when they pass the push, the summary and the proofs. An orchestrator, beside
// main.ts: it calls the phases and holds no logic of its own.
import * as out from './output.js';
import * as core from '@actions/core';
import { Inputs, Outputs } from './constants.js';
import { phase, type Run } from './lifecycle.js';
import type { Settings } from './settings/types.js';
import { type Builder, platformNodes } from './buildx/builder.js';
import type { ResolvedBuild } from './imagebuild/resolve.js';
import type { BuildResult } from './imagebuild/runner.js';
import type { BuildxCommand } from './buildx/command.js';
import type { GoCacheStats } from './gocache/stats.js';
import { type GoRestore, recordGoSaves } from './gocache/phases.js';
import { afterBuild, type LayerExportPlan } from './layercache/layerexport.js';
import { reportBuild } from './report/outputs.js';
import {
  enforceBudget,
  type Measured,
  readImageSizes,
  readRecordedSizes,
  recordUsable,
  reportImageSizes,
  sizesBesidePush,
  type SizesRead,
} from './report/measure.js';
import type { SizeMemo } from './layercache/marker.js';
import { previousSizes, summarySafely } from './report/summary.js';
import { failureMessage, runSmoke, SmokeError, type SmokeReport } from './smoke/test.js';
import { proveAfterPush } from './sign/proofs.js';
import { publish } from './publish/publish.js';
import { withdrawOnFailure } from './publish/withdraw.js';
import type { CacheStats } from './imagebuild/rawjson.js';

export interface BuiltImage {
  build: ResolvedBuild;
  buildx: BuildxCommand;
  builder: Builder;
  run: Run;
  /** Platforms the runner runs without QEMU. */
  unemulated: string[];
  go: GoRestore;
  layerExport: LayerExportPlan;
  result: BuildResult;
}

/** What follows a successful build. */
export async function release(b: BuiltImage): Promise<void> {
  const { build, buildx, builder, result, go } = b;
  const s = build.settings;
  await afterBuild(buildx, build, b.layerExport, result.vertices, s, go.fingerprint);
  const goStats = go.plan ? await recordGoSaves(go.plan, result.vertices, s, builder, buildx) : undefined;
  const stats = reportBuild(builder, result, s.cacheStrict);
  if (build.output.kind === 'none') {
    // call: check, outline, …: the build printed its answer; there is no image to test or push.
    out.info(`${Inputs.call}: ${s.flags.call} builds no image: no sizes, no smoke test, nothing pushed`);
    core.setOutput(Outputs.pushed, 'false');
    return;
  }
  await testAndRelease({
    s,
    build,
    buildx,
    builder,
    run: b.run,
    unemulated: b.unemulated,
    result,
    stats,
    goStats,
    digest: result.metadata?.digest,
    recordedSizes: go.fingerprint?.sizes,
  });
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
  /** The unpacked sizes the matching fingerprint's marker recorded, by layers. */
  recordedSizes?: SizeMemo;
}

/** The gates (size budget, smoke test), then the push, the summary and the proofs. */
async function testAndRelease({
  s,
  build,
  buildx,
  builder,
  run,
  unemulated,
  result,
  stats,
  goStats,
  digest,
  recordedSizes,
}: Built): Promise<void> {
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
  // Without a budget the sizes gate nothing: they are read beside the push, which leaves the image they read
  // alone, or, with no such push (push: false, a push by digest), beside the smoke test, rather than before it
  // (`docker save` and a pass over the layers: 0.3 s of a 1.5 s no-change run here). With neither, first.
  const beside = sizesBesidePush(s, build);
  const besideSmoke = !beside && s.maxImageSize === undefined && s.smoke.enabled;
  // The gates. A failure here deletes an image BuildKit already staged by digest.
  const smoke = await withdrawOnFailure(build.output, digest, async () => {
    const reading = besideSmoke ? readSizes() : undefined;
    const first = beside || besideSmoke ? undefined : await sizesPhase(readSizes());
    enforceBudget(s.maxImageSize, first, s.platforms); // nothing is pushed over budget
    const smoke = s.smoke.enabled
      ? await phase('Smoke test', () => runSmoke(s.smoke, build.output, ref, run.runKey, unemulated)).finally(() => reading)
      : undefined;
    const measured = reading ? await sizesPhase(reading) : first;
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
    // Sizes recorded for the layers this run reused are checked against the manifests once they are pushed.
    const recorded = recordUsable(recordedSizes, build.output, s.tags);
    const reading = recorded ? undefined : readSizes();
    try {
      published = await publish(build, buildx, digest, run.tempDir);
    } finally {
      const read = reading ?? (recorded && published ? readRecordedSizes(recorded, s.tags[0], published, readSizes) : readSizes());
      await summary(await sizesPhase(read), smoke);
    }
  } else if (s.push) published = await publish(build, buildx, digest, run.tempDir);
  core.setOutput(Outputs.pushed, String(s.push));
  await proveAfterPush(s, published, smoke, run.tempDir, build.byDigest);
}
