#!/usr/bin/env node
// npm run bench: the fixture service (Gin + Prometheus, 28 modules from the
// local proxy) for linux/amd64 + linux/arm64, two arms measured in the same
// run, each case on a fresh builder (`buildx prune -af`, and no image of this run left in the engine), as on
// a new runner:
//   arm 1: plain registry layer cache, configured the way docker/build-push-action
//          users do (cache-from/cache-to type=registry,mode=max, push)
//   arm 2: this action (dist/index.js run as the runner would), push, smoke test off
//          so both arms do the same work: restore + build + push; the post step saves.
// Cases: cold, no change, code-only change, go.sum change, base-image bump (the base's digest changes,
// nothing else; each arm bumps it again before its own run). Then, this action only: ten code-only changes
// in a row (how big the saved GOCACHE gets), a later step writing a coverage file into the context between
// main and post, then the next code change, and the smoke test's cost on a no-change run (HTTP /healthz,
// both platforms, arm64 under QEMU).
//
// The local GOPROXY listens on a fixed port (GBA_BENCH_GOPROXY_PORT, default 38471):
// its URL is a build arg, so a random port would make `go mod download` miss the
// layer cache between bench runs.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, runAction } from './run-action.mjs';
import { goGetArgs, startGoProxy } from './goproxy.mjs';

const REGISTRY = 'localhost:5000';
const PLATFORMS = 'linux/amd64,linux/arm64';
const PROXY_PORT = Number(process.env.GBA_BENCH_GOPROXY_PORT ?? 38471);
const GROWTH_CHANGES = Number(process.env.GBA_BENCH_GROWTH ?? 10);
const run = `bench-${Date.now().toString(36)}`;
/** The Go stage's base: the golang stand-in under a tag of this run, so that the bench can bump it. */
const BASE = `${REGISTRY}/${run}/golang:1.24`;

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

/**
 * As on a new runner: no build cache, and none of the images this run built left in the engine. An image
 * left there changes the next build's layer cache export on this engine: after arm 1's image, arm 2's cold
 * export held one layer fewer, and its code-only change then took no builder step from the layer cache
 * (20 % instead of 50 %); with that image removed first, 50 %. The base images stay, as pulled ones would.
 */
function freshBuilder() {
  sh('docker', ['buildx', 'prune', '-af']);
  const mine = sh('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
    .split('\n')
    .filter((r) => r.startsWith(`${REGISTRY}/${run}/`) && r !== BASE);
  if (mine.length > 0) sh('docker', ['image', 'rm', ...mine]);
  // What the last run wrote (a cold build and its cache export write gigabytes) is flushed before the next
  // starts: its writeback would otherwise fall into the next run's time, which is the other arm's half the time.
  sh('sync', []);
}

/** Async, so the in-process proxy keeps serving while buildx runs. */
function spawnCollect(cmd, args) {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ code, out }));
  });
}

/** Hit rate from plain progress: Dockerfile steps ("#N [stage k/n] INSTR") other than FROM, and which are CACHED. */
function plainHitRate(log) {
  const steps = new Set();
  for (const m of log.matchAll(/^#(\d+) \[[^\]]*\d+\/\d+\] (\w+)/gm)) if (m[2] !== 'FROM') steps.add(m[1]);
  const cached = [...steps].filter((n) => new RegExp(`^#${n} CACHED$`, 'm').test(log)).length;
  return steps.size ? ((cached / steps.size) * 100).toFixed(1) : '0.0';
}

function workspace(name) {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), `gba-bench-${name}-`));
  fs.cpSync(path.join(ROOT, '__tests__/e2e/goservice'), ws, { recursive: true });
  const dockerfile = path.join(ws, 'Dockerfile');
  fs.writeFileSync(dockerfile, fs.readFileSync(dockerfile, 'utf8').replace(' golang:1.24 AS builder', ` ${BASE} AS builder`));
  return ws;
}

