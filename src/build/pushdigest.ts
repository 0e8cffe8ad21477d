// push-by-digest for the docker driver. Moby's BuildKit refuses it ("push-by-
// digest is currently not implemented for docker driver"), and `docker push`
// always pushes a tag. So the image the engine holds, once smoke-tested, is
// uploaded here through the registry API: every blob, then the manifests by
// digest, children first, and no tag. The pushed digest is the engine's own,
// so it is exactly the image that was tested.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { run } from '../exec.js';
import { isAttestation, type OciIndex, type OciManifest } from '../report/sizes.js';

export interface Blob {
  digest: string;
  mediaType: string;
}

/** Everything under a root descriptor, in upload order: blobs, then manifests children-first, the root last. */
export function uploadPlan(
  rootDigest: string,
  read: (digest: string) => OciIndex | OciManifest,
): { blobs: string[]; manifests: { digest: string; mediaType: string }[] } {
  const blobs = new Set<string>();
  const manifests: { digest: string; mediaType: string }[] = [];
  const visit = (digest: string, mediaType: string) => {
    const doc = read(digest);
    if ('manifests' in doc && Array.isArray(doc.manifests)) {
      for (const d of doc.manifests) visit(d.digest, d.mediaType ?? '');
    } else {
      const m = doc as OciManifest;
      blobs.add(m.config.digest);
      for (const l of m.layers ?? []) blobs.add(l.digest);
    }
    if (!manifests.some((x) => x.digest === digest))
      manifests.push({ digest, mediaType: (doc as { mediaType?: string }).mediaType ?? mediaType });
  };
  visit(rootDigest, '');
  return { blobs: [...blobs], manifests };
}

/** "ghcr.io/acme/api" → registry host and repository path; Docker Hub names get their defaults. */
export function registryOf(repository: string): { host: string; path: string; base: string } {
  const first = repository.split('/')[0];
  const isHost = repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = isHost ? first : 'registry-1.docker.io';
  let p = isHost ? repository.slice(first.length + 1) : repository;
  if (!isHost && !p.includes('/')) p = `library/${p}`;
  // Plain HTTP only for the loopback registry, as the docker CLI does.
  const plain = /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(host);
  return { host, path: p, base: `${plain ? 'http' : 'https'}://${host}` };
}

