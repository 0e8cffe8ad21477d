// Attaching an artifact (a Sigstore bundle) to an image in the registry as an
// OCI 1.1 referrer: an image manifest whose `subject` is the image and whose
// `artifactType` says what it carries. A registry without the referrers API
// (distribution 2.8, which the tests run) is found through the fallback tag
// `sha256-<hex>`, an index the pusher keeps up to date, as the OCI
// distribution spec describes; clients such as `gh attestation verify
// --bundle-from-oci` and oras read either.
import type { RegistryClient } from './client.js';
import { sha256 } from './oci.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** The empty config of an artifact manifest, as the image spec defines it (`{}`). */
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', data: Buffer.from('{}') };

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The fallback tag under which a registry without the referrers API lists the referrers of `digest`. */
export function fallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

/** An artifact manifest carrying `blob` (of `artifactType`), attached to `subject` when given. */
export function artifactManifest(
  artifactType: string,
  blob: Buffer,
  annotations: Record<string, string>,
  subject?: Descriptor,
): { manifest: Buffer; descriptor: Descriptor } {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: EMPTY.mediaType, digest: sha256(EMPTY.data), size: EMPTY.data.length },
      layers: [{ mediaType: artifactType, digest: sha256(blob), size: blob.length }],
      ...(subject ? { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } } : {}),
      annotations,
    }),
  );
  return { manifest, descriptor: { mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, artifactType, annotations } };
}

/** Pushes `blob` as an artifact (attached to `o.subject`), under `o.tag` or its own digest; returns its descriptor. */
export async function pushArtifact(
  client: RegistryClient,
  artifactType: string,
  blob: Buffer,
  annotations: Record<string, string>,
  o: { subject?: Descriptor; tag?: string } = {},
): Promise<Descriptor> {
  const { manifest, descriptor } = artifactManifest(artifactType, blob, annotations, o.subject);
  for (const data of [EMPTY.data, blob]) if (!(await client.hasBlob(sha256(data)))) await client.putBlob(sha256(data), data);
  await client.putManifest(o.tag ?? descriptor.digest, OCI_MANIFEST, manifest);
  return descriptor;
}

/** The one layer of an artifact manifest; undefined when `reference` does not exist or is no such artifact. */
export async function readArtifact(client: RegistryClient, reference: string, artifactType: string): Promise<Buffer | undefined> {
  const raw = await client.manifestRaw(reference);
  if (!raw) return undefined;
  const m = JSON.parse(raw.body.toString('utf8')) as { artifactType?: string; layers?: Descriptor[] };
  const layer = m.layers?.[0];
  if (m.artifactType !== artifactType || !layer) return undefined;
  return client.blob(layer.digest);
}

/** The fallback index with `added` listed once (an existing index's other entries kept). */
export function fallbackIndex(existing: { manifests?: Descriptor[] } | undefined, added: Descriptor): Buffer {
  const others = (existing?.manifests ?? []).filter((m) => m.digest !== added.digest);
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...others, added] }));
}

/** Pushes `blob` as a referrer of `subjectDigest`; returns the referrer manifest's digest. */
export async function attachReferrer(
  client: RegistryClient,
  subjectDigest: string,
  artifactType: string,
  blob: Buffer,
  annotations: Record<string, string>,
): Promise<string> {
  const subject = await client.manifestRaw(subjectDigest);
  if (!subject) throw new Error(`${subjectDigest} is not in the registry`);
  const descriptor = await pushArtifact(client, artifactType, blob, annotations, {
    subject: { mediaType: subject.mediaType, digest: subjectDigest, size: subject.body.length },
  });
  if (!(await client.hasReferrersApi(subjectDigest))) {
    const tag = fallbackTag(subjectDigest);
    const current = await client.manifestRaw(tag);
    const existing = current ? (JSON.parse(current.body.toString('utf8')) as { manifests?: Descriptor[] }) : undefined;
    await client.putManifest(tag, OCI_INDEX, fallbackIndex(existing, descriptor));
  }
  return descriptor.digest;
}

/**
 * The referrers of `digest`: through the referrers API where the registry has one, else the fallback tag's
 * index (distribution 2.8, which the tests run). Empty when there are none.
 */
export async function listReferrers(client: RegistryClient, digest: string): Promise<Descriptor[]> {
  const reference = (await client.hasReferrersApi(digest)) ? undefined : fallbackTag(digest);
  const raw = reference ? await client.manifestRaw(reference) : await client.referrers(digest);
  if (!raw) return [];
  return (JSON.parse(raw.body.toString('utf8')) as { manifests?: Descriptor[] }).manifests ?? [];
}
