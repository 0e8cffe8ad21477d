// The signing phase, after every gate passed and the push is done: cosign
// signs the pushed index and each platform manifest it lists, in every
// repository the tags went to, and (attest-smoke) attaches the smoke result as
// an in-toto attestation. Keyless with the job's OIDC token, or with sign-key.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import { Outputs, SMOKE_PREDICATE_TYPE } from '../constants.js';
import { engineInfo } from '../engine.js';
import { failureTail, run } from '../exec.js';
import { repositoryOf, registryOf } from '../ref.js';
import type { SigningSettings } from '../settings/types.js';
import type { SmokeReport } from '../smoke/test.js';
import { indexAndImages, registryClient } from '../registry/client.js';
import { listReferrers } from '../registry/referrer.js';
import { saveSecretFile } from '../state.js';
import { attestArgv, type Cosign, type CosignTarget, resolveCosign, signArgv, signatureRef, signingConfigArgv } from './cosign.js';

/**
 * The smoke-test predicate: per built platform whether it ran (`skipped`), the probe, the verdict, the
 * attempts and the time to healthy. The top-level `passed` is true only when every built platform ran and
 * passed: a platform skipped for want of an emulator (smoke-strict: false), or left out by smoke-platforms,
 * was never tested, and an admission policy on `passed` must not admit it (trust, round 2, item 6).
 */
export function smokePredicate(smoke: SmokeReport, built: string[], engine: string | undefined, qemu: string | undefined): object {
  const platforms: Record<string, object> = {};
  for (const p of built) {
    const r = smoke.results[p];
    platforms[p] = r
      ? { probe: r.probe, passed: r.passed && !r.skipped, skipped: !!r.skipped, attempts: r.attempts, msToHealthy: r.ms }
      : { probe: 'none', passed: false, skipped: true, attempts: 0, msToHealthy: null };
  }
  const passed = built.length > 0 && built.every((p) => smoke.results[p]?.passed === true && !smoke.results[p]?.skipped);
  return { tool: 'go-buildx-action', passed, platforms, engine: engine ?? null, qemu: qemu ?? null };
}

/** Loopback registries (plain HTTP, as registryOf says for the docker CLI), and those the engine lists as insecure. */
export function isHttpRegistry(repository: string, insecure: string[]): boolean {
  const reg = registryOf(repository);
  return reg.base.startsWith('http:') || insecure.includes(reg.host);
}

/** The engine's insecure registries, from the info setup already asked for; none when the engine did not answer. */
async function insecureRegistries(): Promise<string[]> {
  try {
    return (await engineInfo()).insecureRegistries;
  } catch {
    return [];
  }
}

export interface SignRequest {
  signing: SigningSettings;
  tags: string[];
  /** Every platform built: the smoke predicate accounts for each. */
  platforms: string[];
  digest: string;
  smoke?: SmokeReport;
  tempDir: string;
}

/** Signs (and attests) what was pushed; returns digest → signature ref, and fails the step when asked to sign and it cannot. */
export async function signPublished(r: SignRequest): Promise<Record<string, string>> {
  const cosign = await resolveCosign(r.signing.cosignDownloadUrl);
  let keyFile: string | undefined;
  if (r.signing.key) {
    // In the run's secrets folder, and recorded before it exists: a cancelled run's handler, or its post
    // step, removes it even when this function never reaches its finally (trust, round 2, item 12).
    keyFile = path.join(r.tempDir, 'secrets', 'cosign.key');
    saveSecretFile(keyFile);
    fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(keyFile, r.signing.key, { mode: 0o600 });
  }
  const env = { ...(r.signing.keyPassword !== undefined ? { COSIGN_PASSWORD: r.signing.keyPassword } : { COSIGN_PASSWORD: '' }) };
  const insecure = await insecureRegistries();
  const signatures: Record<string, string> = {};
  // cosign 3 refuses --tlog-upload=false: a signing config without a transparency log says the same.
  let signingConfig: string | undefined;
  if (!r.signing.tlog && cosign.line.signingConfig) {
    signingConfig = path.join(r.tempDir, 'signing-config.json');
    await cosignRun(cosign, signingConfigArgv(signingConfig, !keyFile), env);
  }
  try {
    for (const repository of [...new Set(r.tags.map(repositoryOf))]) {
      const http = isHttpRegistry(repository, insecure);
      const base = { keyFile, tlog: r.signing.tlog, http, signingConfig };
      if (r.signing.sign) {
        const client = cosign.line.referrers ? await registryClient(repository) : undefined;
        for (const d of await indexAndImages(repository, r.digest)) {
          const before = client ? new Set((await listReferrers(client, d)).map((x) => x.digest)) : undefined;
          await cosignRun(cosign, signArgv({ ...base, ref: `${repository}@${d}` }), env);
          // cosign 3 writes a Sigstore bundle as a referrer of the digest: name that manifest; cosign 2 its tag.
          if (client && before) {
            const added = (await listReferrers(client, d)).find((x) => !before.has(x.digest));
            signatures[d] = added ? `${repository}@${added.digest}` : `${repository}@${d} (an OCI referrer)`;
          } else signatures[d] = signatureRef(repository, d);
          out.info(`Signed ${repository}@${d} (${signatures[d]})`);
        }
      }
      if (r.signing.attestSmoke && r.smoke) await attestSmoke(cosign, { ...base, ref: `${repository}@${r.digest}` }, r, env);
    }
  } finally {
    if (keyFile) fs.rmSync(keyFile, { force: true });
  }
  core.setOutput(Outputs.signatures, JSON.stringify(signatures));
  return signatures;
}

async function attestSmoke(cosign: Cosign, t: CosignTarget, r: SignRequest, env: Record<string, string>): Promise<void> {
  const engine = (await run('docker', ['version', '--format', '{{.Server.Version}}'], { allowFailure: true })).stdout.trim() || undefined;
  const predicate = path.join(r.tempDir, 'smoke-predicate.json');
  fs.writeFileSync(predicate, JSON.stringify(smokePredicate(r.smoke!, r.platforms, engine, await qemuVersion())));
  await cosignRun(cosign, attestArgv(t, predicate, SMOKE_PREDICATE_TYPE), env);
  out.info(`Attested the smoke test of ${t.ref} (${SMOKE_PREDICATE_TYPE})`);
}

async function qemuVersion(): Promise<string | undefined> {
  try {
    const entry = fs.readFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8');
    const interpreter = /^interpreter (\S+)/m.exec(entry)?.[1];
    if (!interpreter) return undefined;
    const res = await run(interpreter, ['--version'], { allowFailure: true });
    return res.stdout.split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

async function cosignRun(cosign: Cosign, argv: string[], env: Record<string, string>): Promise<void> {
  out.debug(`cosign argv: ${JSON.stringify(argv)}`);
  const res = await run(cosign.path, argv, { allowFailure: true, env });
  if (res.exitCode !== 0) throw new Error(`cosign ${argv[0]} ${argv[argv.length - 1]} failed: ${failureTail(res, 3)}`);
}