/** Credentials the docker CLI would use for a host: config.json auths, or a credential helper. */
export async function credentialsFor(host: string): Promise<{ username: string; password: string } | undefined> {
  const dir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
  let config: {
    auths?: Record<string, { auth?: string; identitytoken?: string }>;
    credsStore?: string;
    credHelpers?: Record<string, string>;
  } = {};
  try {
    config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const key = host === 'registry-1.docker.io' ? 'https://index.docker.io/v1/' : host;
  const helper = config.credHelpers?.[key] ?? config.credsStore;
  if (helper) {
    const res = await run(`docker-credential-${helper}`, ['get'], { input: key, allowFailure: true });
    if (res.exitCode === 0) {
      const c = JSON.parse(res.stdout) as { Username: string; Secret: string };
      return { username: c.Username, password: c.Secret };
    }
  }
  const entry = config.auths?.[key] ?? config.auths?.[`https://${key}`];
  if (entry?.auth) {
    const [username, ...rest] = Buffer.from(entry.auth, 'base64').toString('utf8').split(':');
    return { username, password: rest.join(':') };
  }
  return undefined;
}

const REQUEST_TIMEOUT_MS = 5 * 60 * 1000;

class RegistryClient {
  private token?: string;
  constructor(
    private readonly reg: { host: string; path: string; base: string },
    private readonly creds?: { username: string; password: string },
  ) {}

  private async request(method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
    const send = () =>
      fetch(url, {
        method,
        body: body ? new Uint8Array(body) : undefined,
        redirect: 'follow',
        // A registry that stops answering must fail the push, not hang the job.
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: { ...headers, ...(this.token ? { Authorization: this.token } : {}) },
      });
    let res = await send();
    if (res.status === 401 && !this.token) {
      await this.authenticate(res.headers.get('www-authenticate') ?? '');
      res = await send();
    }
    return res;
  }

  /** Basic auth, or the bearer token flow (realm, service, scope) that ghcr.io and Docker Hub use. */
  private async authenticate(challenge: string): Promise<void> {
    const basic = this.creds ? `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}` : undefined;
    if (/^basic/i.test(challenge)) {
      this.token = basic;
      return;
    }
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) throw new Error(`the registry ${this.reg.host} asked for authentication it did not describe: ${challenge}`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', `repository:${this.reg.path}:pull,push`);
    const res = await fetch(url, { headers: basic ? { Authorization: basic } : {}, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`getting a token from ${url.origin} failed: ${res.status}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    this.token = `Bearer ${body.token ?? body.access_token}`;
  }

  private url(p: string): string {
    return `${this.reg.base}/v2/${this.reg.path}/${p}`;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', this.url(`blobs/${digest}`));
    return res.ok;
  }

  async putBlob(digest: string, data: Buffer): Promise<void> {
    const start = await this.request('POST', this.url('blobs/uploads/'));
    if (start.status !== 202) throw new Error(`starting the upload of ${digest} failed: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location') ?? '', this.reg.base);
    location.searchParams.set('digest', digest);
    const done = await this.request('PUT', location.toString(), data, { 'Content-Type': 'application/octet-stream' });
    if (done.status !== 201) throw new Error(`uploading ${digest} failed: ${done.status} ${await done.text()}`);
  }

  async putManifest(digest: string, mediaType: string, data: Buffer): Promise<string | null> {
    const res = await this.request('PUT', this.url(`manifests/${digest}`), data, { 'Content-Type': mediaType });
    if (res.status !== 201) throw new Error(`pushing manifest ${digest} failed: ${res.status} ${await res.text()}`);
    return res.headers.get('docker-content-digest');
  }
}

/** Uploads the engine's image `ref` to `repository` by digest; returns the root digest. */
export async function pushEngineImageByDigest(ref: string, repository: string, workDir: string): Promise<string> {
  fs.mkdirSync(workDir, { recursive: true });
  const tar = path.join(workDir, 'image.tar');
  const dir = path.join(workDir, 'layout');
  fs.mkdirSync(dir, { recursive: true });
  try {
    await run('docker', ['save', '-o', tar, ref]);
    await run('tar', ['-xf', tar, '-C', dir]);
  } finally {
    fs.rmSync(tar, { force: true });
  }
  const blobPath = (d: string) => path.join(dir, 'blobs', ...d.split(':'));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as OciIndex;
  const root = index.manifests.find((d) => !isAttestation(d));
  if (!root) throw new Error(`docker save ${ref} holds no image`);
  const plan = uploadPlan(root.digest, (d) => JSON.parse(fs.readFileSync(blobPath(d), 'utf8')) as OciIndex | OciManifest);
  const reg = registryOf(repository);
  const client = new RegistryClient(reg, await credentialsFor(reg.host));
  let uploaded = 0;
  for (const b of plan.blobs) {
    if (await client.hasBlob(b)) continue;
    // A platform the engine does not hold (docker save skips it) cannot be pushed.
    if (!fs.existsSync(blobPath(b))) throw new Error(`blob ${b} is not in the engine's copy of ${ref}`);
    await client.putBlob(b, fs.readFileSync(blobPath(b)));
    uploaded++;
  }
  for (const m of plan.manifests) {
    const got = await client.putManifest(m.digest, m.mediaType, fs.readFileSync(blobPath(m.digest)));
    if (got && got !== m.digest) throw new Error(`the registry stored manifest ${m.digest} as ${got}`);
  }
  core.info(`Uploaded ${uploaded} of ${plan.blobs.length} blob(s) and ${plan.manifests.length} manifest(s) to ${repository} by digest`);
  fs.rmSync(dir, { recursive: true, force: true });
  return root.digest;
}
