// Names the action derives from inputs and the repository: tag-safe slugs, hashes, what is built.
// Settings, the tags and the cache refs all use them, so they sit at the bottom of the settings layer.
import * as crypto from 'node:crypto';

/**
 * A Docker-tag-safe slug ([a-z0-9._-], no leading or trailing "." or "-") of
 * at most `max` characters; a longer one ends in 8 hex digits of its hash so
 * that names sharing a prefix stay apart. 48 leaves room in a cache tag.
 */
export function slug(name: string, max = 48): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '');
  if (s.length > max) s = `${s.slice(0, max - 9)}-${sha(name).slice(0, 8)}`;
  return s || 'none';
}

export function sha(text: string | Buffer): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** "linux/amd64,linux/arm64" → "linux-amd64_linux-arm64"; order does not matter. */
export function platformSlug(platforms: string[]): string {
  const s = [...platforms]
    .sort()
    .map((p) => p.replace(/\//g, '-'))
    .join('_');
  return s.length <= 40 ? s : `p${sha(s).slice(0, 12)}`;
}

/**
 * A short id of what is built, so services, targets, Dockerfiles and repositories that share a cache-ref
 * keep apart (organisations often keep one cache repository for many services; without the repository two
 * of the same layout replaced each other's layer cache on every run).
 */
export function buildId(repository: string, context: string, file: string, target: string | undefined): string {
  return sha(`${repository.toLowerCase()}\n${context}\n${file}\n${target ?? ''}`).slice(0, 8);
}
