#!/usr/bin/env node
// npm run bench: the fixture service (Gin + Prometheus, 28 modules from the
// local proxy) for linux/amd64 + linux/arm64, two arms measured in the same
// run, each case on a fresh builder (`buildx prune -af`), as on a new runner:
//   arm 1: plain registry layer cache, configured the way docker/build-push-action
//          users do (cache-from/cache-to type=registry,mode=max, push)
//   arm 2: this action (dist/index.js run as the runner would), push, smoke test off
//          so both arms do the same work: restore + build + push; the post step saves.
// Cases: cold, no change, code-only change, go.sum change (a new module).
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, runAction } from './run-action.mjs';
import { goGetArgs, startGoProxy } from './goproxy.mjs';

const REGISTRY = 'localhost:5000';
const PLATFORMS = 'linux/amd64,linux/arm64';
const run = `bench-${Date.now().toString(36)}`;

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
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
  return ws;
}

async function goGet(ws, proxy) {
  const r = await spawnCollect('docker', goGetArgs(ws, proxy.url, 'github.com/pkg/errors'));
  if (r.code !== 0) throw new Error(`go get failed:\n${r.out}`);
}

const CASES = [
  ['cold', () => undefined],
  ['no change', () => undefined],
  ['code-only change', (ws) => fs.appendFileSync(path.join(ws, 'main.go'), `\n// bench change ${Date.now()}\n`)],
  ['go.sum change', (ws, proxy) => goGet(ws, proxy)],
];

async function arm1(proxy) {
  const ws = workspace('arm1');
  const cache = `${REGISTRY}/${run}/arm1-cache:buildcache`;
  const rows = [];
  for (const [name, prepare] of CASES) {
    await prepare(ws, proxy);
    sh('docker', ['buildx', 'prune', '-af']);
    proxy.reset();
    const t0 = Date.now();
    const r = await spawnCollect('docker', [
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
    ]);
    if (r.code !== 0) throw new Error(`arm 1 ${name} failed:\n${r.out.slice(-3000)}`);
    rows.push({ name, wall: (Date.now() - t0) / 1000, downloads: proxy.stats().zipDownloads, rate: plainHitRate(r.out) });
  }
  return rows;
}

async function arm2(proxy) {
  const ws = workspace('arm2');
  const rows = [];
  for (const [name, prepare] of CASES) {
    await prepare(ws, proxy);
    sh('docker', ['buildx', 'prune', '-af']);
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
      },
      { workspace: ws, env: { GITHUB_REF: 'refs/heads/main' } },
    );
    if (r.exitCode !== 0) throw new Error(`arm 2 ${name} failed:\n${r.log.slice(-3000)}`);
    const downloads = proxy.stats().zipDownloads;
    const restored = JSON.parse(r.outputs['go-cache-restored'] ?? '{}');
    const save = /Go cache save took ([\d.]+)s/.exec(r.post.log)?.[1];
    rows.push({
      name,
      wall: r.seconds,
      downloads,
      rate: r.outputs['cache-hit-rate'],
      restore: restored.seconds ?? 0,
      save: save ? Number(save) : 0,
      post: r.post.seconds,
    });
  }
  return rows;
}

const proxy = await startGoProxy();
try {
  console.log(`fixture service, ${PLATFORMS}, each case after buildx prune -af; ${os.cpus().length} cores\n`);
  const a1 = await arm1(proxy);
  const a2 = await arm2(proxy);
  const f = (n) => n.toFixed(1).padStart(6);
  console.log(
    '| case | arm 1 wall s | arm 1 downloads | arm 1 hit % | arm 2 main s | arm 2 downloads | arm 2 hit % | arm 2 restore s | arm 2 post (save) s | main ÷ arm 1 | post ÷ arm 1 |',
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
  for (let i = 0; i < CASES.length; i++) {
    const x = a1[i];
    const y = a2[i];
    console.log(
      `| ${x.name} | ${f(x.wall)} | ${x.downloads} | ${x.rate} | ${f(y.wall)} | ${y.downloads} | ${y.rate} | ${f(y.restore)} | ${f(y.post)} (${y.save.toFixed(1)}) | ${(y.wall / x.wall).toFixed(2)} | ${(y.post / x.wall).toFixed(2)} |`,
    );
  }
  const code = 2;
  const ok = a2[code].wall <= 0.25 * a1[code].wall && a2[code].post <= 0.25 * a1[code].wall;
  console.log(`\ntarget on the code-only change (main ≤ 0.25× arm 1, post ≤ 0.25× arm 1): ${ok ? 'met' : 'NOT met'}`);
} finally {
  await proxy.close();
}
