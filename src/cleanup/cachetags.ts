// Which cache tag is which: the tags cacherefs/keys.ts writes, read back from a tag list. A tag that does not
// parse is not the action's under this prefix, and the cleanup never touches it.
//
//   <prefix>-<platforms>-<build id>-<scope>          the BuildKit layer cache
//   <prefix>-<platforms>-<build id>-<scope>-fp       its fingerprint (layercache/marker.ts)
//   <prefix>-gomod-<module key|build id>-<scope>     GOMODCACHE
//   <prefix>-gobuild-<key>-<scope>                   GOCACHE
//   <prefix>-gobuild-<key>-<scope>-stats             its history (gocache/stats.ts)
//
// No scope ends in -fp or -stats (context.ts scopeName), so the suffixes are never part of a scope.

import { CacheAnnotations } from '../constants.js';
import type { OciManifest } from '../registry/oci.js';

export type CacheTagKind = 'layer' | 'fingerprint' | 'gomod' | 'gobuild' | 'stats';

export interface CacheTag {
  tag: string;
  kind: CacheTagKind;
  scope: string;
  /** The tag that records who wrote this one and when: a layer cache's fingerprint; else itself. */
  recordTag: string;
}

/** platformSlug(): `linux-amd64_linux-arm64`, `linux-arm-v7`, or `p` and 12 hex digits for a long set. */
const PLATFORMS = '(?:p[0-9a-f]{12}|[a-z0-9]+-[a-z0-9]+(?:-v[0-9]+)?(?:_[a-z0-9]+-[a-z0-9]+(?:-v[0-9]+)?)*)';
const SCOPE = '([a-z0-9][a-z0-9._-]*?)';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function parseCacheTag(prefix: string, tag: string): CacheTag | undefined {
  if (!tag.startsWith(`${prefix}-`)) return undefined;
  const p = escape(prefix);
  const go = new RegExp(`^${p}-(gomod|gobuild)-(?:[0-9a-f]{16}|[0-9a-f]{8})-${SCOPE}(-stats)?$`).exec(tag);
  if (go) {
    const stats = go[3] !== undefined;
    if (stats && go[1] !== 'gobuild') return undefined;
    return { tag, kind: stats ? 'stats' : (go[1] as 'gomod' | 'gobuild'), scope: go[2], recordTag: tag };
  }
  const layer = new RegExp(`^${p}-${PLATFORMS}-[0-9a-f]{8}-${SCOPE}(-fp)?$`).exec(tag);
  if (!layer) return undefined;
  if (layer[2] !== undefined) return { tag, kind: 'fingerprint', scope: layer[1], recordTag: tag };
  return { tag, kind: 'layer', scope: layer[1], recordTag: `${tag}-fp` };
}

export interface TagRecord extends CacheTag {
  digest: string;
  /** From the manifest's annotations (CacheAnnotations); absent on tags BuildKit writes, and on older ones. */
  created?: Date;
  repository?: string;
}

/** A cache tag with its digest and, from its manifest when read, who wrote it and when. */
export function tagRecord(t: CacheTag, digest: string, manifest?: OciManifest): TagRecord {
  const a = manifest?.annotations ?? {};
  const created = a[CacheAnnotations.created] ? new Date(a[CacheAnnotations.created]) : undefined;
  return {
    ...t,
    digest,
    ...(created && !Number.isNaN(created.getTime()) ? { created } : {}),
    ...(a[CacheAnnotations.repository] ? { repository: a[CacheAnnotations.repository] } : {}),
  };
}

const BUILDKIT_CACHE_CONFIG = 'application/vnd.buildkit.cacheconfig.v0';
const OWN_ARTIFACTS = /^application\/vnd\.go-buildx-action\./;

/**
 * Whether a manifest is one the cache wrote: the action's annotated ones, its artifacts, or BuildKit's cache
 * (whose config is BuildKit's cache config). An image's platform manifest or a signature is none of these.
 */
export function isCacheManifest(m: OciManifest): boolean {
  return (
    m.annotations?.[CacheAnnotations.created] !== undefined ||
    OWN_ARTIFACTS.test(m.artifactType ?? '') ||
    m.config?.mediaType === BUILDKIT_CACHE_CONFIG
  );
}
