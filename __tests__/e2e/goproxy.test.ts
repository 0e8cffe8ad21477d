// The fixture for Go-aware caching: a Gin + Prometheus service whose 28
// modules come from the local proxy (Debian's sources), built through the
// action with network: host. The last test pins down what a registry layer
// cache alone does (go-cache: false); gocache.test.ts shows what the Go cache
// persistence changes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { type GoProxy, startGoProxy } from '../../scripts/goproxy.mjs';
import { engineUp, prune, uniqueRepo, workspace } from './engine.js';

describe.runIf(engineUp)('fixture service through the local GOPROXY (real engine)', () => {
  let proxy: GoProxy;
  let ws: string;
  let required: string[];
  const image = uniqueRepo('goservice');
  const cacheRef = uniqueRepo('goservice-cache');

  beforeAll(async () => {
    proxy = await startGoProxy();
    ws = workspace('__tests__/e2e/goservice');
    required = [...fs.readFileSync(path.join(ws, 'go.mod'), 'utf8').matchAll(/^\s+(\S+) (v\S+)/gm)].map((m) => `${m[1]}@${m[2]}`).sort();
  });
  afterAll(() => proxy?.close());

  const build = (tag: string, extra: Record<string, string> = {}) =>
    runAction(
      {
        ...extra,
        tags: `${image}:${tag}`,
        platforms: 'linux/amd64',
        network: 'host',
        'build-args': `GOPROXY=${proxy.url}\nGOSUMDB=off`,
        'cache-ref': cacheRef,
        'health-path': '/healthz',
      },
      { workspace: ws },
    );

  it('a cold build downloads every required module exactly once', async () => {
    prune();
    proxy.reset();
    const r = await build('cold');
    expect(r.exitCode, r.log).toBe(0);
    const stats = proxy.stats();
    expect(Object.keys(stats.zips).sort()).toEqual(required);
    expect(required.length).toBe(28);
    expect(Object.values(stats.zips).every((n) => n === 1)).toBe(true);
    expect(r.outputs['smoke-passed']).toBe('true');
  });

  it('a code change on the same builder downloads nothing (the cache mounts are warm)', async () => {
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// change 1\n');
    proxy.reset();
    const r = await build('same-builder');
    expect(r.exitCode, r.log).toBe(0);
    expect(proxy.stats().zipDownloads).toBe(0);
  });

  it('without Go cache persistence, a fresh builder downloads every module again despite the registry layer cache', async () => {
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// change 2\n');
    prune();
    proxy.reset();
    const r = await build('fresh-builder', { 'go-cache': 'false' });
    expect(r.exitCode, r.log).toBe(0);
    // The `go mod download` layer is CACHED from the registry, but the cache
    // mount `go build` reads is empty (moby/buildkit#1512).
    expect(r.log).toMatch(/#\d+ \[builder 4\/6\] RUN --mount=type=cache,id=gomod[^\n]*go mod download\n#\d+ CACHED/);
    // `go build` fetches the modules that provide packages it compiles: 25 of the 28 here.
    const again = proxy.stats().zips;
    expect(Object.keys(again).every((m) => required.includes(m))).toBe(true);
    expect(Object.keys(again).length).toBeGreaterThanOrEqual(20);
  });
});
