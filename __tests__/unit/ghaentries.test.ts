// The actions/cache cleanup against a loopback server that answers as GitHub's
// REST API does (the response shape of `GET /repos/{owner}/{repo}/actions/caches`
// as GitHub documents it, in fixtures/github-actions-caches.json). What is
// checked is what we send: the list query, the token, and which ids are deleted.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteSuperseded, listEntries } from '../../src/gocache/ghaentries.js';
import { fixture } from './helpers.js';

interface Seen {
  method: string;
  url: string;
  auth?: string;
}

async function api(answer: (req: Seen) => { status: number; body?: string }): Promise<{ url: string; seen: Seen[]; close: () => void }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const s = { method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization };
    seen.push(s);
    const a = answer(s);
    res.writeHead(a.status, { 'Content-Type': 'application/json' });
    res.end(a.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => server.close() };
}

describe('deleting the build-cache entries a save superseded', () => {
  let close = () => undefined as void;
  afterEach(() => close());

  it('lists by prefix and ref, then deletes every older entry of that prefix, never the new one or a longer key', async () => {
    const server = await api((r) => (r.method === 'GET' ? { status: 200, body: fixture('github-actions-caches.json') } : { status: 204 }));
    close = server.close;
    const prefix = 'go-buildx-gobuild-3c1f0a9e2b7d4c55-';
    const got = await deleteSuperseded(
      { url: server.url, repository: 'acme/hello', token: 'ghs_test' },
      'refs/heads/main',
      prefix,
      `${prefix}9120003-1`,
    );
    expect(server.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `GET /repos/acme/hello/actions/caches?key=${prefix}&ref=refs%2Fheads%2Fmain&per_page=100`,
      'DELETE /repos/acme/hello/actions/caches/1701',
      'DELETE /repos/acme/hello/actions/caches/1702',
    ]);
    expect(server.seen.every((s) => s.auth === 'Bearer ghs_test')).toBe(true);
    expect(got.deleted).toEqual([
      { key: `${prefix}9120001-1`, bytes: 61234567 },
      { key: `${prefix}9120002-1`, bytes: 62911234 },
    ]);
  });

  it('lists every page: a full page of 100 means another is asked for', async () => {
    // The documented entry shape, from the fixture, repeated with other ids and keys.
    const one = (JSON.parse(fixture('github-actions-caches.json')) as { actions_caches: Record<string, unknown>[] }).actions_caches[0];
    const entries = Array.from({ length: 101 }, (_, i) => ({ ...one, id: 5000 + i, key: `go-buildx-gomod-${i}` }));
    const server = await api((r) => {
      const page = Number(new URL(r.url, 'http://x').searchParams.get('page') ?? '1');
      return { status: 200, body: JSON.stringify({ total_count: 101, actions_caches: entries.slice((page - 1) * 100, page * 100) }) };
    });
    close = server.close;
    const got = await listEntries({ url: server.url, repository: 'acme/hello', token: 'ghs_test' }, 'refs/heads/main', 'go-buildx-');
    expect(got.map((e) => e.id)).toEqual(entries.map((e) => e.id));
    expect(server.seen.map((s) => s.url)).toEqual([
      '/repos/acme/hello/actions/caches?key=go-buildx-&ref=refs%2Fheads%2Fmain&per_page=100',
      '/repos/acme/hello/actions/caches?key=go-buildx-&ref=refs%2Fheads%2Fmain&per_page=100&page=2',
    ]);
  });

  it('a token without actions: write is refused (403): the error says which permission the job needs', async () => {
    const server = await api(() => ({ status: 403, body: '{"message":"Resource not accessible by integration"}' }));
    close = server.close;
    await expect(
      deleteSuperseded({ url: server.url, repository: 'acme/hello', token: 'ghs_test' }, 'refs/heads/main', 'p-', 'p-2'),
    ).rejects.toThrow(/listing the cache entries failed: 403 .*Resource not accessible by integration.*permissions: actions: write/);
  });
});
