// What the cleanup deletes: a pure function of the tag list, what each tag's manifest says of its writer,
// and the rules. The registry and the Packages API only carry the choice out.
import type { TagRecord } from './cachetags.js';

export interface CleanupRules {
  /** Deleted whatever their age. */
  scopes: string[];
  /** Scopes this repository last wrote longer ago than this are deleted. */
  olderThanMs?: number;
  now: Date;
  /** Never deleted by age: the default branch's scope, which every run reads. */
  keepScopes: string[];
  /** owner/name, lowercased: tags another repository wrote are never deleted. */
  repository: string;
}

export interface Kept {
  tag: string;
  why: string;
}

export interface Selection {
  delete: TagRecord[];
  kept: Kept[];
  /** Scopes deleted, and why: the ones asked for, or the age of their last write. */
  scopes: { scope: string; why: string }[];
  /** Digests of deleted tags that a kept tag also names: deleting the manifest would take that tag too. */
  shared: Map<string, string>;
}

/** Who wrote a tag and when, from its own record, or for a layer cache from its fingerprint. */
function writer(t: TagRecord, byTag: Map<string, TagRecord>): { created?: Date; repository?: string } {
  const r = t.recordTag === t.tag ? t : byTag.get(t.recordTag);
  return { created: r?.created, repository: r?.repository };
}

const DAY = 86_400_000;
const age = (ms: number) => (ms >= DAY ? `${Math.floor(ms / DAY)} day(s)` : `${Math.floor(ms / 3_600_000)} hour(s)`);

export function selectTags(tags: TagRecord[], rules: CleanupRules): Selection {
  const byTag = new Map(tags.map((t) => [t.tag, t]));
  const own = (t: TagRecord) => {
    const r = writer(t, byTag).repository;
    return r === undefined ? 'unknown' : r === rules.repository ? 'own' : r;
  };
  // A scope's last write by this repository, from the records it left.
  const lastWrite = new Map<string, number>();
  for (const t of tags) {
    const w = writer(t, byTag);
    if (w.repository !== rules.repository || !w.created) continue;
    lastWrite.set(t.scope, Math.max(lastWrite.get(t.scope) ?? 0, w.created.getTime()));
  }
  const scopes = new Map<string, string>();
  for (const s of rules.scopes) scopes.set(s, 'asked for');
  if (rules.olderThanMs !== undefined) {
    for (const [scope, at] of lastWrite) {
      if (scopes.has(scope) || rules.keepScopes.includes(scope)) continue;
      const idle = rules.now.getTime() - at;
      if (idle > rules.olderThanMs) scopes.set(scope, `last written ${age(idle)} ago`);
    }
  }
  const del: TagRecord[] = [];
  const kept: Kept[] = [];
  for (const t of tags) {
    const why = scopes.get(t.scope);
    if (why === undefined) continue;
    const o = own(t);
    if (o === 'own' || (o === 'unknown' && why === 'asked for')) del.push(t);
    else if (o === 'unknown')
      kept.push({
        tag: t.tag,
        why: 'it has no record of who wrote it (written before the action recorded its writer); name its scope in cache-cleanup-scopes',
      });
    else kept.push({ tag: t.tag, why: `${o} wrote it` });
  }
  const deleting = new Set(del.map((t) => t.tag));
  const shared = new Map<string, string>();
  for (const t of tags) if (!deleting.has(t.tag)) for (const d of del) if (d.digest === t.digest) shared.set(d.digest, t.tag);
  const chosen = [...scopes].filter(([s]) => del.some((t) => t.scope === s)).map(([scope, why]) => ({ scope, why }));
  return { delete: del, kept, scopes: chosen, shared };
}

/** A version of a GitHub Packages container package: one manifest, with the tags that name it. */
export interface PackageVersion {
  id: number;
  digest: string;
  tags: string[];
  created: Date;
}

/**
 * The untagged versions that may go, older than `graceMs` so that a job that resolved the tag a moment before
 * still reads them. Of these only the cache's own manifests are deleted (cachetags.ts isCacheManifest, read by
 * the caller): an image's platform manifests and signatures are untagged too, and stay.
 */
export function untaggedCandidates(versions: PackageVersion[], now: Date, graceMs: number): PackageVersion[] {
  return versions.filter((v) => v.tags.length === 0 && now.getTime() - v.created.getTime() > graceMs);
}
