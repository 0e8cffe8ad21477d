// The smoke test phase: every selected platform's container must pass its
// probe before anything is pushed. Platforms that cannot run here (no
// emulator) are skipped with a warning, or fail the step with smoke-strict.
import * as out from '../output.js';
import * as core from '@actions/core';
import { run } from '../exec.js';
import type { SmokeSettings } from '../settings/types.js';
import { archOf } from '../setup/qemu.js';
import { saveEngineImage } from '../state.js';
import type { OutputMode } from '../imagebuild/args.js';
import { Inputs, Outputs } from '../constants.js';
import { chooseProbe, describeProbe, type ImageConfig, parseImageConfig } from './probe.js';
import { type PlatformSmoke, smokePlatform } from './container.js';
import { repositoryOf } from '../ref.js';
import { removeDoneContainers } from '../lifecycle.js';
import { registryClient } from '../registry/client.js';
import { type OciIndex, type OciManifest, platformManifests } from '../registry/oci.js';

export interface SmokeReport {
  passed: boolean;
  results: Record<string, PlatformSmoke>;
}

export class SmokeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeError';
  }
}

/** The image's config and id, from one `docker image inspect`. */
async function imageConfig(ref: string, pull: 'never' | 'missing'): Promise<{ config?: ImageConfig; id?: string }> {
  if (pull === 'missing') await run('docker', ['pull', '--quiet', ref], { allowFailure: true });
  const res = await run('docker', ['image', 'inspect', ref], { allowFailure: true });
  if (res.exitCode !== 0) return {};
  return { config: parseImageConfig(res.stdout), id: (JSON.parse(res.stdout) as { Id?: string }[])[0]?.Id };
}

export function resultJson(r: SmokeReport): string {
  const out: Record<
    string,
    { passed: boolean; skipped?: boolean; probe: string; attempts: number; ms: number | null; elapsed_ms: number }
  > = {};
  for (const [p, x] of Object.entries(r.results)) {
    out[p] = {
      passed: x.passed,
      ...(x.skipped ? { skipped: true } : {}),
      probe: x.probe,
      attempts: x.attempts,
      ms: x.ms,
      elapsed_ms: x.elapsedMs,
    };
  }
  return JSON.stringify(out);
}

export async function smokeTest(
  ref: string,
  s: SmokeSettings,
  runKey: string,
  pull: 'never' | 'missing',
  /** Architectures that the setup phase could neither run nor emulate. */
  unemulated: string[],
  /** What each platform's container runs (a staged image: its platform manifest); `ref` by default. */
  refFor: (platform: string) => string = () => ref,
): Promise<SmokeReport> {
  const platforms = s.platforms;
  const { config, id } = await imageConfig(refFor(platforms[0]), pull);
  const probe = chooseProbe(s, config);
  out.info(`Testing ${ref} (image ${id ?? 'unknown'}) with probe: ${describeProbe(probe)}`);
  const results: Record<string, PlatformSmoke> = {};

  const runnable: string[] = [];
  for (const p of platforms) {
    if (!unemulated.includes(archOf(p))) {
      runnable.push(p);
      continue;
    }
    const msg = `Smoke test of ${p} skipped: no emulator for ${archOf(p)} is registered on this runner`;
    if (s.strict) throw new SmokeError(`${msg} (smoke-strict: true)`);
    out.warning(msg);
    results[p] = { platform: p, passed: false, skipped: true, probe: 'none', attempts: 0, ms: null, elapsedMs: 0, detail: 'no emulator' };
  }

  // Platforms run side by side: each container has its own random loopback port. On the host's network they
  // would share the port, so they run one after the other, each container removed before the next starts: a
  // container still running would answer the next platform's probe.
  const one = (platform: string) => smokePlatform({ ref: refFor(platform), platform, probe, settings: s, runKey, pull });
  const done: PlatformSmoke[] = [];
  if (s.network === 'host')
    for (const p of runnable) {
      done.push(await one(p));
      await removeDoneContainers();
    }
  else done.push(...(await Promise.all(runnable.map(one))));
  for (const r of done) {
    results[r.platform] = r;
    if (r.passed) out.info(`${r.platform}: passed (${r.probe}) after ${r.attempts} attempt(s), healthy in ${r.ms} ms`);
    // The detail quotes what the container answered: untrusted.
    else out.info(`${r.platform}: FAILED (${r.probe}) after ${r.attempts} attempt(s): ${r.detail}`);
  }
  const failed = done.filter((r) => !r.passed);
  for (const r of failed) {
    out.startGroup(`Last 100 log lines of the ${r.platform} container`);
    if (r.logs) out.info(r.logs);
    else out.info('(the container wrote nothing)');
    out.endGroup();
  }
  return { passed: failed.length === 0, results };
}

