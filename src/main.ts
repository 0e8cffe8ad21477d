// The pipeline: settings → set up Buildx → build → push → report.
// Only bad inputs, the build and the push fail the step; optional parts
// (cache import/export, sizes) warn unless strict mode asks otherwise.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { Inputs, Outputs } from './constants.js';
import { parseSettings, type Settings } from './settings.js';
import { markMain, saveCreatedBuilder, saveTempDir } from './state.js';
import { resolveBuildx } from './setup/buildx.js';
import { prepareBuilder } from './setup/builder.js';
import { ensureQemu, nativePlatform } from './setup/qemu.js';
import { cacheEntries } from './cache/refs.js';
import { buildArgs, chooseOutput, type OutputMode } from './build/args.js';
import { runBuild } from './build/run.js';
import { pushTags } from './build/push.js';
import { cacheProblems, cacheStats, formatRate } from './build/rawjson.js';
import { setBuildOutputs, setSizeOutputs, formatBytes } from './report/outputs.js';
import {
  engineUncompressedSize,
  headlinePlatform,
  manifestsFromEngine,
  manifestsFromRegistry,
  manifestsFromTar,
  type PlatformManifest,
  summarize,
} from './report/sizes.js';
import type { BuildxCommand } from './state.js';
import type { BuildMetadata } from './build/metadata.js';

export async function main(): Promise<void> {
  markMain();
  let settings: Settings;
  try {
    settings = parseSettings((name) => core.getInput(name));
  } catch (err) {
    core.setFailed((err as Error).message);
    return;
  }
  for (const s of settings.secrets) core.setSecret(s.value);

  const tempDir = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'go-buildx-'));
  saveTempDir(tempDir);
  try {
    await pipeline(settings, tempDir);
  } catch (err) {
    core.setFailed((err as Error).message);
  } finally {
    // Secret files must not outlive the build, whatever happens next.
    fs.rmSync(path.join(tempDir, 'secrets'), { recursive: true, force: true });
  }
}

async function pipeline(settings: Settings, tempDir: string): Promise<void> {
  const { buildx, builder } = await core.group('Set up Buildx', async () => {
    const bx = await resolveBuildx(settings);
    core.info(`buildx ${bx.version}${bx.installed ? ` (installed at ${bx.command.cmd})` : ''}`);
    await ensureQemu(settings.platforms, settings.qemuImage);
    const b = await prepareBuilder(settings, bx.command);
    if (b.created) saveCreatedBuilder(b.name, bx.command);
    core.info(`builder ${b.name} (driver ${b.driver}, BuildKit ${b.buildkitVersion ?? 'unknown'}), platforms ${b.platforms.join(', ')}`);
    return { buildx: bx.command, builder: b };
  });

  const secretsDir = path.join(tempDir, 'secrets');
  fs.mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const secretFiles = settings.secrets.map((s, i) => {
    const p = path.join(secretsDir, `secret-${i}`);
    fs.writeFileSync(p, s.value, { mode: 0o600 });
    return { id: s.id, path: p };
  });

  const metadataFile = path.join(tempDir, 'metadata.json');
  const output = chooseOutput(builder.driver, settings.push, path.join(tempDir, 'image-oci.tar'));
  const cache = cacheEntries(settings);
  const argv = buildArgs({ builder: builder.name, driver: builder.driver, settings, cache, secretFiles, metadataFile, output });
  core.debug(`cache entries: ${JSON.stringify(cache)}`);
  core.debug(`buildx build argv: ${JSON.stringify(argv)}`);

  const result = await core.group(`Build ${settings.platforms.join(', ')}`, () => runBuild(buildx, argv, metadataFile));
  const stats = cacheStats(result.vertices);
  core.info(`Built in ${result.seconds.toFixed(1)}s; cache: ${stats.hits}/${stats.steps} Dockerfile steps (${formatRate(stats.rate)}%)`);
  setBuildOutputs(builder, stats, result.metadata);

  const problems = cacheProblems(result.vertices);
  for (const p of problems) {
    const msg = `Cache ${p.kind} failed (${p.vertex}): ${p.error}`;
    if (settings.cacheStrict) throw new Error(`${msg} (${Inputs.cacheStrict}: true)`);
    core.warning(`${msg}. The build went on${p.kind === 'import' ? ' without that cache' : '; the next run will start colder'}.`);
  }

  if (settings.push && output.kind === 'engine') {
    await core.group(`Push ${settings.tags.join(', ')}`, () => pushTags(settings.tags, result.metadata?.digest));
  }
  core.setOutput(Outputs.pushed, String(settings.push));

  await core.group('Image sizes', async () => {
    try {
      const sizes = await measureSizes(settings, buildx, output, result.metadata, tempDir);
      if (!sizes) return;
      const headline = headlinePlatform(sizes, settings.platforms, nativePlatform());
      setSizeOutputs(sizes, headline);
      for (const [platform, s] of Object.entries(sizes)) {
        core.info(`${platform}: ${formatBytes(s.compressed)} compressed, ${formatBytes(s.uncompressed)} unpacked, ${s.layers} layers`);
      }
    } catch (err) {
      core.warning(`Could not measure image sizes: ${(err as Error).message}`);
    }
  });
}

async function measureSizes(
  settings: Settings,
  buildx: BuildxCommand,
  output: OutputMode,
  metadata: BuildMetadata | undefined,
  tempDir: string,
) {
  let manifests: PlatformManifest[];
  const ref = settings.tags[0] ?? metadata?.digest;
  if (!ref) {
    core.warning('No tag and no digest from the build: image sizes are not reported');
    return undefined;
  }
  if (output.kind === 'engine') manifests = await manifestsFromEngine(ref, path.join(tempDir, 'sizes'));
  else if (output.kind === 'oci') manifests = await manifestsFromTar(output.dest, path.join(tempDir, 'sizes'));
  else manifests = await manifestsFromRegistry(buildx, metadata?.digest ? `${ref.replace(/:[^:/]+$/, '')}@${metadata.digest}` : ref);
  const uncompressed: Record<string, number | null> = {};
  for (const pm of manifests) {
    uncompressed[pm.platform] = output.kind === 'engine' ? await engineUncompressedSize(ref, pm.platform) : null;
  }
  return summarize(manifests, uncompressed);
}
