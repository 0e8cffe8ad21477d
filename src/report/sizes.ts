// Per-platform image sizes.
// - compressed: the sum of layers[].size in that platform's manifest, found
//   through the index. Attestation manifests (platform unknown/unknown) are
//   skipped.
// - uncompressed: the unpacked image, from the layers `docker save` wrote
//   (report/unpacked.ts). Where this Node cannot read them (zstd layers), what
//   the engine reports: `docker image inspect` cannot do that per platform
//   before API 1.49, and with the containerd store its .Size is the content
//   size (moby/moby#43862), so the action creates (never starts) a container
//   per platform and reads SizeRootFs - SizeRw from `docker container inspect --size`.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extract, type ReadEntry } from 'tar';
import { run } from '../exec.js';
import { noteContainer } from '../tracked.js';
import { removeContainerLater } from '../lifecycle.js';
import { unpackedSize } from './unpacked.js';
import { OWNER_LABEL, RUN_LABEL } from '../constants.js';
import type { OutputMode } from '../imagebuild/args.js';
import { repositoryOf } from '../ref.js';
import { args, type BuildxCommand } from '../buildx/command.js';
import { compressedSize, type OciIndex, type OciManifest, type PlatformManifest, platformManifests } from '../registry/oci.js';

export interface PlatformSize {
  compressed: number;
  uncompressed: number | null;
  layers: number;
}

export type ImageSizes = Record<string, PlatformSize>;

export interface LayerInfo {
  digest: string;
  size: number;
}

export function largestLayers(m: OciManifest, n: number): LayerInfo[] {
  return [...m.layers]
    .sort((a, b) => b.size - a.size)
    .slice(0, n)
    .map((l) => ({ digest: l.digest, size: l.size }));
}

/** Parses "SizeRootFs SizeRw" as printed by the inspect template below. */
export function parseContainerSize(text: string): number | null {
  const [rootfs, rw] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(rootfs)) return null;
  return rootfs - (Number.isFinite(rw) ? rw : 0);
}

/** The size the engine reports for a platform's unpacked image, or null when it cannot tell. */
export async function engineUncompressedSize(ref: string, platform: string, runKey: string): Promise<number | null> {
  const labels = ['--label', `${OWNER_LABEL}=size-probe`, '--label', `${RUN_LABEL}=${runKey}`];
  noteContainer();
  const created = await run('docker', ['create', '--pull', 'never', '--platform', platform, ...labels, ref], { allowFailure: true });
  if (created.exitCode !== 0) return null;
  const id = created.stdout.trim();
  try {
    const res = await run('docker', ['container', 'inspect', '--size', '--format', '{{.SizeRootFs}} {{.SizeRw}}', id], {
      allowFailure: true,
    });
    return res.exitCode === 0 ? parseContainerSize(res.stdout) : null;
  } finally {
    // Removing a container takes longer than creating it; the gates go on meanwhile.
    removeContainerLater(id);
  }
}

/** Manifests from an OCI layout directory (`docker save` or a type=oci export, unpacked). */
export function layoutFetcher(dir: string): (digest: string) => Promise<OciIndex | OciManifest> {
  return async (digest) => {
    const [alg, hex] = digest.split(':');
    return JSON.parse(fs.readFileSync(path.join(dir, 'blobs', alg, hex), 'utf8')) as OciIndex | OciManifest;
  };
}

/** Indexes and manifests are a few kB; a blob over this is a layer. */
const JSON_MAX = 4 << 20;

/**
 * Unpacks an OCI layout tarball in one pass, in this process (a `tar` per member re-read the whole
 * tarball each time): its index and the small blobs (indexes, manifests, configs), or with `all`
 * the layers too.
 */
export async function unpackLayout(tarPath: string, dir: string, all: boolean): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await extract({
    file: tarPath,
    cwd: dir,
    filter: (p: string, e?: ReadEntry | fs.Stats) => all || p === 'index.json' || (p.startsWith('blobs/') && (e?.size ?? 0) <= JSON_MAX),
  });
}

/** The platform manifests of an OCI layout tarball (its index and manifests unpacked into `workDir`). */
export async function manifestsFromTar(tarPath: string, workDir: string, fallbackPlatform?: string): Promise<PlatformManifest[]> {
  await unpackLayout(tarPath, workDir, false);
  return manifestsFromLayout(workDir, fallbackPlatform);
}

