// A client of the OCI distribution API (auth, tags, manifests, blobs, referrers): the layer under the caches,
// the smoke test, the sizes, the push by digest and the signatures, which all speak to registries.
import * as out from '../output.js';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { basicAuthorization, type Credentials, credentialsFor, mayCarryCredentials, parseChallenge } from './auth.js';
import {
  isAttestation,
  type OciDescriptor,
  type OciIndex,
  type OciManifest,
  type PlatformManifest,
  platformManifests,
  sha256,
} from './oci.js';
import { type Registry, registryOf, splitRef } from '../ref.js';

const REQUEST_TIMEOUT_MS = 5 * 60 * 1000;
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/**
 * Why fetch failed, in the words of the CLI tools (Node's own message is only "fetch failed"; the
 * socket's reason is in its cause).
 */
export function unreachable(err: Error): string {
  const cause = (err as Error & { cause?: Error & { code?: string } }).cause;
  const words: Record<string, string> = { ECONNREFUSED: 'connection refused', ENOTFOUND: 'no such host', ETIMEDOUT: 'timed out' };
  if (cause?.code && words[cause.code]) return `${words[cause.code]} (${cause.message})`;
  return cause?.message ?? err.message;
}

/** A client for `repository` with the credentials the docker CLI would use. */
export async function registryClient(repository: string, actions = 'pull,push', timeoutMs = REQUEST_TIMEOUT_MS): Promise<RegistryClient> {
  const reg = registryOf(repository);
  return new RegistryClient(reg, await credentialsFor(reg), actions, timeoutMs);
}

/** The tags already in a repository. */
export async function registryTags(repository: string): Promise<string[]> {
  return (await registryClient(repository)).tags();
}

