// Shared helpers for the e2e tests: engine detection (a hard failure in CI),
// throwaway workspaces, and an independent view of the registry over HTTP.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ROOT } from '../../scripts/run-action.mjs';
import { OWNER_LABEL } from '../../src/constants.js';

export const REGISTRY = 'localhost:5000';
export const REGISTRY_HTTP = 'http://127.0.0.1:5000';

function probe(): string | undefined {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  if (info.status !== 0) return `docker info failed: ${(info.stderr || info.stdout).trim().split('\n').pop()}`;
  const reg = spawnSync('curl', ['-sf', `${REGISTRY_HTTP}/v2/`]);
  if (reg.status !== 0) return `no registry answers on ${REGISTRY_HTTP}`;
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) return 'dist/index.js is missing: run npm run build';
  return undefined;
}

const why = probe();
if (why && process.env.CI === 'true') {
  // In CI an e2e test is never skipped: a missing engine fails the run.
  throw new Error(`E2E tests need the engine (scripts/engine.sh up) and CI=true forbids skipping them: ${why}`);
}
if (why) {
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!!! E2E TESTS SKIPPED: ${why}\n!!! Bring the engine up with: sudo scripts/engine.sh up\n${bar}\n`);
}
export const engineUp = why === undefined;

export function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** A copy of the example service in a fresh workspace. */
export function exampleWorkspace(): string {
  return workspace('example');
}

export function uniqueRepo(name: string): string {
  return `${REGISTRY}/e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}/${name}`;
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** GET a manifest from the registry; undefined on 404. */
export async function registryManifest(repoWithHost: string, reference: string): Promise<{ digest: string; body: any } | undefined> {
  const repo = repoWithHost.replace(/^[^/]+\//, '');
  const res = await fetch(`${REGISTRY_HTTP}/v2/${repo}/manifests/${reference}`, { headers: { Accept: ACCEPT } });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`registry answered ${res.status} for ${repo}:${reference}`);
  return { digest: res.headers.get('docker-content-digest') ?? '', body: await res.json() };
}

export async function registryTags(repoWithHost: string): Promise<string[]> {
  const repo = repoWithHost.replace(/^[^/]+\//, '');
  const res = await fetch(`${REGISTRY_HTTP}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}

export function prune(): void {
  sh('docker', ['buildx', 'prune', '-af']);
}