export function failureMessage(r: SmokeReport): string {
  const lines = Object.values(r.results)
    .filter((x) => !x.passed && !x.skipped)
    .map((x) => {
      const logTail = x.logs ? ` Container log (last lines): ${x.logs.split('\n').slice(-5).join(' | ')}` : '';
      return `${x.platform}: probe ${x.probe} failed after ${x.attempts} attempt(s): ${x.detail}.${logTail}`;
    });
  return `Smoke test failed, nothing was pushed. ${lines.join(' ')}`;
}

/** repo@<platform manifest digest> for each platform of a staged image (the image itself when it is one manifest). */
export async function platformRefs(ref: string, platforms: string[]): Promise<Record<string, string>> {
  const repository = repositoryOf(ref);
  const client = await registryClient(repository, 'pull');
  const root = (await client.manifest(ref.slice(ref.indexOf('@') + 1))) as OciIndex | OciManifest;
  const all = await platformManifests(root, async (d) => (await client.manifest(d)) as OciIndex | OciManifest, platforms[0]);
  // linux/arm64 and linux/arm64/v8 name the same platform.
  const norm = (p: string) => p.replace(/^(linux\/arm64)\/v8$/, '$1');
  const out: Record<string, string> = {};
  for (const p of platforms) {
    const m = all.find((x) => norm(x.platform) === norm(p));
    out[p] = m?.digest ? `${repository}@${m.digest}` : ref;
  }
  return out;
}

/**
 * The smoke-test phase: the engine's own image, or the staged one pulled
 * into the engine (and removed again, and by post if the run is cut short).
 * An image that is not in the engine or a registry cannot be tested: a
 * warning, or an error with smoke-strict.
 */
export async function runSmoke(
  s: SmokeSettings,
  output: OutputMode,
  ref: string | undefined,
  runKey: string,
  unemulated: string[],
): Promise<SmokeReport | undefined> {
  if (output.kind === 'oci' || output.kind === 'registry' || output.kind === 'custom' || output.kind === 'none' || !ref) {
    const msg =
      output.kind === 'custom'
        ? `Smoke test skipped: with ${Inputs.outputs} the image goes where they say, not into the engine. Set smoke-test: false to silence this.`
        : 'Smoke test skipped: with the docker-container driver and push: false the image is not in the engine. ' +
          'Use an engine with the containerd image store, load: true, or push: true (the image is then staged by digest and tested before it is tagged).';
    if (s.strict) throw new SmokeError(`${msg} (${Inputs.smokeStrict}: true)`);
    out.warning(msg);
    return undefined;
  }
  let report: SmokeReport;
  if (output.kind !== 'stage') report = await smokeTest(ref, s, runKey, 'never', unemulated);
  else {
    // Each platform is pulled and run by its own manifest's digest: the classic image store keeps one
    // platform under a name, so a second platform pulled by the index digest fails with "cannot overwrite
    // digest" (seen on Docker 26 and 28 with the classic store, which docker-container builders run on).
    const refs = await platformRefs(ref, s.platforms);
    for (const r of new Set(Object.values(refs))) saveEngineImage(r);
    try {
      report = await smokeTest(ref, s, runKey, 'missing', unemulated, (p) => refs[p] ?? ref);
    } finally {
      // Its containers must be gone before the image can go.
      await removeDoneContainers();
      await run('docker', ['image', 'rm', ...new Set(Object.values(refs))], { allowFailure: true });
    }
  }
  core.setOutput(Outputs.smokeResult, resultJson(report));
  core.setOutput(Outputs.smokePassed, String(report.passed));
  return report;
}
