// The fingerprint marker stored next to a layer cache ref: a small artifact
// under the tag `<layer cache tag>-fp` that says which fingerprint the ref was
// exported with, and which digest the ref had then. Reading it costs two
// small registry requests per candidate ref, no layer.
import * as out from '../output.js';
import { splitRef } from '../ref.js';
import { registryClient } from '../registry/client.js';
import { pushArtifact, readArtifact } from '../registry/referrer.js';
import { cacheAnnotations } from '../cacherefs/keys.js';

const MARKER_TYPE = 'application/vnd.go-buildx-action.fingerprint.v1+json';

export interface MarkerRecord {
  fingerprint: string;
  /** The digest of the layer cache manifest the fingerprint was exported with. */
  cache: string;
  /** The unpacked sizes of the image built with that export, by its layers (absent in older markers). */
  sizes?: SizeMemo;
}

/**
 * An image's unpacked size by its layers: the same layers (by digest, in order) unpack to the same size,
 * whatever config points at them. A run whose fingerprint matches builds the layers the marker's run built,
 * so it can take their size from here instead of reading them back with `docker save`; it checks the
 * layers it pushed first (report/sizes.ts sizesFromMemo).
 */
export interface LayerSizes {
  layers: string[];
  unpacked: number;
}
export type SizeMemo = LayerSizes[];

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * A size memo from JSON nobody vouches for (a marker in the registry, the saved state): its well-formed
 * entries only, at most one per platform a build could have; undefined when there is none.
 */
export function sizeMemoOf(x: unknown): SizeMemo | undefined {
  if (!Array.isArray(x)) return undefined;
  const ok = x
    .filter(
      (e: Partial<LayerSizes> | null): e is LayerSizes =>
        !!e &&
        Array.isArray(e.layers) &&
        e.layers.length > 0 &&
        e.layers.length <= 500 &&
        e.layers.every((d: unknown) => typeof d === 'string' && DIGEST.test(d)) &&
        Number.isSafeInteger(e.unpacked) &&
        (e.unpacked ?? -1) >= 0,
    )
    .slice(0, 64)
    .map((e) => ({ layers: [...e.layers], unpacked: e.unpacked }));
  return ok.length > 0 ? ok : undefined;
}

/** The marker's tag beside a layer cache ref. */
export function markerRef(layerRef: string): string {
  return `${layerRef}-fp`;
}

/** What the registry holds for a layer cache ref: the ref's digest now, and the marker beside it. */
export interface MarkerState {
  current?: string;
  record?: MarkerRecord;
}

/** Reads a ref's digest and its marker (two small requests); needs no fingerprint, so it can start first. */
export async function readMarker(layerRef: string): Promise<MarkerState> {
  const { repository, tag } = splitRef(layerRef);
  const client = await registryClient(repository, 'pull');
  const [current, blob] = await Promise.all([
    client.manifestDigest(tag ?? 'latest'),
    readArtifact(client, splitRef(markerRef(layerRef)).tag ?? '', MARKER_TYPE),
  ]);
  if (!blob) return { current };
  const raw = JSON.parse(blob.toString('utf8')) as Partial<MarkerRecord>;
  const record: MarkerRecord = { fingerprint: String(raw.fingerprint ?? ''), cache: String(raw.cache ?? '') };
  const sizes = sizeMemoOf(raw.sizes);
  return { current, record: sizes ? { ...record, sizes } : record };
}

/** Whether `layerRef` still holds the layer cache that `fingerprint` was exported to. */
export function markerVerdict(layerRef: string, state: MarkerState, fingerprint: string): { match: boolean; why: string } {
  if (!state.current) return { match: false, why: `${layerRef} does not exist` };
  if (!state.record) return { match: false, why: `${layerRef} has no fingerprint` };
  if (state.record.fingerprint !== fingerprint) return { match: false, why: `${layerRef} was written by other inputs` };
  if (state.record.cache !== state.current) return { match: false, why: `${layerRef} was rewritten since its fingerprint was stored` };
  return { match: true, why: `${layerRef} was exported with these inputs` };
}

export async function markerMatches(layerRef: string, fingerprint: string): Promise<{ match: boolean; why: string }> {
  return markerVerdict(layerRef, await readMarker(layerRef), fingerprint);
}

/** After an export: records the fingerprint with the digest the ref has now (and the image's sizes, when known). */
export async function writeMarker(layerRef: string, fingerprint: string, sizes?: SizeMemo): Promise<void> {
  const { repository, tag } = splitRef(layerRef);
  const client = await registryClient(repository);
  const cache = await client.manifestDigest(tag ?? 'latest');
  if (!cache) throw new Error(`${layerRef} is not in the registry after the export`);
  const blob = Buffer.from(JSON.stringify({ fingerprint, cache, ...(sizes ? { sizes } : {}) } satisfies MarkerRecord));
  await pushArtifact(
    client,
    MARKER_TYPE,
    blob,
    { 'org.opencontainers.image.title': 'go-buildx-action fingerprint', ...cacheAnnotations() },
    { tag: splitRef(markerRef(layerRef)).tag },
  );
  out.debug(`fingerprint ${fingerprint} stored at ${markerRef(layerRef)} for ${cache}`);
}
