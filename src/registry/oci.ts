// The OCI image model the registry client, the caches, the smoke test and the sizes all read: descriptors,
// indexes, manifests, digests, and the walk from an index to its platform manifests.
import { createHash } from 'node:crypto';

export interface OciDescriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface OciIndex {
  mediaType?: string;
  manifests: OciDescriptor[];
}

export interface OciManifest {
  mediaType?: string;
  artifactType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

export interface PlatformManifest {
  platform: string;
  digest: string;
  manifest: OciManifest;
}

const isIndex = (o: OciIndex | OciManifest): o is OciIndex => Array.isArray((o as OciIndex).manifests);

export function platformString(p: NonNullable<OciDescriptor['platform']>): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export function isAttestation(d: OciDescriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

/** Walks an index (possibly nested, as in `docker save`'s index.json) to the platform manifests. */
export async function platformManifests(
  root: OciIndex | OciManifest,
  fetch: (digest: string) => Promise<OciIndex | OciManifest>,
  fallbackPlatform?: string,
): Promise<PlatformManifest[]> {
  if (!isIndex(root)) {
    // A single-platform build without attestations is one manifest, not an index.
    return fallbackPlatform ? [{ platform: fallbackPlatform, digest: '', manifest: root }] : [];
  }
  const out: PlatformManifest[] = [];
  for (const d of root.manifests) {
    if (isAttestation(d)) continue;
    const child = await fetch(d.digest);
    if (isIndex(child)) {
      out.push(...(await platformManifests(child, fetch, fallbackPlatform)));
    } else if (d.platform && d.platform.os !== 'unknown') {
      out.push({ platform: platformString(d.platform), digest: d.digest, manifest: child });
    } else if (!d.platform && fallbackPlatform) {
      // `docker save`'s index.json names a single-manifest image without a platform.
      out.push({ platform: fallbackPlatform, digest: d.digest, manifest: child });
    }
  }
  return out;
}

export function compressedSize(m: OciManifest): number {
  return m.layers.reduce((sum, l) => sum + l.size, 0);
}

/** The OCI digest of some bytes. */
export const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
