import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGoCacheMounts } from '../../src/dockerfile/gomounts.js';
import { buildArgMap, instructions, substitute } from '../../src/dockerfile/reader.js';
import { type Candidate, cacheKeys, ghaKeys, goCacheRefs, layerCacheRefs } from '../../src/cacherefs/keys.js';
import { buildId, platformSlug, slug } from '../../src/settings/names.js';
import { goDirective, moduleFiles, workUses } from '../../src/gomod.js';
import {
  decideSaves,
  extractDockerfile,
  type GoCachePlan,
  helperBuildArgv,
  mountsCache,
  parseStats,
  ociOutput,
  restoreDockerfile,
} from '../../src/gocache/transfer.js';
import {
  ageRestored,
  BUILD_PARTS,
  extractSaved,
  isSavedPart,
  MAX_LAYERS,
  RESTORED_MARK,
  saveScript,
  TAR_NAME,
  writebackBeside,
} from '../../src/gocache/scripts.js';
import { execFileSync } from 'node:child_process';
import { planGoCacheForNodes } from '../../src/gocache/phases.js';
import {
  computeStats,
  type GoCacheHistory,
  type GoCacheStats,
  goBuildSeconds,
  losingStreak,
  nextHistory,
} from '../../src/gocache/stats.js';
import { goCacheLines } from '../../src/report/summary.js';
import { parseInspect } from '../../src/buildx/builder.js';
import { parseStepName, stepPlatform } from '../../src/imagebuild/rawjson.js';
import { parseSettings } from '../../src/settings/parse.js';
import { GhaStore } from '../../src/gocache/stores.js';
import { isMissingRef } from '../../src/ref.js';
import { FIXTURES, fixture, runnerInputs, vertices } from './helpers.js';

const dockerfile = (name: string) => fs.readFileSync(path.join(FIXTURES, 'dockerfiles', name), 'utf8');

describe('Dockerfile cache mounts', () => {
  it('finds the fixture service mounts, with the stage base and the options as written', () => {
    const info = findGoCacheMounts(dockerfile('goservice.Dockerfile'), {});
    expect(info.skipped).toEqual([]);
    expect(info.mounts).toEqual([
      {
        kind: 'mod',
        id: 'gomod',
        target: '/go/pkg/mod',
        options: 'type=cache,id=gomod,target=/go/pkg/mod',
        line: 12,
        stageBase: 'golang:1.24',
      },
      {
        kind: 'build',
        id: 'gobuild',
        target: '/root/.cache/go-build',
        options: 'type=cache,id=gobuild,target=/root/.cache/go-build',
        line: 17,
        stageBase: 'golang:1.24',
      },
    ]);
  });

  it('follows ENV GOMODCACHE/GOCACHE, ARG defaults, build args and sharing; skips per-platform ids and non-Go caches', () => {
    const info = findGoCacheMounts(dockerfile('variants.Dockerfile'), {});
    expect(info.mounts).toEqual([
      {
        kind: 'mod',
        id: '/cache/mod',
        target: '/cache/mod',
        options: 'type=cache,target=/cache/mod,sharing=locked',
        line: 6,
        stageBase: 'golang:1.23-alpine',
      },
    ]);
    expect(info.skipped).toEqual([{ target: '/cache/build', line: 9, reason: expect.stringContaining('per platform') }]);
    expect(findGoCacheMounts(dockerfile('variants.Dockerfile'), { GO_VERSION: '1.24' }).mounts[0].stageBase).toBe('golang:1.24-alpine');
  });

  it('go-cache-mounts names the mounts explicitly, by target or id', () => {
    const info = findGoCacheMounts(dockerfile('goservice.Dockerfile'), {}, { mod: 'gobuild', build: '/go/pkg/mod' });
    expect(info.mounts.map((m) => [m.kind, m.id])).toEqual([
      ['mod', 'gobuild'],
      ['build', 'gomod'],
    ]);
  });

  it('joins continuation lines and keeps the first line number', () => {
    const ins = instructions('FROM a\n# c\nRUN x \\\n  # inner comment\n  y\n');
    expect(ins).toEqual([
      { keyword: 'FROM', rest: 'a', line: 1 },
      { keyword: 'RUN', rest: 'x y', line: 3 },
    ]);
    expect(substitute('${A}-$B-${C:-c}-$D', { A: 'a', B: 'b' })).toBe('a-b-c-$D');
    // A bare KEY takes the environment's value, as buildx does.
    expect(buildArgMap(['A=1', 'B', 'C=x=y'], { B: 'from-env' })).toEqual({ A: '1', B: 'from-env', C: 'x=y' });
  });
});