export class RegistryClient {
  private token?: string;
  private warnedWithheld = false;
  constructor(
    private readonly reg: Registry,
    private readonly creds?: Credentials,
    /** The token scope's actions; deleting needs `delete` on Docker Hub and distribution's token auth. */
    private readonly actions = 'pull,push',
    /** Per request; a probe that only saves time (the fingerprint's base digests) gives up sooner than a push. */
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  private async request(method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
    const send = () =>
      fetch(url, {
        method,
        body: body ? new Uint8Array(body) : undefined,
        redirect: 'follow',
        // A registry that stops answering must fail the push, not hang the job.
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { ...headers, ...(this.token ? { Authorization: this.token } : {}) },
      }).catch((err: Error) => {
        throw new Error(`${this.reg.host} could not be reached: ${unreachable(err)}`);
      });
    const res = await send();
    if (res.status !== 401) return res;
    // The first request of a client, or a token that expired in a long run (ghcr.io's and Docker Hub's last
    // minutes; a large GOCACHE upload can outlast one): authenticate again, then send once more.
    await res.arrayBuffer().catch(() => undefined);
    await this.authenticate(res.headers.get('www-authenticate') ?? '');
    return send();
  }

  /** Basic auth, or the bearer token flow (realm, service, scope) that ghcr.io and Docker Hub use. */
  private async authenticate(header: string): Promise<void> {
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      this.token = this.creds && mayCarryCredentials(new URL(this.reg.base)) ? basicAuthorization(this.creds) : undefined;
      return;
    }
    if (!params.realm) throw new Error(`the registry ${this.reg.host} asked for authentication it did not describe: ${header}`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', `repository:${this.reg.path}:${this.actions}`);
    const withheld = this.creds !== undefined && !mayCarryCredentials(url);
    if (withheld && !this.warnedWithheld) {
      this.warnedWithheld = true;
      out.warning(
        `The credentials for ${this.reg.host} are not sent to its token service ${url.origin}: it is plain http and not on this machine (only https, or loopback, gets them). Asking for an anonymous token.`,
      );
    }
    const basic = this.creds && !withheld ? basicAuthorization(this.creds) : undefined;
    const res = await fetch(url, { headers: basic ? { Authorization: basic } : {}, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok)
      throw new Error(`getting a token from ${url.origin} failed: ${res.status}${withheld ? ' (sent without credentials)' : ''}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    this.token = `Bearer ${body.token ?? body.access_token}`;
  }

  /** Bytes asked for by digest must be the bytes of that digest, whatever answered. */
  private checkDigest(reference: string, body: Buffer, what: string): void {
    if (!/^sha256:[0-9a-f]{64}$/.test(reference)) return;
    const got = sha256(body);
    if (got !== reference)
      throw new Error(`${this.reg.host}/${this.reg.path} answered ${what} ${reference} with bytes whose digest is ${got}`);
  }

  private url(p: string): string {
    return `${this.reg.base}/v2/${this.reg.path}/${p}`;
  }

  /** Every tag of the repository (following the Link header's pages). */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = this.url('tags/list?n=1000');
    for (let page = 0; next && page < 50; page++) {
      const res = await this.request('GET', next);
      if (res.status === 404) return out;
      if (!res.ok) throw new Error(`listing the tags of ${this.reg.host}/${this.reg.path} failed: ${res.status}`);
      out.push(...(((await res.json()) as { tags?: string[] | null }).tags ?? []));
      const link = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      next = link ? new URL(link, this.reg.base).toString() : undefined;
    }
    return out;
  }

  /** The digest a tag points at now, as the registry computes it; undefined when the tag does not exist. */
  async manifestDigest(reference: string): Promise<string | undefined> {
    const res = await this.request('HEAD', this.url(`manifests/${reference}`), undefined, { Accept: MANIFEST_TYPES });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`reading ${this.reg.host}/${this.reg.path}:${reference} failed: ${res.status}`);
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  /** A manifest's JSON by digest or tag. */
  async manifest(reference: string): Promise<{ mediaType?: string; manifests?: { digest: string }[] }> {
    const raw = await this.manifestRaw(reference);
    if (!raw) throw new Error(`reading ${this.reg.host}/${this.reg.path}@${reference} failed: 404`);
    return JSON.parse(raw.body.toString('utf8')) as { mediaType?: string; manifests?: { digest: string }[] };
  }

  /** A manifest's bytes and media type (a descriptor needs both); undefined when it does not exist. */
  async manifestRaw(reference: string): Promise<{ body: Buffer; mediaType: string } | undefined> {
    const res = await this.request('GET', this.url(`manifests/${reference}`), undefined, { Accept: MANIFEST_TYPES });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`reading ${this.reg.host}/${this.reg.path}@${reference} failed: ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    this.checkDigest(reference, body, 'manifest');
    const mediaType = res.headers.get('content-type') ?? (JSON.parse(body.toString('utf8')) as { mediaType: string }).mediaType;
    return { body, mediaType };
  }

  /**
   * Whether the registry serves the OCI 1.1 referrers API. Distribution 2.8 (and other pre-1.1
   * registries) answer 404, and then referrers live under the fallback tag `sha256-<hex>`.
   */
  async hasReferrersApi(digest: string): Promise<boolean> {
    const res = await this.request('GET', this.url(`referrers/${digest}`), undefined, {
      Accept: 'application/vnd.oci.image.index.v1+json',
    });
    await res.arrayBuffer();
    return res.ok;
  }

  /** The referrers API's index for a digest; undefined when the registry has no such API. */
  async referrers(digest: string): Promise<{ body: Buffer; mediaType: string } | undefined> {
    const res = await this.request('GET', this.url(`referrers/${digest}`), undefined, {
      Accept: 'application/vnd.oci.image.index.v1+json',
    });
    if (!res.ok) {
      await res.arrayBuffer();
      return undefined;
    }
    return { body: Buffer.from(await res.arrayBuffer()), mediaType: 'application/vnd.oci.image.index.v1+json' };
  }

  /**
   * Deletes a manifest by digest. Registries may refuse: distribution answers 405 UNSUPPORTED unless
   * deletes are enabled, and ghcr.io has no delete in the registry API at all (only GitHub's packages API).
   */
  async deleteManifest(digest: string): Promise<{ deleted: boolean; status: number; detail: string }> {
    const res = await this.request('DELETE', this.url(`manifests/${digest}`));
    const detail = res.ok ? '' : (await res.text()).slice(0, 300).trim();
    return { deleted: res.status === 202 || res.status === 200, status: res.status, detail };
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', this.url(`blobs/${digest}`));
    return res.ok;
  }

  async blob(digest: string): Promise<Buffer> {
    const res = await this.request('GET', this.url(`blobs/${digest}`));
    if (!res.ok) throw new Error(`reading blob ${digest} of ${this.reg.host}/${this.reg.path} failed: ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    this.checkDigest(digest, body, 'blob');
    return body;
  }

  /** Starts an upload; the URL to PUT the blob to (the POST also authenticates, so the PUT is sent once). */
  private async uploadUrl(digest: string): Promise<URL> {
    const start = await this.request('POST', this.url('blobs/uploads/'));
    if (start.status !== 202) throw new Error(`starting the upload of ${digest} failed: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location') ?? '', this.reg.base);
    location.searchParams.set('digest', digest);
    return location;
  }

  async putBlob(digest: string, data: Buffer): Promise<void> {
    const location = await this.uploadUrl(digest);
    const done = await this.request('PUT', location.toString(), data, { 'Content-Type': 'application/octet-stream' });
    if (done.status !== 201) throw new Error(`uploading ${digest} failed: ${done.status} ${await done.text()}`);
  }

  /**
   * Uploads a blob from a file, streamed (a saved Go cache can be hundreds of MB). A stream cannot be sent
   * twice, so when the token expired during the upload (a 401 at the end), the upload starts over, once,
   * after a fresh token.
   */
  async putBlobFile(digest: string, file: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const location = await this.uploadUrl(digest);
      const done = await fetch(location, {
        method: 'PUT',
        body: Readable.toWeb(fs.createReadStream(file)) as ReadableStream<Uint8Array>,
        duplex: 'half',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(fs.statSync(file).size),
          ...(this.token ? { Authorization: this.token } : {}),
        },
      } as RequestInit).catch((err: Error) => {
        throw new Error(`${this.reg.host} could not be reached: ${unreachable(err)}`);
      });
      if (done.status === 401 && attempt === 1) {
        await done.arrayBuffer().catch(() => undefined);
        await this.authenticate(done.headers.get('www-authenticate') ?? '');
        continue;
      }
      if (done.status !== 201) throw new Error(`uploading ${digest} failed: ${done.status} ${await done.text()}`);
      return;
    }
  }

  async putManifest(digest: string, mediaType: string, data: Buffer): Promise<string | null> {
    const res = await this.request('PUT', this.url(`manifests/${digest}`), data, { 'Content-Type': mediaType });
    if (res.status !== 201) throw new Error(`pushing manifest ${digest} failed: ${res.status} ${await res.text()}`);
    return res.headers.get('docker-content-digest');
  }
}

/** The index and each platform manifest it lists (attestation manifests left out): what is signed and attested. */
export async function indexAndImages(repository: string, digest: string): Promise<string[]> {
  const doc = (await (await registryClient(repository)).manifest(digest)) as { manifests?: OciDescriptor[] };
  const children = (doc.manifests ?? []).filter((m) => !isAttestation(m));
  return [digest, ...children.map((m) => m.digest)];
}

/** A tag's platform manifests through the registry API (no process to start, unlike imagetools). */
export async function registryManifests(tag: string): Promise<PlatformManifest[]> {
  const { repository, tag: reference } = splitRef(tag);
  return manifestsAt(repository, reference ?? 'latest');
}

/** The platform manifests of what `reference` (a tag or a digest) names in `repository`. */
export async function manifestsAt(repository: string, reference: string): Promise<PlatformManifest[]> {
  const client = await registryClient(repository, 'pull');
  const get = async (r: string) => (await client.manifest(r)) as unknown as OciIndex | OciManifest;
  return platformManifests(await get(reference), get);
}
