// With `go-cache-backend: gha` the Go caches of a scope are actions/cache entries, not tags, and the
// cleanup deletes those of the chosen scopes too: GitHub keeps a closed pull request's entries until they go
// unused for 7 days, and they count against the repository's 10 GB until then. GitHub keys each entry by the
// ref of the run that saved it (`refs/pull/<n>/merge` for a pull request), so a scope's entries are the ones
// of its ref whose keys start with the action's own prefix; another workflow's entries are never touched.
// The age rule is left to GitHub's own eviction.
import * as out from '../output.js';
import { GHA_KEY_PREFIX } from '../cacherefs/keys.js';
import { deleteEntries, listEntries } from '../gocache/ghaentries.js';
import type { CleanupSettings } from '../settings/cleanup.js';
import { formatBytes } from '../settings/values.js';

export interface GhaDeleted {
  scope: string;
  ref: string;
  key: string;
  bytes: number;
}

/** Deletes (or, with dry run, lists) each chosen scope's entries. What could not be done is in `problems`. */
export async function cleanupGhaEntries(s: CleanupSettings): Promise<{ deleted: GhaDeleted[]; problems: string[] }> {
  const deleted: GhaDeleted[] = [];
  const problems: string[] = [];
  if (!s.gha) return { deleted, problems };
  for (const scope of s.gha.unmapped) {
    out.info(
      `actions/cache: scope ${scope} names no git ref the action can know (a slug, or another event's), so its entries are left to GitHub's eviction`,
    );
  }
  if (s.gha.refs.length === 0) return { deleted, problems };
  if (!s.github) return { deleted, problems: ['actions/cache entries: no github-token to list them with'] };
  const verb = s.dryRun ? 'would delete' : 'deletes';
  for (const { scope, ref } of s.gha.refs) {
    try {
      const entries = await listEntries(s.github, ref, GHA_KEY_PREFIX);
      const bytes = entries.reduce((n, e) => n + e.size_in_bytes, 0);
      out.info(
        `actions/cache, scope ${scope} (${ref}): ${verb} ${entries.length} entr(ies), ${formatBytes(bytes)}: ${entries.map((e) => e.key).join(', ')}`,
      );
      // One at a time, so that what was deleted before a refusal is still reported.
      for (const e of entries) {
        if (!s.dryRun) await deleteEntries(s.github, [e]);
        deleted.push({ scope, ref, key: e.key, bytes: e.size_in_bytes });
      }
    } catch (err) {
      problems.push(`actions/cache entries of ${ref}: ${(err as Error).message}`);
    }
  }
  return { deleted, problems };
}
