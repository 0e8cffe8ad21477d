// Finds a usable buildx, or installs a pinned one with @actions/tool-cache.
// An installed binary is run standalone (`buildx build ...`), which needs no
// change to the user's ~/.docker/cli-plugins.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as tc from '@actions/tool-cache';
import { type Release, verifyCached, verifyDownload } from '../setup/verified.js';
export { checksumFor } from '../setup/verified.js';
import * as semver from 'semver';
import { run } from '../exec.js';
import { Inputs, MIN_BUILDX_VERSION, PINNED_BUILDX_SHA256, PINNED_BUILDX_VERSION } from '../constants.js';
import { InputError, type Settings } from '../settings/types.js';
import { args, type BuildxCommand, installedPlugin } from './command.js';

export interface ResolvedBuildx {
  command: BuildxCommand;
  version: string;
  installed: boolean;
}

/** Reads the version from `buildx version`, e.g. "github.com/docker/buildx v0.19.3 48d6a39" or Debian's "0.13.1+ds1". */
export function parseBuildxVersion(text: string): string | undefined {
  const m = /buildx\s+v?(\d+\.\d+\.\d+)/.exec(text);
  return m ? m[1] : undefined;
}

export function buildxDownloadUrl(base: string, version: string, platform = process.platform, arch = process.arch): string {
  const goArch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm-v7',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  const os = platform === 'win32' ? 'windows' : platform;
  const ext = platform === 'win32' ? '.exe' : '';
  return `${base}/v${version}/buildx-v${version}.${os}-${goArch[arch] ?? arch}${ext}`;
}

async function versionOf(buildx: BuildxCommand): Promise<string | undefined> {
  const res = await run(...args(buildx, 'version'), { allowFailure: true });
  return res.exitCode === 0 ? parseBuildxVersion(res.stdout) : undefined;
}

/** What a buildx release file is checked against: the embedded sha256 of the pinned one, else the release's checksums.txt. */
export function buildxRelease(baseUrl: string, version: string): Release {
  const url = buildxDownloadUrl(baseUrl, version);
  const platform = url.slice(url.lastIndexOf('.') + 1);
  return {
    what: 'buildx',
    url,
    pinned: version === PINNED_BUILDX_VERSION ? PINNED_BUILDX_SHA256[platform] : undefined,
    sumsUrl: `${url.slice(0, url.lastIndexOf('/'))}/checksums.txt`,
  };
}

async function install(version: string, baseUrl: string, requested: boolean): Promise<ResolvedBuildx> {
  const release = buildxRelease(baseUrl, version);
  let dir = tc.find('buildx', version);
  if (dir) await verifyCached(`${dir}/buildx`, release);
  else {
    const url = release.url;
    out.info(`Downloading buildx ${version} from ${url}`);
    let file: string;
    try {
      file = await tc.downloadTool(url);
    } catch (err) {
      const status = (err as { httpStatusCode?: number }).httpStatusCode;
      const why = status ? `HTTP ${status}` : (err as Error).message;
      if (requested) {
        throw new InputError(
          Inputs.buildxVersion,
          version,
          `could not be downloaded from ${url} (${why})`,
          `a released buildx version served under ${Inputs.buildxDownloadUrl}`,
        );
      }
      throw new Error(`buildx ${version} could not be downloaded from ${url} (${why})`);
    }
    await verifyDownload(file, release);
    dir = await tc.cacheFile(file, 'buildx', 'buildx', version);
  }
  const bin = `${dir}/buildx`;
  fs.chmodSync(bin, 0o755);
  const command: BuildxCommand = { cmd: bin, prefix: [] };
  const got = await versionOf(command);
  if (!got) throw new Error(`the downloaded buildx at ${bin} does not run`);
  return { command, version: got, installed: true };
}

export async function resolveBuildx(settings: Settings): Promise<ResolvedBuildx> {
  if (settings.buildxVersion) return install(settings.buildxVersion, settings.buildxDownloadUrl, true);
  const plugin = installedPlugin();
  const found = await versionOf(plugin);
  if (found && semver.gte(found, MIN_BUILDX_VERSION)) return { command: plugin, version: found, installed: false };
  out.info(
    found
      ? `Installed buildx ${found} is older than ${MIN_BUILDX_VERSION}; installing ${PINNED_BUILDX_VERSION}`
      : `No buildx found; installing ${PINNED_BUILDX_VERSION}`,
  );
  return install(PINNED_BUILDX_VERSION, settings.buildxDownloadUrl, false);
}
