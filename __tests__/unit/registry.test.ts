// RegistryClient against captured registry answers: __tests__/fixtures/
// registry-exchanges.json was recorded from Debian's docker-registry
// (distribution 2.8) on loopback, once with htpasswd (basic auth) and once
// configured for token auth, whose 401 carries the real Bearer challenge.
// fetch replays the recorded responses in order; the test checks what the
// client sends and what it makes of the answers.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RegistryClient } from '../../src/registry/client.js';
import { registryOf } from '../../src/ref.js';
import { fixture } from './helpers.js';

interface Exchange {
  request: { method: string; url: string; authorization?: string };
  response: { status: number; headers: Record<string, string>; body: string };
}
const rec = JSON.parse(fixture('registry-exchanges.json')) as {
  blob: { digest: string; data: string };
  manifest: { digest: string; data: string };
  exchanges: Exchange[];
};

interface Sent {
  method: string;
  url: string;
  authorization?: string;
}

/** A fetch that answers with the recorded responses, checking each request against the recording. */
function replay(exchanges: Exchange[]): Sent[] {
  const sent: Sent[] = [];
  let i = 0;
  vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const u = new URL(url.toString());
    sent.push({ method: init.method ?? 'GET', url: `${u.pathname}${u.search}`, authorization: headers.Authorization });
    const e = exchanges[i++];
    if (!e) throw new Error(`no recorded answer for ${init.method} ${u}`);
    expect(`${init.method ?? 'GET'} ${u.pathname}`).toBe(`${e.request.method} ${new URL(e.request.url, 'http://x').pathname}`);
    return new Response(e.request.method === 'HEAD' ? null : e.response.body, { status: e.response.status, headers: e.response.headers });
  });
  return sent;
}

afterEach(() => vi.unstubAllGlobals());

describe('RegistryClient on captured registry answers', () => {
  const reg = registryOf('127.0.0.1:5004/acme/api');

  it('basic auth: a 401 challenge, then every request with the credentials; blob HEAD, upload, manifest PUT, tags', async () => {
    const basic = rec.exchanges.filter((e) => !e.response.headers['www-authenticate']?.startsWith('Bearer'));
    const sent = replay(basic);
    const client = new RegistryClient(reg, { username: 'ci', password: 'pw' });
    expect(await client.hasBlob(rec.blob.digest)).toBe(false);
    await client.putBlob(rec.blob.digest, Buffer.from(rec.blob.data));
    expect(await client.hasBlob(rec.blob.digest)).toBe(true);
    expect(
      await client.putManifest(rec.manifest.digest, 'application/vnd.oci.image.manifest.v1+json', Buffer.from(rec.manifest.data)),
    ).toBe(rec.manifest.digest);
    await client.putManifest('1.3.0', 'application/vnd.oci.image.manifest.v1+json', Buffer.from(rec.manifest.data));
    expect(await client.tags()).toEqual(['1.3.0']);
    expect(await client.manifestDigest('1.3.0')).toBe(rec.manifest.digest);
    expect(await client.manifestDigest('nope')).toBeUndefined();

    expect(sent[0].authorization).toBeUndefined();
    const expected = `Basic ${Buffer.from('ci:pw').toString('base64')}`;
    expect(sent.slice(1).every((s) => s.authorization === expected)).toBe(true);
    // The upload is finished at the Location the registry gave, with the digest added.
    expect(sent[3]).toMatchObject({ method: 'PUT' });
    expect(sent[3].url).toMatch(
      new RegExp(`^/v2/acme/api/blobs/uploads/[0-9a-f-]+\\?_state=.*&digest=${rec.blob.digest.replace(':', '%3A')}$`),
    );
  });

  it('bearer auth: the captured challenge sends the client to the realm for a pull,push token, which every later request carries', async () => {
    const challenge = rec.exchanges.find((e) => e.response.headers['www-authenticate']?.startsWith('Bearer'))!;
    expect(challenge.response.headers['www-authenticate']).toBe(
      'Bearer realm="http://127.0.0.1:5006/token",service="gba-registry",scope="repository:acme/api:pull"',
    );
    const realmCalls: { url: URL; authorization?: string }[] = [];
    const sent: string[] = [];
    let first = true;
    vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
      const u = new URL(url.toString());
      const auth = ((init.headers ?? {}) as Record<string, string>).Authorization;
      if (u.port === '5006') {
        realmCalls.push({ url: u, authorization: auth });
        // The token endpoint's answer, in the shape the distribution token spec gives.
        return new Response(JSON.stringify({ token: 't0k', access_token: 't0k', expires_in: 300 }), { status: 200 });
      }
      sent.push(`${init.method} ${u.pathname} ${auth ?? '-'}`);
      if (first) {
        first = false;
        return new Response(null, { status: challenge.response.status, headers: challenge.response.headers });
      }
      return new Response(null, { status: 404 });
    });
    const client = new RegistryClient(registryOf('127.0.0.1:5005/acme/api'), { username: 'ci', password: 'pw' });
    expect(await client.hasBlob(rec.blob.digest)).toBe(false);
    expect(await client.hasBlob(rec.blob.digest)).toBe(false);
    expect(realmCalls).toHaveLength(1);
    expect(realmCalls[0].url.searchParams.get('service')).toBe('gba-registry');
    expect(realmCalls[0].url.searchParams.get('scope')).toBe('repository:acme/api:pull,push');
    expect(realmCalls[0].authorization).toBe(`Basic ${Buffer.from('ci:pw').toString('base64')}`);
    expect(sent).toEqual([
      `HEAD /v2/acme/api/blobs/${rec.blob.digest} -`,
      `HEAD /v2/acme/api/blobs/${rec.blob.digest} Bearer t0k`,
      `HEAD /v2/acme/api/blobs/${rec.blob.digest} Bearer t0k`,
    ]);
  });

  it('a registry nobody listens on: the error names the host and says "connection refused"', async () => {
    // A real refused connection on loopback (a port just released), not a made-up error.
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const client = new RegistryClient(registryOf(`127.0.0.1:${port}/acme/api`));
    await expect(client.hasBlob(rec.blob.digest)).rejects.toThrow(
      new RegExp(`^127\\.0\\.0\\.1:${port} could not be reached: connection refused \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`),
    );
  });
});