/** The Dockerfile steps the action's log marks CACHED, by name. */
export function cachedStepsInLog(log: string): { cached: string[]; steps: string[] } {
  const names = new Map<string, string>();
  const steps = new Set<string>();
  const cached = new Set<string>();
  for (const line of log.split('\n')) {
    const head = /^(#\d+) (\[.*)$/.exec(line);
    if (head) {
      names.set(head[1], head[2]);
      if (/^\[[^\]]*\d+\/\d+\] (?!FROM )[A-Z]+/.test(head[2])) steps.add(head[1]);
    }
    const done = /^(#\d+) CACHED$/.exec(line);
    if (done && steps.has(done[1])) cached.add(done[1]);
  }
  return { cached: [...cached].map((k) => names.get(k)!), steps: [...steps].map((k) => names.get(k)!) };
}

/** Starts an extra registry on loopback (with basic auth when htpasswd is given; refusing deletes with `deletes: false`). */
export function startRegistry(port: number, dir: string, htpasswd?: string, opts: { deletes?: boolean } = {}): void {
  const args = [htpasswd ?? '', ...(opts.deletes === false ? ['nodelete'] : [])];
  sh('bash', [path.join(ROOT, 'scripts/engine.sh'), 'registry', String(port), dir, ...args]);
}

export function stopRegistry(port: number, dir: string): void {
  const pidFile = `${dir}.pid`;
  if (!fs.existsSync(pidFile)) return;
  try {
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM');
  } catch {
    // already gone
  }
  fs.rmSync(pidFile, { force: true });
  for (let i = 0; i < 40 && spawnSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/v2/`]).status === 0; i++) {
    spawnSync('sleep', ['0.25']);
  }
}

/** Blob bytes from the local registry, gunzipped when they are gzip. */
export async function registryBlob(repoWithHost: string, digest: string): Promise<Buffer> {
  const repo = repoWithHost.replace(/^[^/]+\//, '');
  const res = await fetch(`${REGISTRY_HTTP}/v2/${repo}/blobs/${digest}`);
  if (!res.ok) throw new Error(`blob ${digest}: ${res.status}`);
  const buf = Buffer.from(await res.arrayBuffer());
  if (buf[0] === 0x1f && buf[1] === 0x8b) return gunzipSync(buf);
  // zstd (the Go cache images): Node 20's zlib has no zstd, the CLI does.
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0xfd2fb528) return execFileSync('zstd', ['-dc'], { input: buf, maxBuffer: 2 * 1024 ** 3 });
  return buf;
}

/** Occurrences of needle in buf. */
export function occurrences(buf: Buffer | string, needle: string): number {
  const hay = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
  let n = 0;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

/** Containers carrying the action's label: "ID labels" per line. */
export function leftoverContainers(): string[] {
  return sh('docker', ['ps', '-a', '--filter', `label=${OWNER_LABEL}`, '--format', '{{.ID}} {{.Labels}}'])
    .split('\n')
    .filter(Boolean);
}

/** Wall seconds of each step whose name matches, from the action's log ("#N [label] RUN ..." then "#N DONE 1.2s"). */
export function stepDurations(log: string, pattern: RegExp): { label: string; seconds: number }[] {
  const out: { label: string; seconds: number }[] = [];
  for (const m of log.matchAll(/^#(\d+) \[([^\]]*)\] (.*)$/gm)) {
    if (!pattern.test(m[3])) continue;
    const done = new RegExp(`^#${m[1]} DONE (\\d+(?:\\.\\d+)?)s$`, 'm').exec(log);
    if (done) out.push({ label: m[2], seconds: Number(done[1]) });
  }
  return out;
}

/** Like sh, but async: the only way to run a command that talks to a server living in this same process. */
export function shAsync(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/**
 * A fresh workspace: a copy of `from` (a folder of this repository, e.g.
 * 'example'), if given, with `files` (relative path → content) written over it.
 */
export function workspace(from?: string, files: Record<string, string> = {}): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-ws-'));
  if (from) fs.cpSync(path.join(ROOT, from), ws, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), text);
  }
  return ws;
}

/** Copies a folder of this repository into a workspace under `dest`. */
export function copyInto(ws: string, from: string, dest: string): void {
  fs.cpSync(path.join(ROOT, from), path.join(ws, dest), { recursive: true });
}

/**
 * Where a secret could leak to, and how often it is there: the action's logs (its own mask
 * commands aside), every manifest, config (with the history) and layer of the pushed image,
 * and every image under the cache repository. `control` counts a needle known to be in a layer,
 * so that a scan that reads nothing cannot pass.
 */
export async function secretScan(o: {
  secret: string;
  logs: Record<string, string>;
  repo: string;
  tag: string;
  cacheRepo?: string;
  control: string;
  /** A needle known to be in the cache images whose tags start with a prefix (module zips in the module cache). */
  cacheControl?: { tagPrefix: string; needle: string };
}): Promise<{ found: Record<string, number>; control: number; cacheControl: number }> {
  const found: Record<string, number> = {};
  let control = 0;
  let cacheControl = 0;
  for (const [name, log] of Object.entries(o.logs)) {
    const visible = log
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n');
    found[`log ${name}`] = occurrences(visible, o.secret);
  }
  const scanImage = async (repo: string, ref: string, label: string, countCache = false) => {
    const top = await registryManifest(repo, ref);
    const digests = top!.body.manifests ? top!.body.manifests.map((m: any) => m.digest) : [top!.digest];
    found[`${label} index`] = occurrences(JSON.stringify(top!.body), o.secret);
    for (const d of digests) {
      const m = await registryManifest(repo, d);
      found[`${label} manifest ${d.slice(0, 19)}`] = occurrences(JSON.stringify(m!.body), o.secret);
      if (m!.body.config)
        found[`${label} config+history ${d.slice(0, 19)}`] = occurrences(await registryBlob(repo, m!.body.config.digest), o.secret);
      for (const l of m!.body.layers ?? []) {
        const blob = await registryBlob(repo, l.digest);
        found[`${label} layer ${l.digest.slice(0, 19)}`] = occurrences(blob, o.secret);
        if (countCache) cacheControl += occurrences(blob, o.cacheControl!.needle);
        else control += occurrences(blob, o.control);
      }
    }
  };
  await scanImage(o.repo, o.tag, 'image');
  if (o.cacheRepo) {
    for (const t of await registryTags(o.cacheRepo)) {
      await scanImage(o.cacheRepo, t, `cache ${t}`, o.cacheControl !== undefined && t.startsWith(o.cacheControl.tagPrefix));
    }
  }
  return { found, control, cacheControl };
}