/** A nightly rebuild of the base: one more layer, pushed under the same tag. */
async function bumpBase() {
  const r = await new Promise((resolve) => {
    const c = spawn('docker', ['build', '-q', '-t', BASE, '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ code, out }));
    c.stdin.end(`FROM ${BASE}\nRUN echo ${Date.now()} >/etc/bench-bump\n`);
  });
  if (r.code !== 0) throw new Error(`bumping the base failed:\n${r.out}`);
  sh('docker', ['push', '-q', BASE]);
}

async function goGet(ws, proxy) {
  const r = await spawnCollect('docker', goGetArgs(ws, proxy.url, 'github.com/pkg/errors'));
  if (r.code !== 0) throw new Error(`go get failed:\n${r.out}`);
}

const codeChange = (ws) => fs.appendFileSync(path.join(ws, 'main.go'), `\n// bench change ${Date.now()}\n`);
const CASES = [
  ['cold', () => undefined],
  ['no change', () => undefined],
  ['code-only change', codeChange],
  ['go.sum change', (ws, proxy) => goGet(ws, proxy)],
  // The bump is the base's, once for both arms: each builds on a base newer than its last build's.
  ['base-image bump', () => undefined, bumpBase],
];

/**
 * Plain buildx has no retry, and this registry (distribution 2.8) sometimes answers 500 under load; the
 * action retries such a push (isTransientPushError). So that arm 1 has a time at all, it gets one more try,
 * from a fresh builder again, and the time and downloads are that try's alone (a retry on the warm builder
 * would add a second, cached build to arm 1's time, in the action's favour).
 */
async function plainBuild(args, fresh) {
  fresh();
  const t0 = Date.now();
  const r = await spawnCollect('docker', args);
  if (r.code === 0 || !/: 5\d\d /.test(r.out)) return { ...r, seconds: (Date.now() - t0) / 1000 };
  fresh();
  const t1 = Date.now();
  return { ...(await spawnCollect('docker', args)), seconds: (Date.now() - t1) / 1000, retried: true };
}

/** Arm 1, one case: a plain `buildx build` with a registry cache and a push, on a fresh builder. */
async function arm1Case(name, ws, proxy) {
  const cache = `${REGISTRY}/${run}/arm1-cache:buildcache`;
  const fresh = () => {
    freshBuilder();
    proxy.reset();
  };
  const r = await plainBuild(
    [
      'buildx',
      'build',
      '--progress=plain',
      '--platform',
      PLATFORMS,
      '--network',
      'host',
      '--build-arg',
      `GOPROXY=${proxy.url}`,
      '--build-arg',
      'GOSUMDB=off',
      '--cache-from',
      `type=registry,ref=${cache}`,
      '--cache-to',
      `type=registry,ref=${cache},mode=max,image-manifest=true,oci-mediatypes=true`,
      '--tag',
      `${REGISTRY}/${run}/arm1:latest`,
      '--output',
      'type=image,push=true',
      ws,
    ],
    fresh,
  );
  if (r.code !== 0) throw new Error(`arm 1 ${name} failed:\n${r.out.slice(-3000)}`);
  if (r.retried) console.log(`arm 1 ${name}: the registry answered 5xx; ran again from a fresh builder (the time is that run's)`);
  return { name, wall: r.seconds, downloads: proxy.stats().zipDownloads, rate: plainHitRate(r.out) };
}

const UNITS = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
/** "GOCACHE: saved 330.29 MB" (the post step's log) in bytes; 0 when it saved nothing. */
function savedBytes(postLog, kind) {
  const m = new RegExp(`${kind}: saved ([\\d.]+) (B|kB|MB|GB)`).exec(postLog);
  return m ? Number(m[1]) * UNITS[m[2]] : 0;
}

/** Seconds of each phase the action logs ("Image sizes: 0.45s"), and of the Go steps and cache vertices. */
function split(log) {
  const phase = (name) => Number(new RegExp(`^${name}[^\\n]*: ([\\d.]+)s$`, 'm').exec(log)?.[1] ?? 0);
  const vertex = (re) => {
    const ids = [...log.matchAll(new RegExp(`^#(\\d+) ${re}`, 'gm'))].map((m) => m[1]);
    return Math.max(0, ...ids.map((id) => Number(new RegExp(`^#${id} DONE ([\\d.]+)s$`, 'm').exec(log)?.[1] ?? 0)));
  };
  return {
    setup: phase('Set up Buildx'),
    restore: phase('Restore Go caches'),
    build: phase('Build '),
    goBuild: vertex('\\[[^\\]]*builder \\d+/\\d+\\] RUN .*go build'),
    modDownload: vertex('\\[[^\\]]*builder \\d+/\\d+\\] RUN .*go mod download'),
    cacheImport: vertex('importing cache manifest'),
    cacheExport: vertex('exporting cache to registry'),
    sizes: phase('Image sizes'),
    smoke: phase('Smoke test'),
    push: phase('Push '),
  };
}

async function actionRun(ws, proxy, extra = {}, opts = {}) {
  freshBuilder();
  proxy.reset();
  const r = await runAction(
    {
      tags: `${REGISTRY}/${run}/arm2:latest`,
      push: 'true',
      platforms: PLATFORMS,
      network: 'host',
      'build-args': `GOPROXY=${proxy.url}\nGOSUMDB=off`,
      'cache-ref': `${REGISTRY}/${run}/arm2-cache`,
      'smoke-test': 'false',
      ...extra,
    },
    { workspace: ws, env: { GITHUB_REF: 'refs/heads/main' }, ...opts },
  );
  if (r.exitCode !== 0) throw new Error(`arm 2 failed:\n${r.log.slice(-3000)}`);
  const restored = JSON.parse(r.outputs['go-cache-restored'] ?? '{}');
  const save = /Go cache save took ([\d.]+)s/.exec(r.post.log)?.[1];
  return {
    wall: r.seconds,
    downloads: proxy.stats().zipDownloads,
    rate: r.outputs['cache-hit-rate'],
    restore: restored.seconds ?? 0,
    restoredBytes: (restored.mod?.bytes ?? 0) + (restored.build?.bytes ?? 0),
    skipped: restored.skipped,
    save: save ? Number(save) : 0,
    // The action's own layer cache export runs in post (outside cache-strict).
    layerExport: Number(/^Export the layer cache: ([\d.]+)s$/m.exec(r.post.log)?.[1] ?? 0),
    post: r.post.seconds,
    gocache: savedBytes(r.post.log, 'GOCACHE'),
    split: split(r.log),
    smoke: r.outputs['smoke-result'] ? JSON.parse(r.outputs['smoke-result']) : undefined,
  };
}

/**
 * Both arms, case by case: the two runs of a case back to back, each on its own workspace and cache. The
 * machine's speed moves by tens of percent within minutes here, and a ratio of two runs minutes apart (every
 * case of arm 1, then every case of arm 2, as before) carried that drift: in one such run a plain cold build
 * took 37.4 s, and the action's 40.5 s about three minutes later.
 */
async function bothArms(proxy) {
  const ws1 = workspace('arm1');
  const ws2 = workspace('arm2');
  const a1 = [];
  const a2 = [];
  for (const [name, prepare, shared] of CASES) {
    await shared?.();
    await prepare(ws1, proxy);
    a1.push(await arm1Case(name, ws1, proxy));
    await prepare(ws2, proxy);
    a2.push({ name, ...(await actionRun(ws2, proxy)) });
  }
  return { a1, ws: ws2, a2 };
}

/**
 * GOCACHE growth: ten code-only changes in a row, each saved. A later step writing a coverage file into the
 * context between main and post, then (a fresh checkout) the next code change. The smoke test's cost with no
 * change: HTTP /healthz on both platforms (arm64 under QEMU), against the same run without it.
 */
async function extras(ws, proxy, fresh) {
  const growth = [];
  for (let i = 1; i <= GROWTH_CHANGES; i++) {
    codeChange(ws);
    const r = await actionRun(ws, proxy);
    growth.push({ change: i, gocache: r.gocache, wall: r.wall, post: r.post });
  }
  codeChange(ws);
  const coverage = path.join(ws, 'coverage.out');
  const written = await actionRun(ws, proxy, {}, { beforePost: () => fs.writeFileSync(coverage, `mode: set\nbench ${Date.now()}\n`) });
  fs.rmSync(coverage);
  codeChange(ws);
  const next = await actionRun(ws, proxy);
  const off = await actionRun(ws, proxy);
  const on = await actionRun(ws, proxy, { 'smoke-test': 'true', 'health-path': '/healthz' });
  const platforms = Object.values(on.smoke ?? {});
  return {
    growth,
    fresh,
    laterWrite: { exported: written.layerExport > 0, post: written.post, next },
    smoke: {
      off: off.wall,
      on: on.wall,
      phase: on.split.smoke,
      platforms: platforms.map((x) => x.elapsed_ms),
      healthy: platforms.map((x) => x.ms),
      probe: platforms[0]?.probe,
    },
  };
}

const f = (n) => n.toFixed(1).padStart(6);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function report(a1, a2, x) {
  console.log(
    '| case | arm 1 wall s | arm 1 downloads | arm 1 hit % | arm 2 main s | arm 2 downloads | arm 2 hit % | arm 2 Go cache restored | arm 2 restore s | arm 2 post (save) s | main ÷ arm 1 | main + post ÷ arm 1 |',
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
  for (let i = 0; i < CASES.length; i++) {
    const p = a1[i];
    const y = a2[i];
    const restored = y.skipped ? `0 (skipped: ${y.skipped})` : mb(y.restoredBytes);
    console.log(
      `| ${p.name} | ${f(p.wall)} | ${p.downloads} | ${p.rate} | ${f(y.wall)} | ${y.downloads} | ${y.rate} | ${restored} | ${f(y.restore)} | ${f(y.post)} (${y.save.toFixed(1)}) | ${(y.wall / p.wall).toFixed(2)} | ${((y.wall + y.post) / p.wall).toFixed(2)} |`,
    );
  }
  console.log('\nWhere the seconds of arm 2 go (s):\n');
  const keys = Object.keys(a2[0].split);
  console.log(`| case | ${keys.join(' | ')} | post layer export | post save |`);
  console.log(`| --- | ${keys.map(() => '--:').join(' | ')} | --: | --: |`);
  for (const y of a2)
    console.log(
      `| ${y.name} | ${keys.map((k) => y.split[k].toFixed(2)).join(' | ')} | ${y.layerExport.toFixed(2)} | ${y.save.toFixed(2)} |`,
    );

  console.log(`\nSaved GOCACHE over ${x.growth.length} code-only changes in a row (fresh build: ${mb(x.fresh)}):\n`);
  console.log('| change | saved GOCACHE | ÷ fresh | main s | post s |');
  console.log('| --: | --: | --: | --: | --: |');
  for (const g of x.growth) {
    console.log(
      `| ${g.change} | ${g.gocache ? mb(g.gocache) : 'not saved'} | ${g.gocache ? (g.gocache / x.fresh).toFixed(2) : '-'} | ${f(g.wall)} | ${f(g.post)} |`,
    );
  }
  const noneP = a1[1].wall;
  const slowest = Math.max(...x.smoke.healthy.map((ms) => ms ?? 0));
  console.log(
    `\nSmoke test on a no-change run (${x.smoke.probe}): main ${x.smoke.on.toFixed(1)} s with it, ${x.smoke.off.toFixed(1)} s without ` +
      `(adds ${(x.smoke.on - x.smoke.off).toFixed(2)} s = ${((x.smoke.on - x.smoke.off) / noneP).toFixed(2)}× arm 1's no change); ` +
      `the phase took ${x.smoke.phase.toFixed(2)} s, platforms side by side (${x.smoke.platforms.join(' ms, ')} ms); ` +
      `the slowest platform was healthy ${slowest} ms after its start, the limit.`,
  );
  const lw = x.laterWrite;
  console.log(
    `\nA later step writes coverage.out into the context between main and post: post ${lw.exported ? 'exported' : 'did NOT export'} the layer cache (post ${lw.post.toFixed(1)} s). ` +
      `The next code change: main ${lw.next.wall.toFixed(1)} s, ${lw.next.downloads} module downloads (a code change without the write: ${a2[2].wall.toFixed(1)} s).`,
  );

  const [cold, none, code, , bump] = [0, 1, 2, 3, 4].map((i) => ({ p: a1[i], y: a2[i] }));
  const last = x.growth.at(-1)?.gocache ?? 0;
  const ratio = (y, p) => (y / p).toFixed(2);
  const added = x.smoke.on - x.smoke.off;
  const goals = [
    [`code-only: main ≤ 0.10× arm 1 (${ratio(code.y.wall, code.p.wall)})`, code.y.wall <= 0.1 * code.p.wall],
    [
      `code-only: main + post ≤ 0.20× arm 1 (${ratio(code.y.wall + code.y.post, code.p.wall)})`,
      code.y.wall + code.y.post <= 0.2 * code.p.wall,
    ],
    [`code-only: 0 module downloads (${code.y.downloads})`, code.y.downloads === 0],
    [`no change: main ≤ 1.25× arm 1 (${ratio(none.y.wall, none.p.wall)})`, none.y.wall <= 1.25 * none.p.wall],
    [`no change: 0 bytes of Go cache moved (${none.y.restoredBytes})`, none.y.restoredBytes === 0],
    [`smoke test adds ≤ 0.25× arm 1's no change (${(added / noneP).toFixed(2)})`, added <= 0.25 * noneP],
    [`cold: main ≤ 1.0× arm 1 (${ratio(cold.y.wall, cold.p.wall)})`, cold.y.wall <= cold.p.wall],
    [
      `base-image bump: Go caches restored (${bump.y.skipped ? `skipped: ${bump.y.skipped}` : mb(bump.y.restoredBytes)}), 0 module downloads (${bump.y.downloads}), go build ran on the new base (${bump.y.split.goBuild.toFixed(1)} s)`,
      !bump.y.skipped && bump.y.downloads === 0 && bump.y.split.goBuild > 0,
    ],
    [
      `a later step writes into the context: post still exports, and the next code change is as fast (${lw.next.wall.toFixed(1)} s ≤ 1.2 × ${a2[2].wall.toFixed(1)} s, ${lw.next.downloads} downloads)`,
      lw.exported && lw.next.wall <= 1.2 * a2[2].wall && lw.next.downloads === 0,
    ],
    [
      `GOCACHE after ${x.growth.length} changes ≤ 1.2× fresh (${last ? (last / x.fresh).toFixed(2) : '?'})`,
      last > 0 && last <= 1.2 * x.fresh,
    ],
  ];
  console.log('\nGoals (issue 26, speed round 3):');
  for (const [what, ok] of goals) console.log(`- ${ok ? 'met' : 'NOT met'}: ${what}`);
}

const proxy = await startGoProxy({ port: PROXY_PORT });
try {
  // Which engine: the figures of one BuildKit are not another's (issue 23).
  const engine = sh('docker', ['version', '--format', '{{.Server.Version}}']).trim();
  const buildx = sh('docker', ['buildx', 'version']).trim().split(' ').slice(1, 2).join('');
  const store = sh('docker', ['info', '--format', '{{json .DriverStatus}}']).includes('io.containerd.snapshotter')
    ? 'containerd'
    : 'classic';
  console.log(
    `engine: Docker ${engine} (${store} image store), buildx ${buildx}\n` +
      `fixture service, ${PLATFORMS}, each case after buildx prune -af and a sync, with no image of this run in the engine, arm 1 then arm 2 back to back; ${os.cpus().length} cores; GOPROXY ${proxy.url}\n`,
  );
  sh('docker', ['tag', 'golang:1.24', BASE]);
  sh('docker', ['push', '-q', BASE]);
  const { a1, ws, a2 } = await bothArms(proxy);
  const x = await extras(ws, proxy, a2[0].gocache);
  report(a1, a2, x);
} finally {
  await proxy.close();
  spawn('docker', ['image', 'rm', BASE], { stdio: 'ignore' });
}