function manifestsFromLayout(dir: string, fallbackPlatform?: string): Promise<PlatformManifest[]> {
  const root = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as OciIndex;
  return platformManifests(root, layoutFetcher(dir), fallbackPlatform);
}

/**
 * Manifests of an image in the engine, through `docker save` (no registry, no credentials), and each
 * platform's unpacked size from the layers in the same tarball (null where they cannot be read).
 */
export async function manifestsFromEngine(
  ref: string,
  workDir: string,
  fallbackPlatform?: string,
): Promise<{ manifests: PlatformManifest[]; unpacked: Record<string, number | null> }> {
  fs.mkdirSync(workDir, { recursive: true });
  const tar = path.join(workDir, 'image.tar');
  await run('docker', ['save', '-o', tar, ref]);
  try {
    const layout = path.join(workDir, 'layout');
    await unpackLayout(tar, layout, true);
    const manifests = await manifestsFromLayout(layout, fallbackPlatform);
    const unpacked: Record<string, number | null> = {};
    try {
      for (const m of manifests)
        unpacked[m.platform] = await unpackedSize(m.manifest.layers.map((l) => path.join(layout, 'blobs', ...l.digest.split(':'))));
    } catch (err) {
      out.debug(`unpacked sizes from the layers: ${(err as Error).message}`);
    }
    return { manifests, unpacked };
  } finally {
    fs.rmSync(tar, { force: true });
  }
}

/** Manifests of an image in a registry, through `buildx imagetools inspect --raw`. */
export async function manifestsFromRegistry(buildx: BuildxCommand, ref: string, fallbackPlatform?: string): Promise<PlatformManifest[]> {
  const repo = repositoryOf(ref);
  const raw = async (r: string) =>
    JSON.parse((await run(...args(buildx, 'imagetools', 'inspect', '--raw', r))).stdout) as OciIndex | OciManifest;
  return platformManifests(await raw(ref), (digest) => raw(`${repo}@${digest}`), fallbackPlatform);
}

export function summarize(manifests: PlatformManifest[], uncompressed: Record<string, number | null>): ImageSizes {
  const out: ImageSizes = {};
  for (const pm of manifests) {
    out[pm.platform] = {
      compressed: compressedSize(pm.manifest),
      uncompressed: uncompressed[pm.platform] ?? null,
      layers: pm.manifest.layers.length,
    };
  }
  return out;
}

/** The platform whose size `image-size` reports: the runner's own, else the first built. */
export function headlinePlatform(sizes: ImageSizes, requested: string[], native: string): string | undefined {
  if (sizes[native]) return native;
  return requested.find((p) => sizes[p]) ?? Object.keys(sizes)[0];
}

/** Per-platform sizes of what the build produced, wherever it went. */
export async function measureSizes(
  buildx: BuildxCommand,
  output: OutputMode,
  ref: string | undefined,
  digest: string | undefined,
  tempDir: string,
  runKey: string,
  /** The platforms built: a build of one platform may be a single manifest, which names none. */
  platforms: string[],
): Promise<{ sizes: ImageSizes; manifests: PlatformManifest[] } | undefined> {
  const single = platforms.length === 1 ? platforms[0] : undefined;
  let manifests: PlatformManifest[];
  if (output.kind === 'custom' || output.kind === 'none') {
    out.info('Image sizes are not measured: the image went where the outputs input says');
    return undefined;
  }
  let unpacked: Record<string, number | null> = {};
  if (output.kind === 'oci') manifests = await manifestsFromTar(output.dest, path.join(tempDir, 'sizes'), single);
  else if (!ref) {
    out.warning('No tag and no digest from the build: image sizes are not reported');
    return undefined;
  } else if (output.kind === 'engine') ({ manifests, unpacked } = await manifestsFromEngine(ref, path.join(tempDir, 'sizes'), single));
  else manifests = await manifestsFromRegistry(buildx, digest && !ref.includes('@') ? `${repositoryOf(ref)}@${digest}` : ref, single);
  const uncompressed: Record<string, number | null> = {};
  await Promise.all(
    manifests.map(async (pm) => {
      // Layers this Node cannot read (zstd before Node 22.15): the engine's own figure, from a created container.
      const fromLayers = unpacked[pm.platform];
      uncompressed[pm.platform] =
        fromLayers ?? (output.kind === 'engine' && ref ? await engineUncompressedSize(ref, pm.platform, runKey) : null);
    }),
  );
  return { sizes: summarize(manifests, uncompressed), manifests };
}