describe('keys and refs', () => {
  it.each([
    ['main', 'main'],
    ['feature/Login Page', 'feature-login-page'],
    ['-x-', 'x'],
    ['a'.repeat(60), `${'a'.repeat(39)}-`],
  ])('slug(%j)', (input, want) => {
    expect(slug(input).startsWith(want)).toBe(true);
    expect(slug(input).length).toBeLessThanOrEqual(48);
  });

  it('platform slugs ignore order', () => {
    expect(platformSlug(['linux/arm64', 'linux/amd64'])).toBe('linux-amd64_linux-arm64');
    expect(platformSlug(['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/386'])).toMatch(/^p[0-9a-f]{12}$/);
  });

  it('module keys change with go.sum and the Go image, build keys with the platform set and what is built, not with go.sum', () => {
    const base = {
      goImage: 'golang:1.24',
      goDirective: '1.24',
      platforms: ['linux/amd64'],
      moduleFiles: { 'go.sum': 'a h1:x\n' },
      buildId: buildId('acme/app', 'svc', 'svc/Dockerfile', undefined),
    };
    const k = cacheKeys(base);
    expect(cacheKeys({ ...base, buildId: buildId('acme/app', 'worker', 'worker/Dockerfile', undefined) }).build).not.toBe(k.build);
    expect(cacheKeys({ ...base, buildId: buildId('acme/app', 'worker', 'worker/Dockerfile', undefined) }).mod).toBe(k.mod);
    expect(k.mod).toMatch(/^[0-9a-f]{16}$/);
    expect(cacheKeys({ ...base, moduleFiles: { 'go.sum': 'b h1:y\n' } }).mod).not.toBe(k.mod);
    expect(cacheKeys({ ...base, moduleFiles: { 'go.sum': 'b h1:y\n' } }).build).toBe(k.build);
    expect(cacheKeys({ ...base, goImage: 'golang:1.25' }).mod).not.toBe(k.mod);
    expect(cacheKeys({ ...base, platforms: ['linux/arm64'] }).build).not.toBe(k.build);
    expect(cacheKeys({ ...base, platforms: ['linux/amd64'] })).toEqual(k);
  });

  it('go.work: every go.sum in use, go.work and go.work.sum', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-work-'));
    fs.writeFileSync(path.join(dir, 'go.work'), 'go 1.24\n\nuse (\n\t./api // the API\n\t./worker\n)\nuse ./tools\n');
    fs.writeFileSync(path.join(dir, 'go.work.sum'), '');
    for (const d of ['api', 'worker', 'tools']) {
      fs.mkdirSync(path.join(dir, d));
      if (d !== 'tools') fs.writeFileSync(path.join(dir, d, 'go.sum'), `${d}\n`);
    }
    expect(workUses(fs.readFileSync(path.join(dir, 'go.work'), 'utf8'))).toEqual(['./api', './worker', './tools']);
    expect(moduleFiles(dir)).toEqual(['api/go.sum', 'go.work', 'go.work.sum', 'worker/go.sum']);
    expect(moduleFiles(path.join(FIXTURES, '..', 'e2e', 'goservice'))).toEqual(['go.sum']);
    expect(goDirective('module x\n\ngo 1.24.0\n\ntoolchain go1.24.3\n')).toBe('1.24.0+go1.24.3');
  });

  const scheme = {
    repository: 'ghcr.io/acme/app-cache',
    prefix: 'buildcache',
    platforms: ['linux/amd64'],
    buildId: 'b1d',
    scope: 'dev',
    defaultScope: 'main',
  };
  const R = (t: string) => `ghcr.io/acme/app-cache:buildcache-${t}`;
  it('registry refs: the scheme documented in the README; a branch reads its own scope, then the default branch', () => {
    expect(goCacheRefs(scheme, 'mod', 'k1')).toEqual({
      write: [R('gomod-k1-dev'), R('gomod-b1d-dev')],
      read: [
        { ref: R('gomod-k1-dev'), match: 'exact' },
        { ref: R('gomod-k1-main'), match: 'exact' },
        { ref: R('gomod-b1d-dev'), match: 'branch' },
        { ref: R('gomod-b1d-main'), match: 'default-branch' },
      ],
    });
    expect(goCacheRefs(scheme, 'build', 'k2')).toEqual({
      write: [R('gobuild-k2-dev')],
      read: [
        { ref: R('gobuild-k2-dev'), match: 'exact' },
        { ref: R('gobuild-k2-main'), match: 'default-branch' },
      ],
    });
    expect(layerCacheRefs(scheme)).toEqual({
      write: R('linux-amd64-b1d-dev'),
      read: [R('linux-amd64-b1d-dev'), R('linux-amd64-b1d-main')],
    });
  });

  it('the default branch reads only what the default branch wrote', () => {
    const main = { ...scheme, scope: 'main' };
    for (const kind of ['mod', 'build'] as const) {
      const refs = goCacheRefs(main, kind, 'k');
      expect(
        [...refs.read.map((c) => c.ref), ...refs.write].every((r) => r.endsWith('-main')),
        kind,
      ).toBe(true);
    }
    expect(layerCacheRefs(main).read).toEqual([R('linux-amd64-b1d-main')]);
  });

  it('a pull request (pr-7) writes only its own scope', () => {
    const pr = { ...scheme, scope: 'pr-7' };
    expect(goCacheRefs(pr, 'mod', 'k').write.every((r) => r.endsWith('-pr-7'))).toBe(true);
    expect(goCacheRefs(pr, 'build', 'k').write).toEqual([R('gobuild-k-pr-7')]);
    expect(layerCacheRefs(pr).write).toBe(R('linux-amd64-b1d-pr-7'));
  });

  it('actions/cache keys: immutable entries; only the primary key is an exact hit', () => {
    expect(ghaKeys('mod', 'k1', '7-1')).toEqual({
      write: ['go-buildx-gomod-k1'],
      read: [
        { ref: 'go-buildx-gomod-k1', match: 'exact' },
        { ref: 'go-buildx-gomod-', match: 'branch' },
      ],
    });
    expect(ghaKeys('build', 'k2', '7-1')).toEqual({
      write: ['go-buildx-gobuild-k2-7-1'],
      read: [
        { ref: 'go-buildx-gobuild-k2-7-1', match: 'exact' },
        { ref: 'go-buildx-gobuild-k2-', match: 'branch' },
      ],
    });
  });
});

