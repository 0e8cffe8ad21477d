// Go cache persistence (issue 3) against the real engine, registry and QEMU:
// the fixture service's 28 modules come from the local proxy, which counts
// every download, and `buildx prune -af` between runs plays a fresh runner.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { goGetArgs, type GoProxy, startGoProxy } from '../../scripts/goproxy.mjs';
import {
  buildxExecs,
  engineUp,
  prune,
  registryManifest,
  registryTags,
  sh,
  shAsync,
  stepDurations,
  uniqueRepo,
  workspace,
} from './engine.js';
import { runnerInputs } from '../unit/helpers.js';
import { parseSettings } from '../../src/settings/parse.js';
import { layerCacheRefs, refScheme } from '../../src/cacherefs/keys.js';
import { writeMarker } from '../../src/layercache/marker.js';
import { manifestsFromEngine, summarize } from '../../src/report/sizes.js';
import { checkFingerprint } from '../../src/layercache/skip.js';

describe.runIf(engineUp)('Go module and build caches survive a fresh builder through the registry (real engine)', () => {
  let proxy: GoProxy;
  let ws: string;
  const image = uniqueRepo('gocache');
  const cacheRef = uniqueRepo('gocache-cache');
  let coldGoBuild: { label: string; seconds: number }[] = [];
  let coldGoCache = 0;
  const savedGoCache: number[] = [];
  const savedMB = (postLog: string) => Number(/GOCACHE: saved ([\d.]+) MB/.exec(postLog)?.[1] ?? NaN);
  const restoredTag = (ref: string) => ref.slice(ref.lastIndexOf(':') + 1);

  // The builder stage starts from a base of this test's own, so that it can be bumped (issue 26).
  const base = `${uniqueRepo('base')}:1.24`;
  beforeAll(async () => {
    proxy = await startGoProxy();
    ws = workspace('__tests__/e2e/goservice');
    sh('docker', ['tag', 'golang:1.24', base]);
    sh('docker', ['push', '-q', base]);
    const dockerfile = path.join(ws, 'Dockerfile');
    fs.writeFileSync(dockerfile, fs.readFileSync(dockerfile, 'utf8').replace(' golang:1.24 AS builder', ` ${base} AS builder`));
  });
  afterAll(() => {
    proxy?.close();
    spawnSync('docker', ['image', 'rm', base]);
  });

  const inputs = () => ({
    tags: `${image}:t`,
    platforms: 'linux/amd64,linux/arm64',
    network: 'host',
    'build-args': `GOPROXY=${proxy.url}\nGOSUMDB=off`,
    'cache-ref': cacheRef,
    'health-path': '/healthz',
  });
  const build = (extra: Record<string, string> = {}, env: Record<string, string> = {}, opts: Record<string, unknown> = {}) =>
    runAction({ ...inputs(), ...extra }, { workspace: ws, env: { GITHUB_REF: 'refs/heads/main', ...env }, ...opts });
  const layerTag = async () => (await registryTags(cacheRef)).find((t) => /^buildcache-linux-amd64_linux-arm64-[0-9a-f]{8}-main$/.test(t))!;
  /** The main build's argv, from its debug line (the build that writes the metadata file the action reads). */
  const mainBuilds = (log: string) => buildxExecs(log, 'build').filter((l) => l.includes('/metadata.json"'));
  const ownCacheTo = /"--cache-to","type=registry,ref=[^"]*buildcache-linux-amd64_linux-arm64-/;
  /** The post step's layer cache export: its log group. */
  const postExport = (postLog: string) => postLog.split('::group::Export the layer cache')[1]?.split('::endgroup::')[0];
  /** The BuildKit step number of `go mod download` in a build's log. */
  const downloadStep = (log: string) => {
    const m = /^#(\d+) \[[^\]]*\] RUN .*go mod download/m.exec(log);
    expect(m, log).not.toBeNull();
    return m![1];
  };
  /** A code change on a pruned builder: `go mod download` comes from the layer cache, and no module is downloaded. */
  const nextCodeChangeIsWarm = async (comment: string) => {
    fs.appendFileSync(path.join(ws, 'main.go'), `\n// ${comment}\n`);
    prune();
    proxy.reset();
    const next = await build();
    expect(next.exitCode, next.log).toBe(0);
    expect(next.log).toMatch(new RegExp(`^#${downloadStep(next.log)} CACHED$`, 'm'));
    expect(proxy.stats().zipDownloads).toBe(0);
  };
  /** The settings a run of build() parses, for the fingerprint check (it reads the registry and the engine, as the action does). */
  const settingsFor = () =>
    parseSettings(runnerInputs(inputs()), {
      GITHUB_WORKSPACE: ws,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'acme/hello',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_RUN_ID: '1',
    });

  it('cold: every module downloaded once; the post step saves both caches', async () => {
    prune();
    proxy.reset();
    const r = await build();
    expect(r.exitCode, r.log).toBe(0);
    expect(proxy.stats().zipDownloads).toBe(28);
    expect(r.outputs['go-cache-hit']).toBe('false');
    expect(JSON.parse(r.outputs['go-cache-restored'])).toMatchObject({ mod: null, build: null });
    expect(r.post.exitCode).toBe(0);
    expect(r.post.log).toMatch(/GOMODCACHE: saved [\d.]+ MB, [\d.]+ MB stored in [\d.]+s/);
    expect(r.post.log).toMatch(/GOCACHE: saved [\d.]+ MB, [\d.]+ MB stored in [\d.]+s/);
    // Pushed from an OCI layout on the runner: the engine keeps no copy of a saved cache (docker driver).
    expect(
      sh('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
        .split('\n')
        .filter((l) => l.includes(cacheRef)),
    ).toEqual([]);
    const tags = await registryTags(cacheRef);
    // exact key + this build's newest, both in the main scope
    expect(tags.filter((t) => /^buildcache-gomod-([0-9a-f]{16}|[0-9a-f]{8})-main$/.test(t)).length).toBe(2);
    expect(tags.filter((t) => /^buildcache-gobuild-[0-9a-f]{16}-main$/.test(t)).length).toBe(1);
    expect(tags.some((t) => /^buildcache-linux-amd64_linux-arm64-[0-9a-f]{8}-main$/.test(t))).toBe(true);
    // The README's registry footprint: six tags for the scope, and nothing else.
    expect(tags.map((t) => t.replace(/[0-9a-f]{16}/g, '<key>').replace(/-[0-9a-f]{8}-/g, '-<build>-')).sort()).toEqual([
      'buildcache-gobuild-<key>-main',
      'buildcache-gobuild-<key>-main-stats',
      'buildcache-gomod-<build>-main',
      'buildcache-gomod-<key>-main',
      'buildcache-linux-amd64_linux-arm64-<build>-main',
      'buildcache-linux-amd64_linux-arm64-<build>-main-fp',
    ]);
    coldGoBuild = stepDurations(r.log, /go build/);
    expect(coldGoBuild.length).toBe(2);
    coldGoCache = savedMB(r.post.log);
    // A cold run is its own baseline: nothing saved yet.
    expect(r.outputs['go-cache-saved-seconds']).toBe('0');
  });

  it('code-only change on a fresh builder: 0 downloads, and go build compiles incrementally on both platforms', async () => {
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// a code-only change\n');
    prune();
    proxy.reset();
    const tag = await layerTag();
    const cold = (await registryManifest(cacheRef, tag))!.digest;
    let afterMain = '';
    const r = await build({}, {}, { beforePost: async () => void (afterMain = (await registryManifest(cacheRef, tag))!.digest) });
    expect(r.exitCode, r.log).toBe(0);
    expect(proxy.stats().zipDownloads).toBe(0);
    // The layer cache is exported by the post step, not by the build: the ref moves only after main ended,
    // and the export took every step from the builder's cache.
    expect(mainBuilds(r.log)).toHaveLength(1);
    expect(mainBuilds(r.log)[0]).not.toMatch(ownCacheTo);
    expect(r.log).toMatch(/Layer cache: \S+ is exported in the post step/);
    expect(afterMain).toBe(cold);
    const exporting = postExport(r.post.log);
    expect(exporting, r.post.log).toBeDefined();
    const steps = [...exporting!.matchAll(/^#(\d+) \[[^\]]*\] (RUN|COPY|WORKDIR)/gm)].map((m) => m[1]);
    expect(steps.length).toBeGreaterThan(0);
    for (const id of steps) expect(exporting, `step #${id} of the export`).toMatch(new RegExp(`^#${id} CACHED$`, 'm'));
    expect(exporting).toMatch(/^#\d+ exporting cache to registry$/m);
    expect((await registryManifest(cacheRef, tag))!.digest).not.toBe(cold);
    expect(r.outputs['go-cache-hit']).toBe('true');
    const restored = JSON.parse(r.outputs['go-cache-restored']);
    expect(restored.mod.match).toBe('exact');
    expect(restored.build.match).toBe('exact');
    expect(restored.build.bytes).toBeGreaterThan(1e6);
    const warm = stepDurations(r.log, /go build/);
    expect(warm.map((s) => s.label).sort()).toEqual(coldGoBuild.map((s) => s.label).sort());
    for (const w of warm) {
      const cold = coldGoBuild.find((c) => c.label === w.label)!;
      console.log(`go build ${w.label}: cold ${cold.seconds}s, after restore ${w.seconds}s`);
      // A full compile of Gin + Prometheus takes tens of seconds; reusing the build cache, about one.
      expect(w.seconds).toBeLessThan(cold.seconds * 0.3);
    }
    // The module cache was restored from its exact key and is not saved again; the build cache grew and is.
    expect(r.post.log).toContain('GOMODCACHE: not saved (restored from its exact key)');
    expect(r.post.log).toMatch(/GOCACHE: saved /);
    // The caches explain themselves: go build against the cold times kept beside the saved GOCACHE.
    const stats = JSON.parse(r.outputs['go-cache-stats']);
    for (const w of warm) {
      const p = stats.platforms[w.label.includes('arm64') ? 'linux/arm64' : 'linux/amd64'];
      expect(p.coldSeconds).toBeGreaterThan(p.goBuildSeconds);
      expect(p.savedSeconds).toBeGreaterThan(0);
    }
    expect(Number(r.outputs['go-cache-saved-seconds'])).toBe(stats.savedSeconds);
    expect(stats.restore.bytes).toBe(restored.mod.bytes + restored.build.bytes);
    expect(r.summary).toMatch(/linux\/amd64: go build [\d.]+ s \(cold [\d.]+ s, saved [\d.]+ s\)/);
    // Most build actions came from the restored cache; the changed main package ran anew.
    const actions = /GOCACHE: saved .*; (\d+) build actions reused, (\d+) run anew/.exec(r.post.log);
    expect(actions, r.post.log).not.toBeNull();
    expect(Number(actions![1])).toBeGreaterThan(10 * Number(actions![2]));
    expect(Number(actions![2])).toBeGreaterThan(0);
    // Only what this run created went up, as a layer on the restored copy (kilobytes, not the whole cache).
    const layered =
      /GOCACHE: saved [\d.]+ MB: the restored copy plus a layer of what this run created .*, ([\d.]+) MB stored \(([\d.]+) (kB|MB) uploaded\)/.exec(
        r.post.log,
      );
    expect(layered, r.post.log).not.toBeNull();
    expect(Number(layered![2]) * (layered![3] === 'MB' ? 1e6 : 1e3)).toBeLessThan(0.05 * Number(layered![1]) * 1e6);
    const saved = await registryManifest(cacheRef, restoredTag(restored.build.ref));
    expect(saved!.body.layers.length).toBe(2);
    savedGoCache.push(savedMB(r.post.log));
  });

  it('more code changes: the saved GOCACHE keeps only what each build used, so it does not grow', async () => {
    for (let i = 0; i < 2; i++) {
      fs.appendFileSync(path.join(ws, 'main.go'), `\n// change ${i}\n`);
      prune();
      proxy.reset();
      const r = await build();
      expect(r.exitCode, r.log).toBe(0);
      // Each run restores the base and every layer stacked so far, and stacks one more.
      expect(JSON.parse(r.outputs['go-cache-restored']).build.match).toBe('exact');
      expect(proxy.stats().zipDownloads).toBe(0);
      expect(r.post.log).toMatch(
        /GOCACHE: saved [\d.]+ MB: the restored copy plus a layer of what this run created \([\d.]+ MB used or created by this run\)/,
      );
      const ref = JSON.parse(r.outputs['go-cache-restored']).build.ref;
      expect((await registryManifest(cacheRef, restoredTag(ref)))!.body.layers.length).toBe(3 + i);
      savedGoCache.push(savedMB(r.post.log));
    }
    console.log(`saved GOCACHE: cold ${coldGoCache} MB, then ${savedGoCache.join(', ')} MB`);
    for (const mb of savedGoCache) expect(mb).toBeLessThanOrEqual(1.2 * coldGoCache);
  });

  it('no change: not a byte of Go cache is restored, and the post step saves nothing', async () => {
    prune();
    const tag = await layerTag();
    const before = (await registryManifest(cacheRef, tag))!.digest;
    const digests = async () =>
      Object.fromEntries(
        await Promise.all((await registryTags(cacheRef)).map(async (t) => [t, (await registryManifest(cacheRef, t))!.digest])),
      );
    const everyTag = await digests();
    // Pushed (the runs before were not), which the image sizes below need; the cache repository is the same.
    const r = await build({ push: 'true' });
    expect(r.exitCode, r.log).toBe(0);
    // The registry footprint of a run with no change: no tag written or moved.
    expect(await digests()).toEqual(everyTag);
    // The layer cache already holds every step: it is not exported again, in main or post (a re-export of a
    // fully cached build left a layer of the Go stage out here), and its tag does not move.
    expect(r.log).toContain('so it is not exported again');
    const builds = mainBuilds(r.log);
    expect(builds).toHaveLength(1);
    expect(builds[0]).not.toMatch(ownCacheTo);
    expect(builds[0]).toContain('"--cache-from","type=registry,ref=');
    expect(postExport(r.post.log)).toBeUndefined();
    expect((await registryManifest(cacheRef, tag))!.digest).toBe(before);
    expect(r.outputs['cache-hit-rate']).toBe('100.0');
    expect(JSON.parse(r.outputs['go-cache-restored'])).toMatchObject({ mod: null, build: null, skipped: 'fingerprint' });
    expect(r.outputs['go-cache-hit']).toBe('true');
    expect(r.log).toMatch(/Go caches not restored: \S+ was exported with these inputs \(fingerprint [0-9a-f]{32}\)/);
    // No restore build ran at all.
    expect(r.log).not.toContain('go-buildx-restore');
    expect(r.log).toContain('GOCACHE: no save (no step that uses it ran)');
    expect(r.post.log).not.toMatch(/saved .* stored/);
    const stats = JSON.parse(r.outputs['go-cache-stats']);
    expect(stats.platforms).toEqual({
      'linux/amd64': { goBuildSeconds: null, coldSeconds: null, savedSeconds: null },
      'linux/arm64': { goBuildSeconds: null, coldSeconds: null, savedSeconds: null },
    });
    expect(stats.restore).toMatchObject({ bytes: 0, skipped: 'fingerprint' });

    // The image sizes: the last code change's marker recorded them for the layers it built, which this run
    // built again, so after the push they come from there (checked against the manifests it pushed), not from
    // `docker save`. They are what reading the image back gives.
    const fromEngine = async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-sizes-'));
      const { manifests, unpacked } = await manifestsFromEngine(`${image}:t`, dir);
      fs.rmSync(dir, { recursive: true, force: true });
      return summarize(manifests, unpacked);
    };
    expect(r.log).toContain('Unpacked sizes: the layer cache recorded them for these very layers');
    expect(r.log).not.toContain('"docker","save"');
    const real = await fromEngine();
    expect(Object.keys(real).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(JSON.parse(r.outputs['image-sizes'])).toEqual(real);
    // A record for other layers (forged here, as a tampered or stale marker would be) is not used: the image is
    // read back from the engine, and the sizes are the real ones.
    const settings = settingsFor();
    await writeMarker(layerCacheRefs(refScheme(settings)!).write, (await checkFingerprint(settings))!.fingerprint, [
      { layers: Object.values(real).map(() => `sha256:${'0'.repeat(64)}`), unpacked: 1 },
    ]);
    prune();
    const forged = await build({ push: 'true' });
    expect(forged.exitCode, forged.log).toBe(0);
    expect(JSON.parse(forged.outputs['go-cache-restored'])).toMatchObject({ skipped: 'fingerprint' });
    expect(forged.log).not.toContain('Unpacked sizes: the layer cache recorded them');
    expect(forged.log).toContain('"docker","save"');
    expect(JSON.parse(forged.outputs['image-sizes'])).toEqual(real);

    // So a code change next takes every step before COPY . from the layer cache, go mod download included.
    await nextCodeChangeIsWarm('a change after a run that changed nothing');
  });

  it('go.sum change: only the new module is downloaded', async () => {
    // `go get` in the Go stand-in, through the same proxy, as a developer would.
    await shAsync('docker', goGetArgs(ws, proxy.url, 'github.com/pkg/errors'));
    expect(fs.readFileSync(path.join(ws, 'go.sum'), 'utf8')).toContain('github.com/pkg/errors');
    prune();
    proxy.reset();
    const r = await build();
    expect(r.exitCode, r.log).toBe(0);
    const restored = JSON.parse(r.outputs['go-cache-restored']);
    // The new go.sum has no saved cache: the branch's newest one stands in.
    expect(restored.mod.match).toBe('branch');
    expect(Object.keys(proxy.stats().zips)).toEqual([expect.stringMatching(/^github\.com\/pkg\/errors@v/)]);
    expect(proxy.stats().zipDownloads).toBe(1);
    expect(r.post.log).toMatch(/GOMODCACHE: saved /);
  });

  it('another branch reads the default branch caches and writes its own', async () => {
    // The branch changes code, so its go build runs and its GOCACHE has something of its own to save.
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// a change on feature/x\n');
    prune();
    proxy.reset();
    const r = await build({}, { GITHUB_REF: 'refs/heads/feature/x' });
    expect(r.exitCode, r.log).toBe(0);
    expect(proxy.stats().zipDownloads).toBe(0);
    const restored = JSON.parse(r.outputs['go-cache-restored']);
    expect(restored.build.match).toBe('default-branch');
    const tags = await registryTags(cacheRef);
    expect(tags.some((t) => /^buildcache-linux-amd64_linux-arm64-[0-9a-f]{8}-feature-x\.\.[0-9a-f]{8}$/.test(t))).toBe(true);
    expect(tags.some((t) => /^buildcache-gobuild-[0-9a-f]{16}-feature-x\.\.[0-9a-f]{8}$/.test(t))).toBe(true);
  });

  it('save-on: default-branch keeps other branches from writing', async () => {
    prune();
    const before = await registryTags(cacheRef);
    const r = await build({ 'save-on': 'default-branch' }, { GITHUB_REF: 'refs/heads/other' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain('no save (save-on: default-branch, and this run is for push on refs/heads/other, not a push to main)');
    expect((await registryTags(cacheRef)).sort()).toEqual(before.sort());
  });

  it('the fingerprint matches but the layer cache lacks the steps: built correctly, with the Go caches it skipped', async () => {
    // A layer cache tag whose stored fingerprint is this run's although its layers are an older build's (as
    // after a base image moved): forged here by storing the new inputs' fingerprint beside the old layers.
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// a change the layer cache has not seen\n');
    const settings = parseSettings(runnerInputs(inputs()), {
      GITHUB_WORKSPACE: ws,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'acme/hello',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_RUN_ID: '1',
    });
    const layerRef = layerCacheRefs(refScheme(settings)!).write;
    await writeMarker(layerRef, (await checkFingerprint(settings))!.fingerprint);
    prune();
    proxy.reset();
    const r = await build();
    expect(r.exitCode, r.log).toBe(0);
    expect(JSON.parse(r.outputs['go-cache-restored'])).toMatchObject({ skipped: 'fingerprint' });
    // The main build, and the post step's build that exported the layer cache (its step numbers start again).
    const main = r.log;
    const exporting = postExport(r.post.log);
    expect(exporting, r.post.log).toBeDefined();
    // go build ran on both platforms, from empty caches: each module it compiles downloaded again (25 of the 28;
    // `go mod download` came from the layer cache), and the image works.
    expect(stepDurations(main, /go build/).length).toBe(2);
    expect(proxy.stats().zipDownloads).toBeGreaterThanOrEqual(20);
    expect(r.outputs['smoke-passed']).toBe('true');
    // What it built is saved as usual: the layer cache by the post step's build (the main build left that
    // export out, trusting the fingerprint), which ran no step again, and the fingerprint now belongs to the
    // layers that hold it.
    expect(main).toMatch(/\d+ step\(s\) ran although the fingerprint matched: \S+ is exported/);
    const steps = [...exporting!.matchAll(/^#(\d+) \[[^\]]*\] (RUN|COPY|WORKDIR)/gm)].map((m) => m[1]);
    expect(steps.length).toBeGreaterThan(0);
    for (const id of steps) expect(exporting, `step #${id} of the export build`).toMatch(new RegExp(`^#${id} CACHED$`, 'm'));
    expect(r.post.log).toMatch(/GOCACHE: saved /);
    prune();
    const again = await build();
    expect(again.outputs['cache-hit-rate']).toBe('100.0');
    expect(JSON.parse(again.outputs['go-cache-restored'])).toMatchObject({ skipped: 'fingerprint' });
  });

  it('a later step of the job edits the build context: post still exports, and marks the ref with the context as it is now', async () => {
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// built by main\n');
    prune();
    const tag = await layerTag();
    const before = (await registryManifest(cacheRef, tag))!.digest;
    // Between the action's main and post steps, as a workflow's release or codegen step might.
    const r = await build({}, {}, { beforePost: () => fs.appendFileSync(path.join(ws, 'main.go'), '\n// written after the build\n') });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.post.exitCode).toBe(0);
    expect(r.post.log).toMatch(/The build context changed after the build \(fingerprint [0-9a-f]{32}, now [0-9a-f]{32}\)/);
    expect(r.post.log).not.toMatch(/::warning::/);
    expect(postExport(r.post.log), r.post.log).toBeDefined();
    expect((await registryManifest(cacheRef, tag))!.digest).not.toBe(before);
    // The marker names the context as it is now: a run on it finds every step in the ref.
    expect((await checkFingerprint(settingsFor()))?.matched).toBe(`${cacheRef}:${tag}`);
    // The Go caches are still saved: what the build compiled is valid whatever the workspace holds now.
    expect(r.post.log).toMatch(/GOCACHE: saved /);
  });

  it('pull: true never skips the Go caches, even when the fingerprint matches', async () => {
    // The previous test left a ref whose fingerprint is this workspace's: without pull, this run would skip.
    expect((await checkFingerprint(settingsFor()))?.matched).toBeDefined();
    prune();
    proxy.reset();
    const r = await build({ pull: 'true' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/pull: true may bring newer base images, so steps may run again/);
    const restored = JSON.parse(r.outputs['go-cache-restored']);
    expect(restored.skipped).toBeUndefined();
    expect(restored.mod).not.toBeNull();
    expect(restored.build).not.toBeNull();
    expect(proxy.stats().zipDownloads).toBe(0);
  });

  it('a coverage file written by a later step: post still exports, and the next code change is as fast (0 downloads, go mod download cached)', async () => {
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// before the tests\n');
    prune();
    const tag = await layerTag();
    const before = (await registryManifest(cacheRef, tag))!.digest;
    const coverage = path.join(ws, 'coverage.out');
    const r = await build(
      {},
      {},
      { beforePost: () => fs.writeFileSync(coverage, 'mode: set\nexample.com/goservice/main.go:1.1,2.2 1 1\n') },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(postExport(r.post.log), r.post.log).toBeDefined();
    expect((await registryManifest(cacheRef, tag))!.digest).not.toBe(before);
    // The next run is a fresh checkout: no coverage file, one more code change.
    fs.rmSync(coverage);
    await nextCodeChangeIsWarm('the next commit');
  });

  it('a base-image bump (its digest changes, nothing else): the Go caches are restored, 0 downloads, and the image is rebuilt on the new base', async () => {
    // No change first: the fingerprint matches, and the Go caches are skipped.
    prune();
    const same = await build();
    expect(same.exitCode, same.log).toBe(0);
    expect(JSON.parse(same.outputs['go-cache-restored'])).toMatchObject({ skipped: 'fingerprint' });
    // The base moves: one more layer, pushed under the same tag, as a nightly rebuild of golang:1.24 would.
    const was = (await registryManifest(base.slice(0, base.lastIndexOf(':')), '1.24'))!.digest;
    const bumped = spawnSync('docker', ['build', '-q', '-t', base, '-'], {
      input: `FROM ${base}\nRUN echo bumped >/etc/gba-bump\n`,
      encoding: 'utf8',
    });
    expect(bumped.status, bumped.stderr).toBe(0);
    sh('docker', ['push', '-q', base]);
    expect((await registryManifest(base.slice(0, base.lastIndexOf(':')), '1.24'))!.digest).not.toBe(was);
    prune();
    proxy.reset();
    const r = await build();
    expect(r.exitCode, r.log).toBe(0);
    const restored = JSON.parse(r.outputs['go-cache-restored']);
    expect(restored.skipped).toBeUndefined();
    expect(restored.mod).not.toBeNull();
    expect(restored.build).not.toBeNull();
    expect(proxy.stats().zipDownloads).toBe(0);
    // Rebuilt on the new base: the builder stage's steps ran again (none CACHED), go mod download included.
    expect(r.log).not.toMatch(new RegExp(`^#${downloadStep(r.log)} CACHED$`, 'm'));
    expect(r.outputs['cache-hit-rate']).not.toBe('100.0');
  });
});

describe.runIf(engineUp)('matrix: one job per platform with the same cache-ref (real engine)', () => {
  let proxy: GoProxy;
  let ws: string;
  const cacheRef = uniqueRepo('matrix-cache');
  beforeAll(async () => {
    proxy = await startGoProxy();
    ws = workspace('__tests__/e2e/goservice');
  });
  afterAll(() => proxy?.close());

  const job = (platform: string) =>
    runAction(
      {
        tags: `${uniqueRepo('matrix')}:t`,
        platforms: platform,
        network: 'host',
        'build-args': `GOPROXY=${proxy.url}\nGOSUMDB=off`,
        'cache-ref': cacheRef,
        'smoke-test': 'false',
      },
      { workspace: ws, env: { GITHUB_REF: 'refs/heads/main' } },
    );

  it('each job keeps its own caches: after both ran, a rerun of each reads 100.0 and downloads nothing', async () => {
    prune();
    for (const p of ['linux/amd64', 'linux/arm64']) expect((await job(p)).exitCode).toBe(0);
    const tags = await registryTags(cacheRef);
    for (const p of ['amd64', 'arm64'])
      expect(
        tags.some((t) => new RegExp(`^buildcache-linux-${p}-[0-9a-f]{8}-main$`).test(t)),
        p,
      ).toBe(true);
    // One GOCACHE per job (each beside its `-stats` history).
    expect(tags.filter((t) => /^buildcache-gobuild-[0-9a-f]{16}-main$/.test(t)).length).toBe(2);
    for (const p of ['linux/amd64', 'linux/arm64']) {
      prune();
      proxy.reset();
      const r = await job(p);
      expect(r.exitCode, r.log).toBe(0);
      expect(r.outputs['cache-hit-rate'], p).toBe('100.0');
      // Each job's layer cache was exported with these inputs: nothing needed restoring.
      expect(r.outputs['go-cache-hit'], p).toBe('true');
      expect(JSON.parse(r.outputs['go-cache-restored'])).toMatchObject({ skipped: 'fingerprint' });
      expect(proxy.stats().zipDownloads).toBe(0);
    }
  });
});

// The gha backend up to our boundary: the real restore and save builds, the
// real local export and build-context import; only the transfer to GitHub's
// cache service (which cannot be reached here) is a directory. The service
// itself is exercised by the go-cache-backend: gha job in e2e.yml.
describe.runIf(engineUp)('go-cache-backend: gha, up to the @actions/cache calls (real engine)', () => {
  let proxy: GoProxy;
  let ws: string;
  const saved = new Map<string, string>();
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-fake-actions-cache-'));
  const calls: string[] = [];
  const client = {
    async restoreCache(paths: string[], primaryKey: string, restoreKeys: string[] = []) {
      calls.push(`restore ${primaryKey} [${restoreKeys.join(' ')}]`);
      const key = saved.has(primaryKey) ? primaryKey : [...saved.keys()].reverse().find((k) => restoreKeys.some((p) => k.startsWith(p)));
      if (!key) return undefined;
      fs.cpSync(saved.get(key)!, paths[0], { recursive: true });
      return key;
    },
    async saveCache(paths: string[], key: string) {
      calls.push(`save ${key}`);
      const dir = path.join(store, key);
      fs.cpSync(paths[0], dir, { recursive: true });
      saved.set(key, dir);
      sizes.set(
        key,
        fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0),
      );
      return 1;
    },
  };
  // GitHub's REST API for the cache entries above (list by key prefix and ref, delete by id), on loopback.
  const sizes = new Map<string, number>();
  const apiCalls: string[] = [];
  let apiServer: http.Server;
  let apiUrl = '';
  beforeAll(async () => {
    proxy = await startGoProxy();
    ws = workspace('__tests__/e2e/goservice');
    apiServer = http.createServer((req, res) => {
      const u = new URL(req.url ?? '', 'http://x');
      apiCalls.push(`${req.method} ${u.pathname}`);
      const keys = [...saved.keys()];
      if (req.method === 'GET') {
        const prefix = u.searchParams.get('key') ?? '';
        const entries = keys
          .map((key, id) => ({ id: id + 1, key, ref: 'refs/heads/main', version: 'v', size_in_bytes: sizes.get(key) ?? 0 }))
          .filter((e) => e.key.startsWith(prefix));
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ total_count: entries.length, actions_caches: entries }));
        return;
      }
      saved.delete(keys[Number(u.pathname.split('/').pop()) - 1]);
      res.writeHead(204);
      res.end();
    });
    await new Promise<void>((r) => apiServer.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    proxy?.close();
    apiServer?.close();
    // The stand-in cache's entries: about 400 MB each run.
    fs.rmSync(store, { recursive: true, force: true });
  });

  const build = () =>
    runAction(
      {
        platforms: 'linux/amd64',
        network: 'host',
        'build-args': `GOPROXY=${proxy.url}\nGOSUMDB=off`,
        'go-cache': 'false',
        'smoke-test': 'false',
      },
      { workspace: ws },
    );

  it('saves to and restores from actions/cache, and a fresh builder then downloads nothing', async () => {
    const { planGoCache } = await import('../../src/gocache/phases.js');
    const { restoreGoCaches, saveGoCache } = await import('../../src/gocache/transfer.js');
    const { GhaStore } = await import('../../src/gocache/stores.js');
    const { parseSettings } = await import('../../src/settings/parse.js');
    const inputs: Record<string, string> = { platforms: 'linux/amd64', 'go-cache-backend': 'gha', 'build-args': 'GOSUMDB=off' };
    const settings = parseSettings(runnerInputs(inputs), {
      GITHUB_WORKSPACE: ws,
      GITHUB_RUN_ID: '42',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'acme/hello',
      GITHUB_REF: 'refs/heads/main',
    });
    const planned = planGoCache(settings);
    expect(planned.plan?.entries.map((e) => e.kind)).toEqual(['mod', 'build']);
    const buildx = { cmd: 'docker', prefix: ['buildx'] };
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-gha-tmp-'));
    const cleanup = { api: { url: apiUrl, repository: 'acme/hello', token: 'ghs_e2e' }, ref: 'refs/heads/main' };
    const gha = new GhaStore(client, path.join(tmp, 'root'), cleanup);

    prune();
    proxy.reset();
    expect((await build()).exitCode).toBe(0);
    expect(proxy.stats().zipDownloads).toBe(28);
    // The build above ran with go-cache: false, so nothing decided to save: this test saves both itself.
    const plan = { ...planned.plan!, entries: planned.plan!.entries.map((e) => ({ ...e, save: true })) };
    for (const e of plan.entries) {
      const rep = await saveGoCache(buildx, 'default', plan, e, gha, tmp);
      expect(rep.error).toBeUndefined();
      expect(rep.saved).toBe(true);
      expect(rep.kept).toBeGreaterThan(1e6);
    }
    expect(calls).toEqual([
      expect.stringMatching(/^save go-buildx-gomod-[0-9a-f]{16}$/),
      expect.stringMatching(/^save go-buildx-gobuild-[0-9a-f]{16}-42-1$/),
    ]);

    // The next run (another run id) restores them.
    prune();
    const next = planGoCache(
      parseSettings(runnerInputs(inputs), {
        GITHUB_WORKSPACE: ws,
        GITHUB_RUN_ID: '43',
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REPOSITORY: 'acme/hello',
        GITHUB_REF: 'refs/heads/main',
      }),
    );
    const restored = await restoreGoCaches(buildx, 'default', next.plan!, gha, tmp);
    expect(restored.warnings).toEqual([]);
    // The module cache by its exact key; the build cache by the key's prefix (each run saves a new entry).
    expect(restored.entries.map((e) => e.restored?.match)).toEqual(['exact', 'branch']);
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// change\n');
    proxy.reset();
    const r = await build();
    expect(r.exitCode, r.log).toBe(0);
    expect(proxy.stats().zipDownloads).toBe(0);

    // That run compiled something, so it saves a new build-cache entry under its own run id; the
    // first run's entry is then superseded and deleted: one build-cache entry per branch, not one per run.
    const nextPlan = { ...next.plan!, entries: next.plan!.entries.map((e) => ({ ...e, save: e.kind === 'build' })) };
    const rep = await saveGoCache(buildx, 'default', nextPlan, nextPlan.entries[1], gha, tmp);
    expect(rep.error).toBeUndefined();
    const buildKeys = [...saved.keys()].filter((k) => k.startsWith('go-buildx-gobuild-'));
    expect(buildKeys).toEqual([expect.stringMatching(/^go-buildx-gobuild-[0-9a-f]{16}-43-1$/)]);
    // The first run's save listed too, and found nothing to delete.
    expect(apiCalls).toEqual([
      'GET /repos/acme/hello/actions/caches',
      'GET /repos/acme/hello/actions/caches',
      'DELETE /repos/acme/hello/actions/caches/2',
    ]);
    expect(
      [...saved.keys()].filter((k) => k.startsWith('go-buildx-gomod-')),
      'the module cache is left alone',
    ).toHaveLength(1);
    console.log(`gha entry sizes: ${JSON.stringify(Object.fromEntries(sizes))}`);
  });

  it('without the GitHub cache service (as here), the real backend warns and the build goes on', async () => {
    prune();
    const r = await runAction(
      {
        platforms: 'linux/amd64',
        network: 'host',
        'build-args': `GOPROXY=${proxy.url}\nGOSUMDB=off`,
        'go-cache-backend': 'gha',
        'smoke-test': 'false',
      },
      { workspace: ws },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/::warning::(Looking up the GOMODCACHE cache failed|Restoring the Go caches failed)/);
    expect(r.post.exitCode).toBe(0);
  });
});
