// A stand-in for GitHub's REST API of actions/cache entries (https://docs.github.com/rest/actions/cache):
// `GET /repos/{owner}/{repo}/actions/caches` filtered by key prefix and exact ref, `per_page` and `page`, and
// `DELETE /repos/{owner}/{repo}/actions/caches/{id}`, in the shapes GitHub documents (the entry shape is
// fixtures/github-actions-caches.json's). A token other than the one given answers 403, as GitHub does without
// `actions: write`.
import * as http from 'node:http';
import type { CacheEntry } from '../../src/gocache/ghaentries.js';

export interface CachesStandIn {
  url: string;
  close: () => Promise<void>;
  /** Requests seen, `METHOD path?query`. */
  calls: string[];
  /** The entries still there. */
  entries: () => CacheEntry[];
}

export async function startCachesStandIn(o: {
  repository: string;
  token: string;
  entries: Omit<CacheEntry, 'id'>[];
}): Promise<CachesStandIn> {
  const calls: string[] = [];
  let entries: CacheEntry[] = o.entries.map((e, i) => ({ ...e, id: 9000 + i }));
  const send = (res: http.ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    calls.push(`${req.method} ${url.pathname}${url.search}`);
    const m = /^\/repos\/([^/]+\/[^/]+)\/actions\/caches(?:\/(\d+))?$/.exec(url.pathname);
    if (!m || m[1] !== o.repository) return send(res, 404, { message: 'Not Found', status: '404' });
    if (req.headers.authorization !== `Bearer ${o.token}`) {
      return send(res, 403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/actions/cache#list-github-actions-caches-for-a-repository',
        status: '403',
      });
    }
    if (req.method === 'GET' && !m[2]) {
      const key = url.searchParams.get('key');
      const ref = url.searchParams.get('ref');
      const per = Math.min(100, Number(url.searchParams.get('per_page') ?? '30'));
      const page = Number(url.searchParams.get('page') ?? '1');
      const all = entries.filter((e) => (!key || e.key.startsWith(key)) && (!ref || e.ref === ref));
      const shown = all.slice((page - 1) * per, page * per).map((e) => ({
        ...e,
        version: '73885106f58cc52a7df9ec4d4a5622a5614813162cb516c759a30af6bf56e6f0',
        last_accessed_at: '2026-12-01T10:00:00.000Z',
        created_at: '2026-12-01T10:00:00.000Z',
      }));
      return send(res, 200, { total_count: all.length, actions_caches: shown });
    }
    if (req.method === 'DELETE' && m[2]) {
      const before = entries.length;
      entries = entries.filter((e) => e.id !== Number(m[2]));
      return send(res, before === entries.length ? 404 : 204);
    }
    send(res, 405, { message: 'Method Not Allowed' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, calls, entries: () => entries, close: () => new Promise((r) => server.close(() => r())) };
}