describe('restore and save builds', () => {
  const [mod, build] = findGoCacheMounts(dockerfile('goservice.Dockerfile'), {}).mounts;
  const entry = (m: typeof mod) => ({ kind: m.kind, mount: m, key: 'k', read: [], write: ['r:a', 'r:b'], save: true });

  it('restore: one RUN mounting each cache and its saved copy', () => {
    const text = restoreDockerfile('golang:1.24', [
      { entry: entry(mod), from: 'r@sha256:aa' },
      { entry: entry(build), from: 'go-buildx-build' },
    ]);
    expect(text).toBe(
      [
        'FROM --platform=$BUILDPLATFORM golang:1.24',
        'ARG GO_BUILDX_NONCE',
        'RUN --mount=type=cache,id=gomod,target=/go/pkg/mod \\',
        '    --mount=type=bind,from=r@sha256:aa,target=/.go-buildx-restore/mod \\',
        '    --mount=type=cache,id=gobuild,target=/root/.cache/go-build \\',
        '    --mount=type=bind,from=go-buildx-build,target=/.go-buildx-restore/build \\',
        '    : "$GO_BUILDX_NONCE" && ' +
          writebackBeside(
            '/go/pkg/mod',
            extractSaved('mod', '/.go-buildx-restore/mod', '/go/pkg/mod') +
              ' && ' +
              extractSaved('build', '/.go-buildx-restore/build', '/root/.cache/go-build') +
              ' && ' +
              ageRestored('/root/.cache/go-build', '/.go-buildx-restore/build'),
          ),
        '',
      ].join('\n'),
    );
  });

  // Run for real with the system's sh, and a `sync` on PATH that logs its arguments instead of syncing.
  describe('the restore writes back beside its work (writebackBeside, run)', () => {
    const runWith = (syncScript: string, body: string) => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-writeback-'));
      const bin = path.join(root, 'bin');
      fs.mkdirSync(bin);
      const log = path.join(root, 'sync.log');
      fs.writeFileSync(path.join(bin, 'sync'), `#!/bin/sh\necho "$*" >>${log}\n${syncScript}\n`, { mode: 0o755 });
      let status = 0;
      let stdout = '';
      try {
        stdout = execFileSync('sh', ['-c', writebackBeside('/the cache', body)], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
      } catch (err) {
        status = (err as { status: number }).status;
        stdout = (err as { stdout: string }).stdout;
      }
      const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
      return { status, stdout, calls };
    };
    // Gone, or a zombie its new parent has not reaped yet (an orphan here is reparented to PID 1).
    const gone = (pid: number) => {
      try {
        return fs
          .readFileSync(`/proc/${pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .startsWith('Z');
      } catch {
        return true;
      }
    };
    const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // The loop (whose pid the work printed as "loop <pid>") is gone within `ms`, and syncs no more after.
    const expectStopped = async (r: ReturnType<typeof runWith>, ms: number) => {
      const pid = Number(/^loop (\d+)$/m.exec(r.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      await settle(ms);
      expect(gone(pid)).toBe(true);
      const after = r.calls().length;
      await settle(300);
      expect(r.calls().length).toBe(after);
    };

    it('syncs that file system while the work runs, then stops: the work decides the exit status', async () => {
      const r = runWith('exit 0', 'sleep 0.35 && echo "loop $wb"');
      expect(r.status).toBe(0);
      // About every 0.1 s for 0.35 s; each call names the file system of the cache.
      expect(r.calls().length).toBeGreaterThanOrEqual(2);
      expect(new Set(r.calls())).toEqual(new Set(['-f /the cache']));
      await expectStopped(r, 200);
    });

    it('a sync without -f: plain sync instead', () => {
      const r = runWith('[ "$1" = -f ] && exit 1; exit 0', 'sleep 0.25');
      expect(r.status).toBe(0);
      expect(r.calls()).toContain('-f /the cache');
      expect(r.calls()).toContain('');
    });

    it('a failing work fails the script, and the loop ends with the shell', async () => {
      const r = runWith('exit 0', 'echo "loop $wb" && sleep 0.15 && exit 3');
      expect(r.status).toBe(3);
      await expectStopped(r, 400);
    });
  });

  it('save: module cache keeps only cache/download, in a one-layer image', () => {
    const text = extractDockerfile('golang:1.24', entry(mod), 1000);
    expect(text).toContain('RUN --mount=type=cache,id=gomod,target=/go/pkg/mod <<');
    expect(text).toContain(saveScript('mod', '/go/pkg/mod', 1000, '/.go-buildx-out', '/tmp'));
    expect(text).toMatch(/FROM scratch\nCOPY --from=extract \/.go-buildx-out\/ \/\n$/);
  });

  // The scripts run for real here (Debian's sh, find, touch, stat, tar): a GOCACHE restored, partly used
  // by a "build" (Go refreshes what it uses, creates new entries), then saved.
  describe('GOCACHE kept by use (the restore and save scripts, run)', () => {
    let noTarT = '';
    const sh = (script: string) =>
      execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, GO_BUILDX_NO_TAR_T: noTarT } });
    const setup = () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-gocache-'));
      const cache = path.join(root, 'go-build');
      for (const d of ['aa', 'bb', 'cc']) fs.mkdirSync(path.join(cache, d), { recursive: true });
      const files = ['aa/aa01-a', 'aa/aa01-d', 'bb/bb02-a', 'bb/bb02-d', 'cc/cc03-a', 'cc/cc03-d'];
      for (const f of files) fs.writeFileSync(path.join(cache, f), 'x'.repeat(1000));
      fs.writeFileSync(path.join(cache, 'trim.txt'), '1700000000');
      fs.writeFileSync(path.join(cache, 'README'), 'cache');
      return { root, cache };
    };
    // Every file of every tarball the save wrote (a full GOCACHE save is split in parts), and which tarball.
    const tarred = (dir: string) => {
      const where: Record<string, string> = {};
      for (const name of fs.readdirSync(dir)) {
        for (const l of sh(`tar -tf ${path.join(dir, name)}`).split('\n')) if (l && !l.endsWith('/')) where[l] = name;
      }
      return where;
    };
    const save = (root: string, cache: string, cap = 1_000_000) => {
      const out = sh(saveScript('build', cache, cap, path.join(root, 'out'), root));
      const where = tarred(path.join(root, 'out'));
      return { stats: parseStats(out), listed: Object.keys(where).sort(), where };
    };
    const goUses = (cache: string, f: string, secondsFromNow = 0) => {
      const t = Date.now() / 1000 + secondsFromNow;
      fs.utimesSync(path.join(cache, f), t, t);
    };

    it.each([
      ['tar -T', ''],
      ['hard links (a tar without -T, as Debian busybox)', '1'],
    ])('keeps only the entries the run used or created, plus trim.txt and README (%s)', (_how, flag) => {
      noTarT = flag;
      const { root, cache } = setup();
      sh(ageRestored(cache));
      goUses(cache, 'aa/aa01-a');
      goUses(cache, 'aa/aa01-d');
      fs.writeFileSync(path.join(cache, 'cc/cc04-a'), 'y'.repeat(500)); // created by this run
      const { stats, listed } = save(root, cache);
      expect(listed).toEqual(['./README', './aa/aa01-a', './aa/aa01-d', './cc/cc04-a', './trim.txt']);
      expect(stats).toEqual({
        total: 6000 + 500 + 10 + 5,
        used: 2000 + 500 + 10 + 5,
        kept: 2515,
        actions: { reused: 1, run: 1 },
        mode: 'full',
        savedBytes: 2515,
      });
      // The restored files not used are still in the mount, dated two hours back.
      const age = (Date.now() - fs.statSync(path.join(cache, 'bb/bb02-a')).mtimeMs) / 1000;
      expect(age).toBeGreaterThan(7190);
      expect(age).toBeLessThan(7300);
      // Nothing is left in the mount but the cache: no stage, the mark still there for a second save.
      expect(fs.readdirSync(cache).sort()).toEqual(['.go-buildx-restored', 'README', 'aa', 'bb', 'cc', 'trim.txt']);
      noTarT = '';
    });

    it.each([
      ['tar -T', ''],
      ['hard links', '1'],
    ])(`a full save is ${BUILD_PARTS} tarballs, by the first hex digit of the entry's directory (%s)`, (_how, flag) => {
      noTarT = flag;
      const { root, cache } = setup();
      for (const f of ['0a/0a05-d', '5b/5b06-d', '9c/9c07-d', 'fe/fe08-d']) {
        fs.mkdirSync(path.join(cache, path.dirname(f)), { recursive: true });
        fs.writeFileSync(path.join(cache, f), 'z');
      }
      const { where } = save(root, cache);
      expect(where).toEqual({
        './0a/0a05-d': 'gobuild.tar',
        './README': 'gobuild.tar',
        './trim.txt': 'gobuild.tar',
        './5b/5b06-d': 'gobuild.part1.tar',
        './9c/9c07-d': 'gobuild.part2.tar',
        './aa/aa01-a': 'gobuild.part2.tar',
        './aa/aa01-d': 'gobuild.part2.tar',
        './bb/bb02-a': 'gobuild.part2.tar',
        './bb/bb02-d': 'gobuild.part2.tar',
        './cc/cc03-a': 'gobuild.part3.tar',
        './cc/cc03-d': 'gobuild.part3.tar',
        './fe/fe08-d': 'gobuild.part3.tar',
      });
      expect(fs.readdirSync(path.join(root, 'out')).every((n) => isSavedPart('build', n))).toBe(true);
      // Nothing left in the mount: no stage of any part.
      expect(fs.readdirSync(cache).filter((n) => n.startsWith('.go-buildx'))).toEqual([]);
      noTarT = '';
    });

    it('without a restore (a cold run) keeps everything', () => {
      noTarT = '';
      const { root, cache } = setup();
      const { stats, listed } = save(root, cache);
      expect(listed).toHaveLength(8);
      expect(stats).toEqual({ total: 6015, used: 6015, kept: 6015, actions: { reused: 0, run: 3 }, mode: 'full', savedBytes: 6015 });
    });

    // A save that may stack a layer on the restored copy (the registry backend).
    const saveLayered = (root: string, cache: string, cap = 1_000_000) => {
      const out = sh(saveScript('build', cache, cap, path.join(root, 'out'), root, true));
      // A stacked layer is one tarball; a full save is named by its first part.
      const names = fs.readdirSync(path.join(root, 'out'));
      const name = names.length === 1 ? names[0] : TAR_NAME.build;
      return { stats: parseStats(out), listed: Object.keys(tarred(path.join(root, 'out'))).sort(), name, names };
    };
    const usesAll = (cache: string) => {
      for (const f of ['aa/aa01-a', 'aa/aa01-d', 'bb/bb02-a', 'bb/bb02-d', 'cc/cc03-a', 'cc/cc03-d']) goUses(cache, f);
    };

    it('stacks a layer of only what the run created when it used (almost) all it restored', () => {
      const { root, cache } = setup();
      sh(ageRestored(cache));
      usesAll(cache);
      fs.writeFileSync(path.join(cache, 'cc/cc04-a'), 'y'.repeat(500));
      const { stats, listed, name } = saveLayered(root, cache);
      // The restored copy was one layer, so this is the second: gobuild.01.tar, with the new entry and trim.txt.
      expect(name).toBe('gobuild.01.tar');
      expect(listed).toEqual(['./cc/cc04-a', './trim.txt']);
      expect(stats).toMatchObject({ used: 6515, kept: 6515, mode: 'layered', savedBytes: 6015 + 510, actions: { reused: 3, run: 1 } });
    });

    it('saves the whole used set instead when the restored copy holds too much the run did not use', () => {
      const { root, cache } = setup();
      sh(ageRestored(cache));
      goUses(cache, 'aa/aa01-a');
      goUses(cache, 'aa/aa01-d');
      fs.writeFileSync(path.join(cache, 'cc/cc04-a'), 'y'.repeat(500));
      // Stacking would make 6015 + 510 bytes to restore for 2515 used: over LAYER_SLACK.
      const { stats, listed, name } = saveLayered(root, cache);
      expect(name).toBe('gobuild.tar');
      expect(listed).toEqual(['./README', './aa/aa01-a', './aa/aa01-d', './cc/cc04-a', './trim.txt']);
      expect(stats).toMatchObject({ mode: 'full', savedBytes: 2515 });
    });

    it(`saves the whole used set once ${MAX_LAYERS} layers are stacked, and stacks nothing without a restore`, () => {
      const { root, cache } = setup();
      sh(ageRestored(cache));
      usesAll(cache);
      const mark = path.join(cache, RESTORED_MARK);
      const t = fs.statSync(mark).mtime;
      fs.writeFileSync(mark, fs.readFileSync(mark, 'utf8').replace(/^layers 1\n/, `layers ${MAX_LAYERS}\n`));
      fs.utimesSync(mark, t, t);
      expect(saveLayered(root, cache).name).toBe('gobuild.tar');
      const cold = setup();
      expect(saveLayered(cold.root, cold.cache)).toMatchObject({ name: 'gobuild.tar', stats: { mode: 'full', savedBytes: 6015 } });
    });

    it('the restore extracts the parts and every stacked layer after them, oldest first, and counts the layers in the mark', () => {
      const { root, cache } = setup();
      const src = path.join(root, 'src');
      fs.mkdirSync(src);
      sh(
        `cd ${cache} && tar -cf ${src}/gobuild.tar ./trim.txt && tar -cf ${src}/gobuild.part2.tar ./aa/aa01-a && tar -cf ${src}/gobuild.part3.tar ./aa/aa01-d`,
      );
      fs.writeFileSync(path.join(cache, 'trim.txt'), '1800000000');
      sh(`cd ${cache} && tar -cf ${src}/gobuild.01.tar ./bb ./trim.txt`);
      const target = path.join(root, 'restored');
      fs.mkdirSync(target);
      sh(`${extractSaved('build', src, target)} && ${ageRestored(target, src)}`);
      expect(fs.readFileSync(path.join(target, 'trim.txt'), 'utf8')).toBe('1800000000');
      const lines = fs.readFileSync(path.join(target, RESTORED_MARK), 'utf8').trim().split('\n');
      expect(lines[0]).toBe('layers 2');
      expect(lines.slice(1).sort()).toEqual([
        '10 ./trim.txt',
        '1000 ./aa/aa01-a',
        '1000 ./aa/aa01-d',
        '1000 ./bb/bb02-a',
        '1000 ./bb/bb02-d',
      ]);
    });

    it('a part that cannot be read fails the restore', () => {
      const { root } = setup();
      const src = path.join(root, 'src');
      fs.mkdirSync(src);
      sh(`cd ${root} && tar -cf ${src}/gobuild.tar ./go-build/trim.txt`);
      fs.writeFileSync(path.join(src, 'gobuild.part1.tar'), 'not a tarball');
      const target = path.join(root, 'restored');
      fs.mkdirSync(target);
      expect(() => sh(`${extractSaved('build', src, target)} && echo restored`)).toThrow();
      fs.rmSync(path.join(src, 'gobuild.part1.tar'));
      expect(sh(`${extractSaved('build', src, target)} && echo restored`).trim()).toBe('restored');
    });

    it('over go-cache-max-size keeps the newest of what the run used', () => {
      const { root, cache } = setup();
      sh(ageRestored(cache));
      goUses(cache, 'aa/aa01-a', -5);
      goUses(cache, 'bb/bb02-a');
      // Newest first until the next file would pass the cap: bb02-a (1000), then aa01-a would make 2000.
      const { listed } = save(root, cache, 1500);
      expect(listed).toEqual(['./bb/bb02-a']);
    });
  });

  it.each([
    [
      'registry save',
      { builder: 'b', dockerfile: '/t/D', contextDir: '/t/c', buildArgs: [], output: ociOutput('/t/oci'), nonce: 'n' },
      [
        'build',
        '--builder',
        'b',
        '--progress=plain',
        '--provenance=false',
        '--file',
        '/t/D',
        '--build-arg',
        'GO_BUILDX_NONCE=n',
        '--output',
        'type=oci,dest=/t/oci,tar=false,compression=zstd,force-compression=true,oci-mediatypes=true',
        '/t/c',
      ],
    ],
    [
      'gha restore with a named context and the mount namespace',
      {
        builder: 'b',
        dockerfile: '/t/D',
        contextDir: '/t/c',
        buildArgs: ['BUILDKIT_CACHE_MOUNT_NS=x'],
        buildContexts: [{ name: 'go-buildx-mod', dir: '/d' }],
        output: 'type=cacheonly',
        nonce: 'n',
      },
      [
        'build',
        '--builder',
        'b',
        '--progress=plain',
        '--provenance=false',
        '--file',
        '/t/D',
        '--build-arg',
        'GO_BUILDX_NONCE=n',
        '--build-arg',
        'BUILDKIT_CACHE_MOUNT_NS=x',
        '--build-context',
        'go-buildx-mod=/d',
        '--output',
        'type=cacheonly',
        '/t/c',
      ],
    ],
    [
      'a builder of several nodes: the helper names a platform of its node, so buildx runs it there',
      {
        builder: 'b',
        dockerfile: '/t/D',
        contextDir: '/t/c',
        buildArgs: [],
        output: 'type=cacheonly',
        nonce: 'n',
        platform: 'linux/arm64',
      },
      [
        'build',
        '--builder',
        'b',
        '--progress=plain',
        '--provenance=false',
        '--file',
        '/t/D',
        '--platform',
        'linux/arm64',
        '--build-arg',
        'GO_BUILDX_NONCE=n',
        '--output',
        'type=cacheonly',
        '/t/c',
      ],
    ],
  ])('argv: %s', (_n, input, want) => {
    expect(helperBuildArgv(input)).toEqual(want);
  });

  it('parses the stats line of a save build and tells a missing tag from an outage', () => {
    expect(parseStats('#5 0.9 go-buildx-stats kind=build total=341 kept=300\n')).toEqual({ total: 341, kept: 300 });
    expect(parseStats('nothing')).toBeUndefined();
    expect(isMissingRef('ERROR: localhost:5000/exp/gocache:nonexist: not found')).toBe(true);
    expect(isMissingRef('ERROR: dial tcp 127.0.0.1:5001: connect: connection refused')).toBe(false);
  });
});

describe('what to save, from the build that just ran (captured rawjson of the example)', () => {
  const [mod, build] = findGoCacheMounts(fs.readFileSync(path.join(FIXTURES, '..', '..', 'example', 'Dockerfile'), 'utf8'), {}).mounts;
  const plan = (match?: 'exact' | 'branch'): GoCachePlan => ({
    backend: 'registry',
    helperImage: 'golang:1.24',
    maxBytes: 1,
    buildArgs: [],
    entries: [mod, build].map((m) => ({
      kind: m.kind,
      mount: m,
      key: 'k',
      read: [],
      write: m.kind === 'mod' ? ['c:gomod-k-main', 'c:gomod-b-main'] : ['c:gobuild-k-main'],
      save: false,
      restored: match ? { ref: 'r', match, bytes: 1 } : undefined,
    })),
  });

  it('finds the go build step by its mounts', () => {
    const names = vertices('rawjson-change.txt')
      .filter((v) => mountsCache(v.name, build))
      .map((v) => v.name);
    expect(names.length).toBe(2);
    expect(names.every((n) => /go build/.test(n!))).toBe(true);
  });

  it.each([
    ['nothing restored: save both', 'rawjson-cold.txt', undefined, [true, true]],
    ['exact hit and a code change: the build cache only', 'rawjson-change.txt', 'exact', [false, true]],
    ['exact hit and everything CACHED: nothing', 'rawjson-warm.txt', 'exact', [false, false]],
    ['fallback hit and everything CACHED: nothing (the mounts hold what was restored)', 'rawjson-warm.txt', 'branch', [false, false]],
    ['fallback hit and a code change: both (go build mounts the module cache too)', 'rawjson-change.txt', 'branch', [true, true]],
    // A fresh builder whose layer cache served every step: the mounts are empty, and saving them would plant an empty cache.
    ['nothing restored and everything CACHED: nothing', 'rawjson-warm.txt', undefined, [false, false]],
  ] as const)('%s', (_n, fx, match, want) => {
    expect(decideSaves(plan(match), vertices(fx), { ok: true }).entries.map((e) => e.save)).toEqual(want);
  });

  it('the module cache goes under its exact key only when go mod download ran: go build alone fetches part of the set', () => {
    // rawjson-cold: go mod download ran, so the whole set is there; rawjson-change: it came from the layer cache.
    const cold = decideSaves(plan(), vertices('rawjson-cold.txt'), { ok: true }).entries[0];
    expect([cold.save, cold.write]).toEqual([true, ['c:gomod-k-main', 'c:gomod-b-main']]);
    const change = decideSaves(plan('branch'), vertices('rawjson-change.txt'), { ok: true }).entries[0];
    expect([change.save, change.write]).toEqual([true, ['c:gomod-b-main']]);
    // actions/cache has only the exact key: nothing is saved rather than a partial set under it.
    const gha = decideSaves(
      { ...plan('branch'), entries: plan('branch').entries.map((e) => ({ ...e, write: e.write.slice(0, 1) })) },
      vertices('rawjson-change.txt'),
      { ok: true },
    ).entries[0];
    expect([gha.save, gha.skipReason]).toEqual([
      false,
      'go mod download came from the layer cache: go build fetched only part of the module set',
    ]);
  });

  it('save-on forbids it: nothing, with the reason', () => {
    const d = decideSaves(plan(), vertices('rawjson-cold.txt'), { ok: false, why: 'not the default branch' });
    expect(d.entries.map((e) => [e.save, e.skipReason])).toEqual([
      [false, 'not the default branch'],
      [false, 'not the default branch'],
    ]);
  });
});

describe('q. actions/cache backend', () => {
  const [mod, build] = findGoCacheMounts(dockerfile('goservice.Dockerfile'), {}).mounts;
  const entry = (m: typeof mod, read: Candidate[], write: string[]) => ({
    kind: m.kind,
    mount: m,
    key: 'k',
    read,
    write,
    save: true,
  });
  function store(hitKey: string | undefined, saveId: number) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-gha-unit-'));
    return new GhaStore(
      {
        async restoreCache(paths) {
          if (hitKey) fs.writeFileSync(path.join(paths[0], hitKey.includes('gomod') ? 'gomod.tar' : 'gobuild.tar'), 'x');
          return hitKey;
        },
        async saveCache() {
          return saveId;
        },
      },
      root,
    );
  }
  it('a save the service refuses (-1: reserve conflict, write denied) is an error, not "saved"', async () => {
    const e = entry(build, [], ['go-buildx-gobuild-k-7-1']);
    await expect(store(undefined, -1).finish(e)).rejects.toThrow(/actions\/cache did not store go-buildx-gobuild-k-7-1/);
  });
  it('a restore by the GOCACHE prefix is a "branch" match: only the primary key is exact', async () => {
    const keys = ghaKeys('build', 'k2', '7-1');
    const found = await store('go-buildx-gobuild-k2-6-1', 1).find(entry(build, keys.read, keys.write));
    expect(found?.restored.match).toBe('branch');
    const mk = ghaKeys('mod', 'k1', '7-1');
    expect((await store('go-buildx-gomod-k1', 1).find(entry(mod, mk.read, mk.write)))?.restored.match).toBe('exact');
    expect((await store('go-buildx-gomod-k0', 1).find(entry(mod, mk.read, mk.write)))?.restored.match).toBe('branch');
  });
  it.each([
    ['gobuild.tar', 'build', true],
    ['gobuild.part1.tar', 'build', true],
    ['gobuild.part12.tar', 'build', true],
    ['gobuild.01.tar', 'build', false],
    ['gobuild.part.tar', 'build', false],
    ['gobuild.partx.tar', 'build', false],
    ['gobuild.part1.tar.tmp', 'build', false],
    ['gomod.tar', 'build', false],
    ['gomod.tar', 'mod', true],
  ] as const)('%s is a part of a full %s save: %s', (name, kind, part) => {
    expect(isSavedPart(kind, name)).toBe(part);
  });
  it('a GOCACHE saved in parts: what was restored counts every part', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-gha-unit-'));
    const parts = { 'gobuild.tar': 10, 'gobuild.part1.tar': 200, 'gobuild.part3.tar': 3000, 'other.txt': 40000 };
    const gha = new GhaStore(
      {
        async restoreCache(paths) {
          for (const [name, size] of Object.entries(parts)) fs.writeFileSync(path.join(paths[0], name), 'x'.repeat(size));
          return 'go-buildx-gobuild-k2-7-1';
        },
        async saveCache() {
          return 1;
        },
      },
      root,
    );
    const keys = ghaKeys('build', 'k2', '7-1');
    expect((await gha.find(entry(build, keys.read, keys.write)))?.restored.bytes).toBe(3210);
  });
});

