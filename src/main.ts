// The pipeline: settings → set up Buildx → build → sizes → smoke test → push → report.
// Only bad inputs, the build, the smoke test and the push fail the step;
// optional parts (cache import/export, sizes, summary) warn unless strict mode
// asks otherwise.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { Inputs, NETRC_SECRET_ID, Outputs } from './constants.js';
import { run, signalChildren } from './exec.js';
import { buildWithRetries } from './build/retry.js';
import { parseSettings } from './settings/parse.js';
import { type Settings } from './settings/types.js';
import { repositoryOf } from './ref.js';
import type { BuildxCommand } from './buildx/command.js';
import { markMain, saveCreatedBuilder, saveEngineImage, saveGoCacheState, saveRunKey, saveTempDir } from './state.js';
import { resolveBuildx } from './buildx/install.js';
import { prepareBuilder } from './buildx/builder.js';
import { ensureQemu, nativePlatform } from './setup/qemu.js';
import { cacheEntries, saveAllowed } from './cache/refs.js';
import { restoreGoStep } from './cache/phases.js';
import { decideSaves, KIND_LABEL } from './cache/transfer.js';
import { buildArgs, chooseOutput, hasGate, type OutputMode } from './build/args.js';
import { pushTags, tagStaged } from './publish/push.js';
import { cacheProblems, cacheStats, formatRate, type MergedVertex } from './build/rawjson.js';
import { formatBytes, setBuildOutputs, setSizeOutputs } from './report/outputs.js';
import { writeSummary } from './report/summary.js';
import { budgetMessage, budgetViolations, unmeasured, unmeasuredMessage } from './report/budget.js';
import { headlinePlatform, type ImageSizes, manifestsFromRegistry, measureSizes, summarize } from './report/sizes.js';
import { failureMessage, resultJson, type SmokeReport, smokeTest, SmokeError } from './smoke/test.js';
import { removeRunContainers } from './smoke/container.js';
import { resolveTagsAndLabels } from './publish/tags.js';
import { useBuiltinDockerfile } from './dockerfile/builtin.js';
import { annotateLint } from './dockerfile/lint.js';
import { mergeDigests } from './publish/merge.js';
import { pushEngineImageByDigest } from './publish/registry.js';

export async function main(): Promise<void> {
  markMain();
  let settings: Settings;
  try {
    // Secret inputs are masked inside, before anything is checked or could be printed.
    settings = parseSettings(
      (name) => core.getInput(name),
      process.env,
      (value) => core.setSecret(value),
    );
  } catch (err) {
    core.setFailed((err as Error).message);
    return;
  }

  const tempDir = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'go-buildx-'));
  saveTempDir(tempDir);
  const runKey = crypto.randomUUID();
  saveRunKey(runKey);
  onCancel(tempDir, runKey);
  try {
    const meta = await resolveTagsAndLabels(settings);
    settings = meta.settings;
    if (settings.merge) await mergeDigests(settings);
    else await pipeline(useBuiltinDockerfile(settings, tempDir, meta.version), tempDir, runKey);
  } catch (err) {
    core.setFailed((err as Error).message);
  } finally {
    // Secret files must not outlive the build, whatever happens next.
    fs.rmSync(path.join(tempDir, 'secrets'), { recursive: true, force: true });
    await removeRunContainers(runKey).catch(() => undefined);
  }
}

/**
 * On cancellation (the runner sends SIGINT, then SIGTERM), stop the buildx
 * client so the build stops too, remove the secret files at once, and leave
 * the rest (containers, builder, temp dir) to the post step.
 */
