// actions/cache entries are immutable, so a GOCACHE that changes is saved
// under a new key on every run that compiled something, and each entry can be
// as large as go-cache-max-size. Left alone they fill the repository's cache
// quota (10 GB by default) and GitHub evicts the oldest, module caches and
// other workflows' caches included. So after a save, the entries it
// superseded (same key prefix, same ref) are deleted through GitHub's REST
// API, which keeps one build-cache entry per branch or pull request. That
// needs `actions: write` for the token; without it the save still counts, and
// the log says what is left and how to allow the cleanup. cache-cleanup deletes a whole scope's entries
// through the same calls (cleanup/gha.ts).
import type { GitHubApi } from '../settings/types.js';

/** One entry of `GET /repos/{owner}/{repo}/actions/caches`. */
export interface CacheEntry {
  id: number;
  key: string;
  ref: string;
  size_in_bytes: number;
}

export interface Superseded {
  deleted: { key: string; bytes: number }[];
}

async function call(api: GitHubApi, method: string, p: string): Promise<Response> {
  return fetch(`${api.url.replace(/\/+$/, '')}/repos/${api.repository}/actions/caches${p}`, {
    method,
    headers: {
      Accept: 'application/vnd.github+json',
      Authorization: `Bearer ${api.token}`,
      'X-GitHub-Api-Version': '2022-11-28',
    },
    signal: AbortSignal.timeout(30_000),
  });
}

async function failure(res: Response, what: string): Promise<Error> {
  const body = (await res.text()).slice(0, 200).trim();
  const hint = res.status === 403 || res.status === 404 ? '; the job needs `permissions: actions: write`' : '';
  return new Error(`${what} failed: ${res.status}${body ? ` ${body}` : ''}${hint}`);
}

/** What GitHub answers per page at most; a full page means there may be another. */
const PER_PAGE = 100;

/** Every entry of `ref` whose key starts with `prefix`, all pages of them. */
export async function listEntries(api: GitHubApi, ref: string, prefix: string): Promise<CacheEntry[]> {
  const all: CacheEntry[] = [];
  for (let page = 1; ; page++) {
    const q = new URLSearchParams({ key: prefix, ref, per_page: String(PER_PAGE), ...(page > 1 ? { page: String(page) } : {}) });
    const res = await call(api, 'GET', `?${q}`);
    if (!res.ok) throw await failure(res, 'listing the cache entries');
    const { actions_caches: entries } = (await res.json()) as { actions_caches: CacheEntry[] };
    // The key parameter matches by prefix; the check is repeated so that nothing else is ever deleted.
    all.push(...entries.filter((e) => e.key.startsWith(prefix) && e.ref === ref));
    if (entries.length < PER_PAGE) return all;
  }
}

/** Deletes the entries; one that is already gone (404) counts as deleted. */
export async function deleteEntries(api: GitHubApi, entries: CacheEntry[]): Promise<Superseded['deleted']> {
  const deleted: Superseded['deleted'] = [];
  for (const e of entries) {
    const del = await call(api, 'DELETE', `/${e.id}`);
    if (del.status !== 204 && del.status !== 404) throw await failure(del, `deleting the cache entry ${e.key}`);
    deleted.push({ key: e.key, bytes: e.size_in_bytes });
  }
  return deleted;
}

/** Deletes every entry of `ref` whose key starts with `prefix`, except `keep`. */
export async function deleteSuperseded(api: GitHubApi, ref: string, prefix: string, keep: string): Promise<Superseded> {
  const old = (await listEntries(api, ref, prefix)).filter((e) => e.key !== keep);
  return { deleted: await deleteEntries(api, old) };
}