describe('a builder of several nodes: each node restores and saves its own caches', () => {
  const nodes = parseInspect(fixture('buildx-inspect-multinode.txt')).nodes;
  const settings = parseSettings(runnerInputs({ 'cache-ref': 'ghcr.io/acme/api-cache' }), {
    GITHUB_WORKSPACE: path.join(FIXTURES, '..', '..', 'example'),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '7',
  });

  it('the step names of a captured build give each step its target platform', () => {
    const goBuild = vertices('rawjson-change.txt').filter((v) => /go build/.test(v.name ?? '') && /RUN/.test(v.name ?? ''));
    expect(goBuild.map((v) => stepPlatform(parseStepName(v.name)!.label)).sort()).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it("plans per node (captured inspect of remote amd64 + appended arm64): GOCACHE keyed by the node's platforms, the module cache saved once", () => {
    const { plan, note } = planGoCacheForNodes(settings, nodes);
    expect(plan!.entries.map((e) => [e.kind, e.node?.name, e.node?.platforms, e.follower])).toEqual([
      ['mod', 'gba-capture0', ['linux/amd64'], false],
      ['build', 'gba-capture0', ['linux/amd64'], false],
      ['mod', 'gba-capture-arm64', ['linux/arm64'], true],
      ['build', 'gba-capture-arm64', ['linux/arm64'], false],
    ]);
    const [modA, buildA, modB, buildB] = plan!.entries;
    expect(modB.key).toBe(modA.key);
    expect(buildB.key).not.toBe(buildA.key);
    expect(buildA.write[0]).toContain(buildA.key);
    expect(note).toMatch(/per node \(gba-capture0: linux\/amd64; gba-capture-arm64: linux\/arm64\)/);
    // With one node (or none known) the plan is the single-builder one.
    expect(planGoCacheForNodes(settings, nodes.slice(0, 1)).plan!.entries.every((e) => e.node === undefined)).toBe(true);
  });

  it('saves per node: a node saves GOCACHE when a step of its platforms ran; the module cache from the first node only', () => {
    const { plan } = planGoCacheForNodes(settings, nodes);
    const d = decideSaves(plan!, vertices('rawjson-cold.txt'), { ok: true });
    expect(d.entries.map((e) => [e.kind, e.node?.name, e.save, e.skipReason])).toEqual([
      ['mod', 'gba-capture0', true, undefined],
      ['build', 'gba-capture0', true, undefined],
      ['mod', 'gba-capture-arm64', false, 'the same modules are saved from the first node'],
      ['build', 'gba-capture-arm64', true, undefined],
    ]);
    // A node whose platforms built nothing has nothing new to save.
    const riscv = { ...plan!, entries: plan!.entries.slice(3).map((e) => ({ ...e, node: { name: 'rv', platforms: ['linux/riscv64'] } })) };
    expect(decideSaves(riscv, vertices('rawjson-cold.txt'), { ok: true }).entries[0].save).toBe(false);
  });
});

// The Go caches explain themselves, from the captured rawjson of the example (cold, a code change, no change).
describe('go cache stats', () => {
  const [, build] = findGoCacheMounts(fs.readFileSync(path.join(FIXTURES, '..', '..', 'example', 'Dockerfile'), 'utf8'), {}).mounts;
  const platforms = ['linux/amd64', 'linux/arm64'];
  const seconds = (fx: string) => goBuildSeconds(vertices(fx), build, platforms);
  const restore = { seconds: 1.2, bytes: 5e7 };

  it('go build seconds per platform: run steps counted, cached ones null', () => {
    const cold = seconds('rawjson-cold.txt');
    const change = seconds('rawjson-change.txt');
    for (const p of platforms) {
      expect(cold[p]).toBeGreaterThan(0);
      expect(change[p]).toBeGreaterThan(0);
      expect(change[p]!).toBeLessThan(cold[p]!);
    }
    expect(seconds('rawjson-warm.txt')).toEqual({ 'linux/amd64': null, 'linux/arm64': null });
  });

  it('a cold run is its own baseline; a later run is measured against the stored cold times', () => {
    const cold = seconds('rawjson-cold.txt');
    const first = computeStats(cold, undefined, { seconds: 0.2, bytes: 0 }, false);
    expect(first.savedSeconds).toBe(0);
    const history = nextHistory(undefined, first, 9.5);
    expect(history).toEqual({ coldSeconds: cold, runs: [{ restore: 0.2, save: 9.5, saved: 0 }] });

    const change = seconds('rawjson-change.txt');
    const warm = computeStats(change, history, restore, true);
    for (const p of platforms) {
      expect(warm.platforms[p]).toEqual({
        goBuildSeconds: change[p],
        coldSeconds: cold[p],
        savedSeconds: Math.round((cold[p]! - change[p]!) * 10) / 10,
      });
    }
    expect(warm.savedSeconds).toBeCloseTo(
      platforms.reduce((n, p) => n + (cold[p]! - change[p]!), 0),
      0,
    );
    // Steps from the layer cache: nothing to credit the Go caches with.
    expect(computeStats(seconds('rawjson-warm.txt'), history, { ...restore, skipped: 'fingerprint' }, false).savedSeconds).toBeNull();
    // Restored, but no cold time kept (a history from before this was recorded): unknown, not zero.
    expect(computeStats(change, undefined, restore, true).platforms['linux/amd64'].coldSeconds).toBeNull();
  });

  it('warns after three runs in a row that cost more than they saved, and only then', () => {
    const cost = (saved: number): GoCacheStats => ({ platforms: {}, savedSeconds: saved, restore: { seconds: 2, bytes: 1 } });
    let h: GoCacheHistory | undefined;
    for (const saved of [1, 1]) h = nextHistory(h, cost(saved), 5);
    expect(losingStreak(h)).toBeUndefined();
    h = nextHistory(h, cost(1), 5);
    expect(losingStreak(h)).toMatch(/cost more than they saved in each of the last 3 runs \(restore 2s \+ save 5s against 1s saved;/);
    h = nextHistory(h, cost(30), 5);
    expect(h!.runs).toHaveLength(3);
    expect(losingStreak(h)).toBeUndefined();
  });

  it('the job summary line', () => {
    const g = computeStats({ 'linux/amd64': 2, 'linux/arm64': null }, { coldSeconds: { 'linux/amd64': 40 }, runs: [] }, restore, true);
    expect(goCacheLines(g)).toBe(
      'Go caches: restored 50.00 MB in 1.2 s  \nlinux/amd64: go build 2.0 s (cold 40.0 s, saved 38.0 s)  \nlinux/arm64: go build from the layer cache',
    );
  });

  it('the save line names the build actions reused and run anew', () => {
    expect(parseStats('#7 0.3 go-buildx-stats kind=build total=300 used=200 kept=200 files=9 reused_actions=1250 run_actions=12')).toEqual({
      total: 300,
      used: 200,
      kept: 200,
      actions: { reused: 1250, run: 12 },
    });
  });
});
