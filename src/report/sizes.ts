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
import { PassThrough, Readable } from 'node:stream';
import { extract, Parser, type ReadEntry } from 'tar';
import { run } from '../exec.js';
import { doneWith, noteContainer } from '../tracked.js';
import { type LayerEntry, layerEntriesOf, unpackedSizeOf } from './unpacked.js';
import { OWNER_LABEL, RUN_LABEL } from '../constants.js';
import type { OutputMode } from '../imagebuild/args.js';
import { repositoryOf } from '../ref.js';
import { args, type BuildxCommand } from '../buildx/command.js';
import type { SizeMemo } from '../layercache/marker.js';
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
    doneWith(id);
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

/** Unpacks an OCI layout tarball's index and small blobs (indexes, manifests, configs), in one pass, in this process. */
export async function unpackLayout(tarPath: string, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await extract({
    file: tarPath,
    cwd: dir,
    filter: (p: string, e?: ReadEntry | fs.Stats) => p === 'index.json' || (p.startsWith('blobs/') && (e?.size ?? 0) <= JSON_MAX),
  });
}

/** The platform manifests of an OCI layout tarball (its index and manifests unpacked into `workDir`). */
export async function manifestsFromTar(tarPath: string, workDir: string, fallbackPlatform?: string): Promise<PlatformManifest[]> {
  await unpackLayout(tarPath, workDir);
  const root = JSON.parse(fs.readFileSync(path.join(workDir, 'index.json'), 'utf8')) as OciIndex;
  return platformManifests(root, layoutFetcher(workDir), fallbackPlatform);
}

/** What one pass over `docker save`'s tarball reads: its index, its small blobs, and each layer's entries. */
export interface SavedImage {
  index: OciIndex;
  blobs: Map<string, Buffer>;
  layers: Map<string, Promise<LayerEntry[]>>;
}

function collect(e: ReadEntry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    e.on('data', (c: Buffer) => chunks.push(c));
    e.on('end', () => resolve(Buffer.concat(chunks)));
    e.on('error', reject);
  });
}

/**
 * Reads `docker save`'s tarball once: the layers are parsed as they go by, never written out and read
 * again (which cost a second pass over every layer).
 */
export async function scanSavedImage(tarPath: string): Promise<SavedImage> {
  const small = new Map<string, Promise<Buffer>>();
  const layers = new Map<string, Promise<LayerEntry[]>>();
  let index: Promise<Buffer> | undefined;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (e: ReadEntry) => {
        const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(e.path);
        if (e.path === 'index.json') index = collect(e);
        else if (m && e.type === 'File' && e.size <= JSON_MAX) small.set(`${m[1]}:${m[2]}`, collect(e));
        else if (m && e.type === 'File') {
          const bytes = new PassThrough();
          e.pipe(bytes);
          const entries = layerEntriesOf(bytes);
          entries.catch(() => undefined);
          layers.set(`${m[1]}:${m[2]}`, entries);
        } else e.resume();
      },
    });
    parser.on('error', reject);
    parser.on('end', resolve);
    const input = fs.createReadStream(tarPath);
    input.on('error', reject);
    input.pipe(parser);
  });
  if (!index) throw new Error('the saved image has no index.json');
  const blobs = new Map<string, Buffer>();
  for (const [d, b] of small) blobs.set(d, await b);
  return { index: JSON.parse((await index).toString('utf8')) as OciIndex, blobs, layers };
}

/** A layer's entries: parsed as the scan went by, or (a layer small enough to be kept whole) from its bytes. */
function layerOf(saved: SavedImage, digest: string): Promise<LayerEntry[]> {
  const parsed = saved.layers.get(digest);
  if (parsed) return parsed;
  const blob = saved.blobs.get(digest);
  if (!blob) return Promise.reject(new Error(`layer ${digest} is not in the saved image`));
  return layerEntriesOf(Readable.from([blob]));
}

/** Each platform's unpacked size from the saved layers; none at all when a layer cannot be read (zstd before Node 22.15). */
export async function unpackedSizes(saved: SavedImage, manifests: PlatformManifest[]): Promise<Record<string, number | null>> {
  const unpacked: Record<string, number | null> = {};
  try {
    for (const m of manifests)
      unpacked[m.platform] = unpackedSizeOf(await Promise.all(m.manifest.layers.map((l) => layerOf(saved, l.digest))));
  } catch (err) {
    out.debug(`unpacked sizes from the layers: ${(err as Error).message}`);
  }
  return unpacked;
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
    const saved = await scanSavedImage(tar);
    const fetch = async (digest: string) => {
      const blob = saved.blobs.get(digest);
      if (!blob) throw new Error(`${digest} is not in the saved image`);
      return JSON.parse(blob.toString('utf8')) as OciIndex | OciManifest;
    };
    const manifests = await platformManifests(saved.index, fetch, fallbackPlatform);
    return { manifests, unpacked: await unpackedSizes(saved, manifests) };
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

/** What a size memo keeps of measured sizes: each platform's layers, with its unpacked size where that is known. */
export function sizeMemoFrom(manifests: PlatformManifest[], sizes: ImageSizes): SizeMemo {
  return manifests.flatMap((pm) => {
    const unpacked = sizes[pm.platform]?.uncompressed;
    return unpacked === null || unpacked === undefined ? [] : [{ layers: pm.manifest.layers.map((l) => l.digest), unpacked }];
  });
}

/**
 * The sizes of what was pushed, from its manifests, with each platform's unpacked size from a memo of the
 * very same layers (by digest, in order); undefined unless every platform's layers are in the memo.
 */
export function sizesFromMemo(manifests: PlatformManifest[], memo: SizeMemo): ImageSizes | undefined {
  if (manifests.length === 0) return undefined;
  const unpacked: Record<string, number> = {};
  for (const pm of manifests) {
    const layers = pm.manifest.layers.map((l) => l.digest).join(' ');
    const hit = memo.find((m) => m.layers.join(' ') === layers);
    if (!hit) return undefined;
    unpacked[pm.platform] = hit.unpacked;
  }
  return summarize(manifests, unpacked);
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
