// cosign: the one on PATH when it can do what is asked of it, else the pinned
// release from cosign-download-url, checked against the release's checksums.
// And the pure argv builders for signing and attesting.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as tc from '@actions/tool-cache';
import * as semver from 'semver';
import { PINNED_COSIGN_SHA256, PINNED_COSIGN_VERSION } from '../constants.js';
import { run } from '../exec.js';
import { verifyCached, verifyDownload } from '../setup/verified.js';

const MIN_COSIGN = '2.2.0';

/** The version `cosign version` reports; distributions' builds may say "devel". */
export function parseCosignVersion(text: string): string | undefined {
  const m = /GitVersion:\s*v?(\d+\.\d+\.\d+)/.exec(text);
  return m ? m[1] : undefined;
}

/**
 * How a cosign signs, by what it says of itself (distributions' builds report "devel", so the flags decide):
 * - `signingConfig`: it takes its services from a signing config (cosign 3: `--use-signing-config=true` by
 *   default), where `--tlog-upload=false` is refused ("--tlog-upload=false is not supported with
 *   --signing-config"): a signing config without a transparency log replaces that flag;
 * - `referrers`: it stores a signature as a Sigstore bundle attached to the image as an OCI referrer (the
 *   fallback tag `sha256-<hex>` on registries without the referrers API), not as the tag `sha256-<hex>.sig`.
 *   Both come with cosign 3.
 */
export interface CosignLine {
  major: 2 | 3;
  signingConfig: boolean;
  referrers: boolean;
}

export function cosignLine(versionText: string, signHelp: string): CosignLine {
  const v = parseCosignVersion(versionText);
  const newLine = v ? semver.gte(v, '3.0.0') : /--use-signing-config=true/.test(signHelp);
  return { major: newLine ? 3 : 2, signingConfig: newLine, referrers: newLine };
}

/** Can this cosign sign as asked: a release new enough, or (a distribution build with no version) the flags themselves. */
export function cosignUsable(versionText: string, signHelp: string): boolean {
  const v = parseCosignVersion(versionText);
  if (v) return semver.gte(v, MIN_COSIGN);
  return signHelp.includes('--tlog-upload') && signHelp.includes('--allow-http-registry');
}

export function cosignDownloadUrl(base: string, version: string, arch = process.arch): string {
  return `${base}/v${version}/cosign-linux-${arch === 'x64' ? 'amd64' : arch}`;
}

export interface Cosign {
  path: string;
  line: CosignLine;
}

/** What the cosign at `path` says of itself (its version, its sign command's flags); undefined when it does not run. */
async function describeCosign(path: string): Promise<{ version: string; help: string } | undefined> {
  const [version, help] = await Promise.all([
    run(path, ['version'], { allowFailure: true }),
    run(path, ['sign', '--help'], { allowFailure: true }),
  ]);
  return version.exitCode === 0 ? { version: version.stdout + version.stderr, help: help.stdout + help.stderr } : undefined;
}

export async function resolveCosign(downloadBase: string): Promise<Cosign> {
  const onPath = await describeCosign('cosign');
  if (onPath && cosignUsable(onPath.version, onPath.help)) {
    const line = cosignLine(onPath.version, onPath.help);
    out.info(`cosign on PATH (${parseCosignVersion(onPath.version) ?? 'a distribution build'}, cosign ${line.major} line)`);
    return { path: 'cosign', line };
  }
  const url = cosignDownloadUrl(downloadBase, PINNED_COSIGN_VERSION);
  const release = {
    what: 'cosign',
    url,
    pinned: PINNED_COSIGN_SHA256[url.slice(url.lastIndexOf('cosign-') + 'cosign-'.length)],
    sumsUrl: `${downloadBase}/v${PINNED_COSIGN_VERSION}/cosign_checksums.txt`,
  };
  let dir = tc.find('cosign', PINNED_COSIGN_VERSION);
  if (dir) await verifyCached(`${dir}/cosign`, release);
  else {
    out.info(`Downloading cosign ${PINNED_COSIGN_VERSION} from ${url}`);
    const file = await tc.downloadTool(url);
    await verifyDownload(file, release);
    dir = await tc.cacheFile(file, 'cosign', 'cosign', PINNED_COSIGN_VERSION);
  }
  fs.chmodSync(`${dir}/cosign`, 0o755);
  const installed = await describeCosign(`${dir}/cosign`);
  return { path: `${dir}/cosign`, line: cosignLine(installed?.version ?? '', installed?.help ?? '') };
}

export interface CosignTarget {
  /** repo@sha256:… */
  ref: string;
  keyFile?: string;
  tlog: boolean;
  /** The registry is reached over plain HTTP (loopback, or an engine insecure-registry). */
  http: boolean;
  /** cosign 3 without a transparency log: a signing config that names none (cosign signing-config create). */
  signingConfig?: string;
}

function common(t: CosignTarget): string[] {
  const argv = ['--yes'];
  if (t.keyFile) argv.push('--key', t.keyFile);
  if (!t.tlog) argv.push(...(t.signingConfig ? ['--signing-config', t.signingConfig] : ['--tlog-upload=false']));
  if (t.http) argv.push('--allow-http-registry');
  return argv;
}

/**
 * The argv that writes a signing config for cosign 3 with no transparency log: keyed signing needs no other
 * service; keyless keeps the public Fulcio and timestamp authority (from the TUF-distributed defaults).
 */
export function signingConfigArgv(out: string, keyless: boolean): string[] {
  return ['signing-config', 'create', ...(keyless ? ['--with-default-services', '--no-default-rekor'] : []), '--out', out];
}

export function signArgv(t: CosignTarget): string[] {
  return ['sign', ...common(t), t.ref];
}

export function attestArgv(t: CosignTarget, predicateFile: string, type: string): string[] {
  return ['attest', ...common(t), '--predicate', predicateFile, '--type', type, t.ref];
}

/** Where cosign 2 stores the signature of a digest (its tag scheme): repo:sha256-<hex>.sig */
export function signatureRef(repository: string, digest: string, suffix: 'sig' | 'att' = 'sig'): string {
  return `${repository}:${digest.replace(':', '-')}.${suffix}`;
}
