// Stand-ins for what attest-provenance talks to on GitHub, all on 127.0.0.1:
// the runner's OIDC token service, GitHub's token issuer (its JWKS), Fulcio,
// Rekor and the attestations API. The action reaches the https hosts through
// an http proxy (https_proxy, which @actions/http-client and Sigstore's fetch
// honour) that answers CONNECT itself with a certificate from a test CA
// (NODE_EXTRA_CA_CERTS), so the bundle's real code runs unchanged and every
// request it makes is captured. The stand-in Fulcio is honest: it checks the
// proof of possession and certifies exactly the key it was sent, so the test
// can verify the bundle's signature with the certificate it holds.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export const HOSTS = ['token.actions.githubusercontent.com', 'fulcio.sigstore.dev', 'rekor.sigstore.dev'];
const ISSUER = 'https://token.actions.githubusercontent.com';

export interface Captured {
  host: string;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface StandIn {
  /** The environment a runner gives a job with `permissions: id-token: write`, plus the proxy and CA. */
  env: Record<string, string>;
  captured: Captured[];
  /** CONNECT targets the proxy refused (anything but HOSTS). */
  refused: string[];
  /** Every OIDC token issued (the action masks them). */
  tokens: string[];
  caPem: string;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=gba stand-in CA', '-days', '1']);
  openssl(dir, ['req', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=gba stand-in']);
  fs.writeFileSync(path.join(dir, 'tls.ext'), `subjectAltName=${HOSTS.map((h) => `DNS:${h}`).join(',')}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'tls.ext',
    '-out',
    'tls.pem',
  ]);
}

/** A Fulcio-shaped code-signing certificate for `publicKeyPem`, naming the workflow as Fulcio does (SAN URI). */
function certify(dir: string, publicKeyPem: string, workflowRef: string): string {
  const n = crypto.randomUUID();
  fs.writeFileSync(path.join(dir, `${n}.pub`), publicKeyPem);
  fs.writeFileSync(path.join(dir, `${n}.ext`), `subjectAltName=URI:https://github.com/${workflowRef}\nextendedKeyUsage=codeSigning\n`);
  const ca = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-days', '1'];
  openssl(dir, [
    'x509',
    '-new',
    '-force_pubkey',
    `${n}.pub`,
    '-subj',
    '/O=sigstore.dev',
    ...ca,
    '-extfile',
    `${n}.ext`,
    '-out',
    `${n}.pem`,
  ]);
  return fs.readFileSync(path.join(dir, `${n}.pem`), 'utf8');
}

function jwtClaims(audience: string, env: Record<string, string>): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: audience,
    sub: `repo:${env.GITHUB_REPOSITORY}:ref:${env.GITHUB_REF}`,
    iat: now,
    nbf: now - 5,
    exp: now + 600,
    ref: env.GITHUB_REF,
    sha: env.GITHUB_SHA,
    repository: env.GITHUB_REPOSITORY,
    repository_id: '123456',
    repository_owner_id: '654321',
    event_name: env.GITHUB_EVENT_NAME,
    workflow_ref: env.GITHUB_WORKFLOW_REF,
    job_workflow_ref: env.GITHUB_WORKFLOW_REF,
    runner_environment: 'github-hosted',
    run_id: env.GITHUB_RUN_ID,
    run_attempt: '1',
  };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const listen = (s: http.Server) =>
  new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

/** `run` gives the GITHUB_* values the token's claims carry (as the real token service does). */
export async function startStandIn(dir: string, run: Record<string, string>, attestationId = 4242): Promise<StandIn> {
  makeCa(dir);
  const signing = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'gba-standin';
  const captured: Captured[] = [];
  const refused: string[] = [];
  const tokens: string[] = [];
  const requestToken = `standin-${crypto.randomUUID()}`;

  const issue = (audience: string) => {
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const payload = b64url(JSON.stringify(jwtClaims(audience, run)));
    const sig = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), signing.privateKey);
    const token = `${header}.${payload}.${b64url(sig)}`;
    tokens.push(token);
    return token;
  };

  const handle = (host: string, req: http.IncomingMessage, res: http.ServerResponse) =>
    serve(host, req, res).catch((err: Error) => json(res, 500, { message: `the stand-in failed: ${err.message}` }));
  const serve = async (host: string, req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', `http://${host}`);
    captured.push({ host, method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body });
    if (host === 'token.actions.githubusercontent.com' && url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, { issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks` });
    }
    if (host === 'token.actions.githubusercontent.com' && url.pathname === '/.well-known/jwks') {
      return json(res, 200, { keys: [{ ...signing.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
    }
    if (host === 'fulcio.sigstore.dev' && url.pathname === '/api/v2/signingCert') {
      const r = JSON.parse(body);
      const token: string = r.credentials.oidcIdentityToken;
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
      const pem: string = r.publicKeyRequest.publicKey.content;
      // The proof of possession: the token's subject, signed with the key to certify.
      const pop = crypto.verify('sha256', Buffer.from(claims.sub), pem, Buffer.from(r.publicKeyRequest.proofOfPossession, 'base64'));
      if (!tokens.includes(token) || claims.aud !== 'sigstore' || !pop) return json(res, 400, { message: 'bad request' });
      const chain = [certify(dir, pem, claims.job_workflow_ref), fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')];
      return json(res, 201, { signedCertificateEmbeddedSct: { chain: { certificates: chain } } });
    }
    if (host === 'rekor.sigstore.dev' && url.pathname === '/api/v1/log/entries' && req.method === 'POST') {
      const logIndex = captured.filter((c) => c.host === host).length;
      const entry = {
        body: Buffer.from(body).toString('base64'),
        integratedTime: Math.floor(Date.now() / 1000),
        logID: crypto.createHash('sha256').update('gba stand-in rekor').digest('hex'),
        logIndex,
        verification: {
          signedEntryTimestamp: crypto.sign('sha256', Buffer.from(body), signing.privateKey).toString('base64'),
          inclusionProof: {
            logIndex,
            treeSize: logIndex + 1,
            rootHash: crypto.createHash('sha256').update(body).digest('hex'),
            hashes: [],
            checkpoint: `rekor.sigstore.dev - stand-in\n${logIndex + 1}\n\n`,
          },
        },
      };
      return json(res, 201, { [crypto.randomUUID().replace(/-/g, '')]: entry });
    }
    if (host === 'api' && /^\/token$/.test(url.pathname)) {
      if (req.headers.authorization !== `Bearer ${requestToken}`) return json(res, 401, { message: 'bad request token' });
      return json(res, 200, { value: issue(url.searchParams.get('audience') ?? '') });
    }
    if (host === 'api' && req.method === 'POST' && url.pathname === `/repos/${run.GITHUB_REPOSITORY}/attestations`) {
      return json(res, 201, { id: attestationId });
    }
    json(res, 404, { message: `the stand-in has no ${host} ${req.method} ${url.pathname}` });
  };

  const tls = https.createServer(
    { key: fs.readFileSync(path.join(dir, 'tls.key')), cert: fs.readFileSync(path.join(dir, 'tls.pem')) },
    (req, res) => void handle((req.headers.host ?? '').replace(/:\d+$/, ''), req, res),
  );
  const proxy = http.createServer((req, res) => void handle('api', req, res));
  proxy.on('connect', (req, socket) => {
    const host = (req.url ?? '').replace(/:\d+$/, '');
    if (!HOSTS.includes(host)) {
      refused.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    tls.emit('connection', socket);
  });
  const port = await listen(proxy);
  const proxyUrl = `http://127.0.0.1:${port}`;
  return {
    env: {
      https_proxy: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      no_proxy: '127.0.0.1,localhost',
      NO_PROXY: '127.0.0.1,localhost',
      NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
      ACTIONS_ID_TOKEN_REQUEST_URL: `${proxyUrl}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      GITHUB_API_URL: proxyUrl,
    },
    captured,
    refused,
    tokens,
    caPem: fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        tls.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}