/** Inputs for the smoke fixture built to answer 500 on /healthz: an image that fails its smoke test, so nothing is pushed. */
export function failingSmokeInputs(repo: string): Record<string, string> {
  return {
    tags: `${repo}:1`,
    push: 'true',
    platforms: 'linux/amd64',
    'build-args': 'MODE=500',
    'health-path': '/healthz',
    'smoke-timeout': '3s',
  };
}

/**
 * Whether an engine leg can start here: it runs a second dockerd, which needs root. In CI it must (a missing
 * one fails the run); locally it is skipped with a loud banner.
 */
export function legsAllowed(what: string): boolean {
  const root = process.getuid?.() === 0;
  if (engineUp && !root) {
    if (process.env.CI === 'true') throw new Error(`The ${what} starts a second dockerd, which needs root; CI=true forbids skipping it`);
    console.warn(`\n!!! ${what.toUpperCase()} TESTS SKIPPED: starting a second dockerd needs root\n`);
  }
  return engineUp && root;
}

/**
 * Starts an engine leg (scripts/engine.sh leg NAME) and returns the environment that points a client at it:
 * DOCKER_HOST, and for the oldest leg DOCKER_CONFIG (its buildx plugin) and PATH (its cosign first).
 */
export function startLeg(name: 'oldest' | 'classic'): Record<string, string> {
  const out = sh('bash', [path.join(ROOT, 'scripts/engine.sh'), 'leg', name])
    .trim()
    .split('\n');
  const vars = Object.fromEntries(
    out.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const env: Record<string, string> = { DOCKER_HOST: vars.DOCKER_HOST };
  if (vars.DOCKER_CONFIG) env.DOCKER_CONFIG = vars.DOCKER_CONFIG;
  if (vars.GBA_PATH_PREFIX) env.PATH = `${vars.GBA_PATH_PREFIX}:${process.env.PATH}`;
  return env;
}

/** A single-manifest image staged by digest, as BuildKit stages one (no tag of its own but `staging`). */
export async function stagedSingleManifest(): Promise<{ source: string; digest: string; repo: string }> {
  const repo = uniqueRepo('staged');
  const golang = await registryManifest(`${REGISTRY}/library/golang`, '1.24');
  sh('docker', [
    'buildx',
    'imagetools',
    'create',
    '--prefer-index=false',
    '--tag',
    `${repo}:staging`,
    `${REGISTRY}/library/golang@${golang!.digest}`,
  ]);
  const staged = await registryManifest(repo, 'staging');
  const digest = staged!.body.manifests ? staged!.body.manifests[0].digest : staged!.digest;
  return { source: `${repo}@${digest}`, digest, repo };
}

/**
 * The debug lines of the buildx runs of `sub` (build, inspect, …) in a log: through the docker CLI
 * (`"docker","buildx",sub`) or the plugin's binary run on its own (`".../docker-buildx",sub`, what the action
 * runs when it finds the plugin), or a standalone buildx from the tool cache.
 */
export function buildxExecs(log: string, sub: string): string[] {
  const start = new RegExp(`^::debug::exec: \\[(?:"docker","buildx"|"[^"]*(?:docker-buildx|/buildx)"),"${sub}"`);
  return log.split('\n').filter((l) => start.test(l));
}

/**
 * Whether a run read the image sizes beside its smoke test: `docker save` started before the smoke phase
 * ended, and the sizes phase ended after it (read first, they end before the smoke test starts).
 */
export function sizesReadBesideSmoke(log: string): boolean {
  const save = log.indexOf('::debug::exec: ["docker","save"');
  const smokeEnd = log.search(/^Smoke test: [\d.]+s$/m);
  const sizesEnd = log.search(/^Image sizes: [\d.]+s$/m);
  return save >= 0 && smokeEnd > save && sizesEnd > smokeEnd;
}
