// Saved Go caches as registry images, read and written through the registry
// API: found for a restore, read from the OCI layout a save build wrote on the
// runner, stacked on the restored image, and pushed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitRef } from '../ref.js';
import { registryClient } from '../registry/client.js';
import { sha256 } from '../registry/oci.js';
import { compressedSize, isAttestation, type OciIndex, type OciManifest } from '../registry/oci.js';

/** The parts of an image config a stacked layer changes. */
export interface ImageConfig {
  rootfs: { type: string; diff_ids: string[] };
  history?: unknown[];
  [key: string]: unknown;
}

export interface Image {
  manifest: OciManifest;
  manifestBytes: Buffer;
  config: ImageConfig;
  configBytes: Buffer;
}

/** A tag's image (an index's first image, attestations left out); undefined when the tag does not exist. */
export async function findImage(ref: string): Promise<{ repository: string; digest: string; bytes: number } | undefined> {
  const { repository, tag } = splitRef(ref);
  const client = await registryClient(repository, 'pull');
  const raw = await client.manifestRaw(tag ?? 'latest');
  if (!raw) return undefined;
  const doc = JSON.parse(raw.body.toString('utf8')) as OciIndex | OciManifest;
  if ('manifests' in doc && Array.isArray(doc.manifests)) {
    const child = doc.manifests.find((d) => !isAttestation(d));
    if (!child) return undefined;
    const m = (await client.manifest(child.digest)) as unknown as OciManifest;
    return { repository, digest: child.digest, bytes: compressedSize(m) };
  }
  return { repository, digest: sha256(raw.body), bytes: compressedSize(doc as OciManifest) };
}

/** An image manifest and its config, from the registry. */
export async function readImage(repository: string, digest: string): Promise<Image> {
  const client = await registryClient(repository, 'pull');
  const raw = await client.manifestRaw(digest);
  if (!raw) throw new Error(`${repository}@${digest} does not exist`);
  const manifest = JSON.parse(raw.body.toString('utf8')) as OciManifest;
  const configBytes = await client.blob(manifest.config.digest);
  return { manifest, manifestBytes: raw.body, config: JSON.parse(configBytes.toString('utf8')) as ImageConfig, configBytes };
}

/** The one image of an OCI layout directory (`type=oci,tar=false`), and where its blobs are. */
export function readLayout(dir: string): { image: Image; blobPath: (digest: string) => string } {
  const blobPath = (d: string) => path.join(dir, 'blobs', ...d.split(':'));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as OciIndex;
  const root = index.manifests.find((d) => !isAttestation(d));
  if (!root) throw new Error(`the save wrote no image to ${dir}`);
  const manifestBytes = fs.readFileSync(blobPath(root.digest));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as OciManifest;
  const configBytes = fs.readFileSync(blobPath(manifest.config.digest));
  return { image: { manifest, manifestBytes, config: JSON.parse(configBytes.toString('utf8')) as ImageConfig, configBytes }, blobPath };
}

/** `top`'s layers stacked on `base`'s: the layer list, the diff IDs and the history, base first. */
export function stackLayer(base: Image, top: Image): Image {
  const config: ImageConfig = {
    ...top.config,
    rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, ...top.config.rootfs.diff_ids] },
    history: [...(base.config.history ?? []), ...(top.config.history ?? [])],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: OciManifest = {
    ...top.manifest,
    config: { ...top.manifest.config, digest: sha256(configBytes), size: configBytes.length },
    layers: [...base.manifest.layers, ...top.manifest.layers],
  };
  return { manifest, manifestBytes: Buffer.from(JSON.stringify(manifest)), config, configBytes };
}

/** `image` with `annotations` added to its manifest (who wrote it and when, for the cleanup). */
export function annotated(image: Image, annotations: Record<string, string>): Image {
  const manifest: OciManifest = { ...image.manifest, annotations: { ...image.manifest.annotations, ...annotations } };
  return { ...image, manifest, manifestBytes: Buffer.from(JSON.stringify(manifest)) };
}

/**
 * Pushes `image` under the tag `ref`: the blobs the repository lacks (from the layout on disk; the
 * config from memory), then the manifest. Returns the bytes uploaded.
 */
export async function pushImage(ref: string, image: Image, blobPath: (digest: string) => string): Promise<number> {
  const { repository, tag } = splitRef(ref);
  const client = await registryClient(repository);
  let uploaded = 0;
  const configDigest = image.manifest.config.digest;
  for (const d of [configDigest, ...image.manifest.layers.map((l) => l.digest)]) {
    if (await client.hasBlob(d)) continue;
    if (d === configDigest) await client.putBlob(d, image.configBytes);
    else if (fs.existsSync(blobPath(d))) await client.putBlobFile(d, blobPath(d));
    else throw new Error(`${repository} lacks the layer ${d} of the restored copy`);
    uploaded += d === configDigest ? image.configBytes.length : fs.statSync(blobPath(d)).size;
  }
  const mediaType = image.manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
  await client.putManifest(tag ?? 'latest', mediaType, image.manifestBytes);
  return uploaded;
}