describe('RegistryClient: tokens that expire, credentials that stay home, bytes that must match their digest', () => {
  const bearer = rec.exchanges.find((e) => e.response.headers['www-authenticate']?.startsWith('Bearer'))!;
  const post = rec.exchanges.find((e) => e.request.method === 'POST')!;
  const put = rec.exchanges.find((e) => e.request.method === 'PUT' && e.request.url.includes('/blobs/uploads/'))!;
  const creds = { username: 'ci', password: 'pw' };

  it('putBlobFile: a token that expires during the upload gets renewed, and the upload starts over once', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gba-blob-')), 'blob');
    fs.writeFileSync(file, rec.blob.data);
    let tokens = 0;
    let puts = 0;
    const sent: string[] = [];
    vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit & { body?: unknown } = {}) => {
      const u = new URL(url.toString());
      const auth = ((init.headers ?? {}) as Record<string, string>).Authorization ?? '-';
      if (u.port === '5006') return new Response(JSON.stringify({ token: `t${++tokens}` }), { status: 200 });
      sent.push(`${init.method} ${u.pathname.replace(/uploads\/.+/, 'uploads/<id>')} ${auth}`);
      if (init.method === 'POST' && auth === '-') return new Response(null, { status: 401, headers: bearer.response.headers });
      if (init.method === 'POST') return new Response(null, { status: post.response.status, headers: post.response.headers });
      // The stream is read to its end, as a registry would, before the answer.
      if (init.body) await new Response(init.body as ReadableStream).arrayBuffer();
      // The recorded 401 of the token flow, as distribution answers a request whose token has expired.
      if (++puts === 1) return new Response(null, { status: 401, headers: bearer.response.headers });
      return new Response(null, { status: put.response.status, headers: put.response.headers });
    });
    const client = new RegistryClient(registryOf('127.0.0.1:5005/acme/api'), creds);
    await client.putBlobFile(rec.blob.digest, file);
    expect(sent).toEqual([
      'POST /v2/acme/api/blobs/uploads/ -',
      'POST /v2/acme/api/blobs/uploads/ Bearer t1',
      'PUT /v2/acme/api/blobs/uploads/<id> Bearer t1',
      'POST /v2/acme/api/blobs/uploads/ Bearer t2',
      'PUT /v2/acme/api/blobs/uploads/<id> Bearer t2',
    ]);
  });

  it('putBlobFile: a second 401 fails the upload with the status, rather than looping', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gba-blob-')), 'blob');
    fs.writeFileSync(file, rec.blob.data);
    vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
      if (new URL(url.toString()).port === '5006') return new Response(JSON.stringify({ token: 't' }), { status: 200 });
      if (init.method === 'POST') return new Response(null, { status: post.response.status, headers: post.response.headers });
      if (init.body) await new Response(init.body as ReadableStream).arrayBuffer();
      return new Response('denied', { status: 401, headers: bearer.response.headers });
    });
    await expect(new RegistryClient(registryOf('127.0.0.1:5005/acme/api'), creds).putBlobFile(rec.blob.digest, file)).rejects.toThrow(
      `uploading ${rec.blob.digest} failed: 401 denied`,
    );
  });

  it('a request whose token expired is authenticated again and sent once more', async () => {
    let tokens = 0;
    const sent: string[] = [];
    vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
      const u = new URL(url.toString());
      const auth = ((init.headers ?? {}) as Record<string, string>).Authorization ?? '-';
      if (u.port === '5006') return new Response(JSON.stringify({ token: `t${++tokens}` }), { status: 200 });
      sent.push(auth);
      // t1 expires after its first use.
      if (auth === '-' || (auth === 'Bearer t1' && sent.filter((a) => a === 'Bearer t1').length > 1))
        return new Response(null, { status: 401, headers: bearer.response.headers });
      return new Response(null, { status: 200 });
    });
    const client = new RegistryClient(registryOf('127.0.0.1:5005/acme/api'), creds);
    expect(await client.hasBlob(rec.blob.digest)).toBe(true);
    expect(await client.hasBlob(rec.blob.digest)).toBe(true);
    expect(sent).toEqual(['-', 'Bearer t1', 'Bearer t1', 'Bearer t2']);
  });

  it('basic credentials go to an https token realm, or one on loopback, never to a plain-http host elsewhere', async () => {
    const realms: Record<string, string | undefined> = {};
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const asked = (realm: string) => ({
      ...bearer.response.headers,
      'www-authenticate': bearer.response.headers['www-authenticate'].replace('http://127.0.0.1:5006/token', realm),
    });
    for (const realm of ['https://auth.example.test/token', 'http://127.0.0.1:5006/token', 'http://tokens.example.test/token']) {
      let first = true;
      vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
        const u = new URL(url.toString());
        if (u.pathname === '/token') {
          realms[u.origin] = ((init.headers ?? {}) as Record<string, string>).Authorization;
          return new Response(JSON.stringify({ token: 't' }), { status: 200 });
        }
        if (first) {
          first = false;
          return new Response(null, { status: 401, headers: asked(realm) });
        }
        return new Response(null, { status: 200 });
      });
      expect(await new RegistryClient(registryOf('127.0.0.1:5005/acme/api'), creds).hasBlob(rec.blob.digest)).toBe(true);
    }
    const basic = `Basic ${Buffer.from('ci:pw').toString('base64')}`;
    expect(realms).toEqual({
      'https://auth.example.test': basic,
      'http://127.0.0.1:5006': basic,
      'http://tokens.example.test': undefined,
    });
    const printed = stdout.mock.calls.map((c) => String(c[0])).join('');
    stdout.mockRestore();
    expect(printed).toMatch(
      /::warning::The credentials for 127\.0\.0\.1:5005 are not sent to its token service http:\/\/tokens\.example\.test/,
    );
  });

  it('a manifest or blob asked for by digest must hash to that digest', async () => {
    const answer = (body: string) =>
      vi.stubGlobal(
        'fetch',
        async () => new Response(body, { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } }),
      );
    const client = new RegistryClient(registryOf('127.0.0.1:5004/acme/api'));
    answer(rec.manifest.data);
    expect((await client.manifestRaw(rec.manifest.digest))?.body.toString()).toBe(rec.manifest.data);
    // By tag there is nothing to check against.
    expect((await client.manifestRaw('1.3.0'))?.body.toString()).toBe(rec.manifest.data);
    answer(`${rec.manifest.data} `);
    await expect(client.manifestRaw(rec.manifest.digest)).rejects.toThrow(
      new RegExp(`^127\\.0\\.0\\.1:5004/acme/api answered manifest ${rec.manifest.digest} with bytes whose digest is sha256:[0-9a-f]{64}$`),
    );
    answer(rec.blob.data);
    expect((await client.blob(rec.blob.digest)).toString()).toBe(rec.blob.data);
    answer('tampered');
    await expect(client.blob(rec.blob.digest)).rejects.toThrow(/answered blob sha256:[0-9a-f]{64} with bytes whose digest is/);
  });
});