function onCancel(tempDir: string, runKey: string): void {
  const handler = (signal: NodeJS.Signals) => {
    const n = signalChildren('SIGINT');
    fs.rmSync(path.join(tempDir, 'secrets'), { recursive: true, force: true });
    core.setFailed(`Cancelled by ${signal}; stopped ${n} running command(s). The post step removes what this run started.`);
    const exit = () => process.exit(signal === 'SIGINT' ? 130 : 143);
    // Give the containers a moment to go, but never hang a cancelled job.
    void removeRunContainers(runKey).finally(exit);
    setTimeout(exit, 5000).unref();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

async function pipeline(input: Settings, tempDir: string, runKey: string): Promise<void> {
  let settings = input;
  annotateLint(settings);

  const { buildx, builder } = await core.group('Set up Buildx', async () => {
    const bx = await resolveBuildx(settings);
    core.info(`buildx ${bx.version}${bx.installed ? ` (installed at ${bx.command.cmd})` : ''}`);
    const smokePlatforms = settings.smoke.enabled ? (settings.smoke.platforms ?? settings.platforms) : [];
    await ensureQemu([...new Set([...settings.platforms, ...smokePlatforms])], settings.qemuImage);
    const b = await prepareBuilder(settings, bx.command, (name) => saveCreatedBuilder(name, bx.command));
    core.info(`builder ${b.name} (driver ${b.driver}, BuildKit ${b.buildkitVersion ?? 'unknown'}), platforms ${b.platforms.join(', ')}`);
    return { buildx: bx.command, builder: b };
  });

  const byDigest = settings.pushByDigest ? (settings.image ?? repositoryOf(settings.tags[0])) : undefined;
  if (byDigest && builder.driver === 'docker') {
    // The docker driver cannot push by digest: the engine keeps the image under
    // a local tag that is never pushed, and build/pushdigest.ts uploads it by digest after the smoke test.
    settings = { ...settings, tags: [`${byDigest}:go-buildx-${runKey.slice(0, 8)}`] };
    saveEngineImage(settings.tags[0]);
  }

  const secretsDir = path.join(tempDir, 'secrets');
  fs.mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const secrets = [...settings.secrets, ...(settings.goNetrc ? [{ id: NETRC_SECRET_ID, value: settings.goNetrc }] : [])];
  const secretFiles = secrets.map((s, i) => {
    const p = path.join(secretsDir, `secret-${i}`);
    fs.writeFileSync(p, s.value, { mode: 0o600 });
    return { id: s.id, path: p };
  });
  // GOPRIVATE is not a secret; the credentials for it travel as the netrc secret.
  const buildSettings =
    settings.goPrivate && !settings.buildArgs.some((a) => a.startsWith('GOPRIVATE='))
      ? { ...settings, buildArgs: [...settings.buildArgs, `GOPRIVATE=${settings.goPrivate}`] }
      : settings;

  const metadataFile = path.join(tempDir, 'metadata.json');
  const output = chooseOutput(
    builder.driver,
    settings.push,
    hasGate(settings),
    settings.tags,
    path.join(tempDir, 'image-oci.tar'),
    byDigest,
  );
  const cache = cacheEntries(settings);
  const argv = buildArgs({
    builder: builder.name,
    driver: builder.driver,
    settings: buildSettings,
    cache,
    secretFiles,
    metadataFile,
    output,
  });
  core.debug(`output: ${JSON.stringify(output)}`);
  core.debug(`cache entries: ${JSON.stringify(cache)}`);
  core.debug(`buildx build argv: ${JSON.stringify(argv)}`);

  const goPlan = await core.group('Restore Go caches', () => restoreGoStep(settings, buildx, builder, tempDir));

  const result = await core.group(`Build ${settings.platforms.join(', ')}`, () => buildWithRetries(buildx, argv, metadataFile, settings));
  if (goPlan) {
    // The post step saves what this build added to the cache mounts.
    const decided = decideSaves(goPlan, result.vertices, saveAllowed(settings));
    for (const e of decided.entries)
      core.info(
        `${KIND_LABEL[e.kind]}: ${e.save ? `will be saved in the post step to ${e.write.join(', ')}` : `no save (${e.skipReason})`}`,
      );
    saveGoCacheState({ plan: decided, builder: builder.name, driver: builder.driver, buildx });
  }
  const stats = cacheStats(result.vertices);
  core.info(`Built in ${result.seconds.toFixed(1)}s; cache: ${stats.hits}/${stats.steps} Dockerfile steps (${formatRate(stats.rate)}%)`);
  setBuildOutputs(builder, stats, result.metadata);

  for (const p of cacheProblems(result.vertices)) {
    if (p.missing) {
      // The first run of a branch or a new cache-ref: nothing to import yet.
      core.info(`No layer cache yet at ${p.vertex.replace(/^importing cache manifest from /, '')}: a cold start`);
      continue;
    }
    const msg = `Cache ${p.kind} failed (${p.vertex}): ${p.error}`;
    if (settings.cacheStrict) throw new Error(`${msg} (${Inputs.cacheStrict}: true)`);
    core.warning(`${msg}. The build went on${p.kind === 'import' ? ' without that cache' : '; the next run will start colder'}.`);
  }

  const digest = result.metadata?.digest;
  // What the smoke test runs and the sizes are read from.
  const localRef = output.kind === 'stage' ? (digest ? `${output.repository}@${digest}` : undefined) : (settings.tags[0] ?? digest);

  const measured = await core.group('Image sizes', async () => {
    try {
      const m = await measureSizes(buildx, output, localRef, digest, tempDir, runKey, settings.platforms);
      if (!m) return undefined;
      setSizeOutputs(m.sizes, headlinePlatform(m.sizes, settings.platforms, nativePlatform()));
      for (const [platform, x] of Object.entries(m.sizes)) {
        core.info(`${platform}: ${formatBytes(x.compressed)} compressed, ${formatBytes(x.uncompressed)} unpacked, ${x.layers} layers`);
      }
      return m;
    } catch (err) {
      core.warning(`Could not measure image sizes: ${(err as Error).message}`);
      return undefined;
    }
  });
  const sizes = measured?.sizes;
  if (settings.maxImageSize !== undefined) {
    // The user asked for a budget: an image whose size is unknown is not pushed.
    const unknown = unmeasured(measured?.sizes, settings.platforms);
    if (!measured || unknown.length > 0) throw new Error(unmeasuredMessage(unknown.length > 0 ? unknown : settings.platforms));
    const over = budgetViolations(measured.sizes, measured.manifests, settings.maxImageSize);
    if (over.length > 0) throw new Error(budgetMessage(over, settings.maxImageSize));
    core.info(`Every platform is within ${Inputs.maxImageSize} (${formatBytes(settings.maxImageSize)})`);
  }

  let smoke: SmokeReport | undefined;
  if (settings.smoke.enabled) {
    smoke = await core.group('Smoke test', () => runSmoke(settings, output, localRef, runKey));
    if (smoke) {
      core.setOutput(Outputs.smokeResult, resultJson(smoke));
      core.setOutput(Outputs.smokePassed, String(smoke.passed));
    }
  }
  await summarySafely(settings, buildx, result, stats, sizes, smoke, digest);
  if (smoke && !smoke.passed) throw new SmokeError(failureMessage(smoke));

  if (settings.push) {
    if (output.kind === 'engine' && byDigest && localRef) {
      const pushed = await core.group(`Push ${byDigest} by digest`, async () => {
        try {
          return await pushEngineImageByDigest(localRef, byDigest, path.join(tempDir, 'push'));
        } finally {
          await run('docker', ['image', 'rm', localRef], { allowFailure: true });
        }
      });
      if (digest && pushed !== digest) throw new Error(`Pushed ${pushed}, but the build produced ${digest}`);
      core.setOutput(Outputs.digest, pushed);
      core.info(`Pushed ${byDigest}@${pushed} by digest, with no tag; pass the digest output to the merge job`);
    } else if (output.kind === 'engine') {
      await core.group(`Push ${settings.tags.join(', ')}`, () => pushTags(settings.tags, digest));
    } else if (output.kind === 'stage' && settings.pushByDigest) {
      if (!digest) throw new Error('The build reported no digest for the image pushed by digest');
      core.info(`Pushed ${output.repository}@${digest} by digest, with no tag; pass the digest output to the merge job`);
    } else if (output.kind === 'stage') {
      if (!digest || !localRef) throw new Error('The build reported no digest for the staged image, so it cannot be tagged');
      await core.group(`Tag ${settings.tags.join(', ')}`, () => tagStaged(buildx, localRef, settings.tags, digest));
    }
  }
  core.setOutput(Outputs.pushed, String(settings.push));
}

async function runSmoke(settings: Settings, output: OutputMode, ref: string | undefined, runKey: string): Promise<SmokeReport | undefined> {
  if (output.kind === 'oci' || output.kind === 'registry' || !ref) {
    const msg =
      'Smoke test skipped: with the docker-container driver and push: false the image is not in the engine. ' +
      'Use an engine with the containerd image store, or push: true (the image is then staged by digest and tested before it is tagged).';
    if (settings.smoke.strict) throw new SmokeError(`${msg} (smoke-strict: true)`);
    core.warning(msg);
    return undefined;
  }
  if (output.kind !== 'stage') return smokeTest(ref, settings.platforms, settings.smoke, runKey, 'never');
  // The staged image is pulled into the engine to run it; it goes again afterwards (and in post, if this run is cut short).
  saveEngineImage(ref);
  try {
    return await smokeTest(ref, settings.platforms, settings.smoke, runKey, 'missing');
  } finally {
    await run('docker', ['image', 'rm', ref], { allowFailure: true });
  }
}

async function summarySafely(
  settings: Settings,
  buildx: BuildxCommand,
  result: { vertices: MergedVertex[]; seconds: number },
  stats: ReturnType<typeof cacheStats>,
  sizes: ImageSizes | undefined,
  smoke: SmokeReport | undefined,
  digest: string | undefined,
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    const previous = settings.push && settings.tags[0] ? await previousSizes(buildx, settings.tags[0]) : undefined;
    await writeSummary({
      platforms: settings.platforms,
      stats,
      vertices: result.vertices,
      sizes,
      previous,
      smoke,
      buildSeconds: result.seconds,
      digest,
      tags: settings.tags,
    });
  } catch (err) {
    core.warning(`Could not write the job summary: ${(err as Error).message}`);
  }
}

/** Sizes of what the tag points at in the registry now, before this run pushes; undefined when there is nothing. */
async function previousSizes(buildx: BuildxCommand, tag: string): Promise<ImageSizes | undefined> {
  try {
    return summarize(await manifestsFromRegistry(buildx, tag), {});
  } catch (err) {
    core.debug(`no previous image at ${tag}: ${(err as Error).message}`);
    return undefined;
  }
}
