// The build fingerprint: what decides whether a step runs again, as the runner sees it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextFiles, dockerignoreText, type FingerprintInputs, fingerprintOf, ignorePatterns } from '../../src/layercache/fingerprint.js';
import { layerExportPlan } from '../../src/layercache/layerexport.js';
import { startFingerprintCheck } from '../../src/layercache/skip.js';
import { markerVerdict, sizeMemoOf } from '../../src/layercache/marker.js';
import { parseSettings } from '../../src/settings/parse.js';
import { externalImages } from '../../src/dockerfile/bases.js';
import { FIXTURES, fixture, runnerInputs } from './helpers.js';

function context(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-fp-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

describe('build fingerprint', () => {
  const base: FingerprintInputs = {
    dockerfile: 'FROM scratch\n',
    buildArgs: ['A=1'],
    platforms: ['linux/amd64', 'linux/arm64'],
    buildContexts: [],
    files: { 'a.go': 'x', 'b.go': 'y' },
    bases: ['golang:1.24 sha256:aa -'],
  };

  it('does not depend on the order of platforms or files; does on everything else', () => {
    const fp = fingerprintOf(base);
    expect(fingerprintOf({ ...base, platforms: ['linux/arm64', 'linux/amd64'], files: { 'b.go': 'y', 'a.go': 'x' } })).toBe(fp);
    for (const other of <Partial<FingerprintInputs>[]>[
      { dockerfile: 'FROM scratch\nUSER 1\n' },
      { buildArgs: ['A=2'] },
      { target: 'test' },
      { platforms: ['linux/amd64'] },
      { buildContexts: ['x=docker-image://alpine'] },
      { files: { 'a.go': 'x', 'b.go': 'z' } },
      { files: { 'a.go': 'x' } },
      // A base-image bump, or the engine's own copy of the tag replaced.
      { bases: ['golang:1.24 sha256:bb -'] },
      { bases: ['golang:1.24 sha256:aa sha256:cc'] },
    ]) {
      expect(fingerprintOf({ ...base, ...other }), JSON.stringify(other)).not.toBe(fp);
    }
  });

  it('hashes what .dockerignore keeps, with its exceptions, as the Docker CLI reads it', () => {
    const dir = context({
      'main.go': 'package main',
      'go.mod': 'module x',
      'docs/a.md': 'a',
      'docs/keep.md': 'k',
      '.git/HEAD': 'ref',
      'bin/app': 'elf',
      '.dockerignore': '# build output\n.git\nbin\ndocs\n!docs/keep.md\n\n',
    });
    const patterns = ignorePatterns(dockerignoreText(dir, path.join(dir, 'Dockerfile')));
    expect(patterns).toEqual(['.git', 'bin', 'docs', '!docs/keep.md']);
    expect(Object.keys(contextFiles(dir, patterns)).sort()).toEqual(['.dockerignore', 'docs/keep.md', 'go.mod', 'main.go']);
    // Changing an ignored file changes nothing; changing a kept one does.
    const before = contextFiles(dir, patterns);
    fs.writeFileSync(path.join(dir, 'bin/app'), 'elf2');
    expect(contextFiles(dir, patterns)).toEqual(before);
    fs.writeFileSync(path.join(dir, 'main.go'), 'package main // changed');
    expect(contextFiles(dir, patterns)['main.go']).not.toBe(before['main.go']);
    // The executable bit is part of what a COPY brings.
    fs.chmodSync(path.join(dir, 'go.mod'), 0o755);
    expect(contextFiles(dir, patterns)['go.mod']).not.toBe(before['go.mod']);
  });

  it("<Dockerfile>.dockerignore wins over the context's .dockerignore, as BuildKit reads them", () => {
    const dir = context({ '.dockerignore': 'a\n', 'build/Dockerfile.dockerignore': 'b\n' });
    expect(dockerignoreText(dir, path.join(dir, 'build/Dockerfile'))).toBe('b\n');
    expect(dockerignoreText(dir, path.join(dir, 'Dockerfile'))).toBe('a\n');
  });
});

describe('when the own layer cache export runs', () => {
  const build = {
    argv: ['full'],
    ownCache: { ref: 'r/c:x-main', argvKeeping: ['keeping'], exportArgv: ['export'], exportMetadataFile: '/m' },
  };
  const mine = { fingerprint: 'f', bases: [], matched: 'r/c:x-main', reason: '' };
  const other = { fingerprint: 'f', bases: [], matched: 'r/c:x-dev', reason: '' };
  it.each([
    ['the ref it writes matched: left out, run after only if a step ran', mine, false, { argv: ['keeping'], after: true, matched: true }],
    ['the same in strict mode (it then runs in main)', mine, true, { argv: ['keeping'], after: true, matched: true }],
    // A branch that matched the default branch's ref still writes its own.
    ['another ref matched: left out, to post', other, false, { argv: ['keeping'], after: true, matched: false }],
    ['another ref matched, strict: in the build', other, true, { argv: ['full'], after: false, matched: false }],
    ['no match: to post', { fingerprint: 'f', bases: [], reason: 'changed' }, false, { argv: ['keeping'], after: true, matched: false }],
    [
      'no match, strict: in the build',
      { fingerprint: 'f', bases: [], reason: 'changed' },
      true,
      { argv: ['full'], after: false, matched: false },
    ],
    // No Go caches, so no fingerprint: post could not tell whether a later step changed the context.
    ['no fingerprint: in the build', undefined, false, { argv: ['full'], after: false, matched: false }],
  ])('%s', (_n, check, strict, plan) => {
    expect(layerExportPlan(build, check, strict)).toEqual(plan);
  });
  it('no own export (no cache-ref, or not allowed to write): the build as it is', () => {
    expect(layerExportPlan({ argv: ['full'] }, mine, false)).toEqual({ argv: ['full'], after: false, matched: false });
  });
});

describe('the fingerprint check started beside the builder setup', () => {
  // Nothing listens on port 1: a check that ran would report the refused connection, not resolve empty.
  const settings = (dockerfile: string, extra: Record<string, string> = {}) =>
    parseSettings(runnerInputs({ 'cache-ref': '127.0.0.1:1/acme/cache', ...extra }), {
      GITHUB_WORKSPACE: context({ 'go.mod': 'module example.com/x\n\ngo 1.24\n', 'main.go': 'package main\n', Dockerfile: dockerfile }),
      GITHUB_REF: 'refs/heads/main',
    });
  const withMounts = fixture('dockerfiles/goservice.Dockerfile');

  it('does not run for a Dockerfile without Go cache mounts: nothing would read it', async () => {
    expect(await startFingerprintCheck(settings('FROM golang:1.24\nCOPY . .\nRUN go build -o /app .\n'))).toBeUndefined();
  });
  it('does not run with go-cache off', async () => {
    expect(await startFingerprintCheck(settings(withMounts, { 'go-cache': 'false' }))).toBeUndefined();
  });
  it('runs for a Dockerfile with Go cache mounts, and a registry it cannot reach is no match', async () => {
    const check = await startFingerprintCheck(settings(withMounts));
    expect(check).toMatchObject({ fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(check).not.toHaveProperty('matched');
    expect((check as { reason: string }).reason).toMatch(/127\.0\.0\.1:1/);
  });
});

describe('the images a Dockerfile builds from (their digests go into the fingerprint)', () => {
  it('the example and the fixtures: each FROM image once, stages and scratch left out', () => {
    expect(externalImages(fs.readFileSync(path.join(FIXTURES, '..', '..', 'example', 'Dockerfile'), 'utf8'), {})).toEqual({
      images: ['golang:1.24'],
      unresolved: [],
    });
    expect(externalImages(fixture('dockerfiles/goservice.Dockerfile'), {}).images.length).toBeGreaterThan(0);
  });

  it('ARGs substituted (build args over defaults), COPY --from and RUN --mount from= images, stage names case-insensitive', () => {
    const text = [
      'ARG GO=1.24',
      'ARG BASE',
      'FROM --platform=$BUILDPLATFORM golang:${GO} AS Build',
      'COPY --from=ghcr.io/acme/tools:1 /bin/x /bin/x',
      'RUN --mount=type=bind,from=alpine:3.20,source=/etc,target=/mnt go build',
      'RUN --mount=type=cache,target=/go/pkg/mod,from=build go build',
      'FROM build AS test',
      'FROM ${BASE}',
      'COPY --from=BUILD /out /out',
      'COPY --from=0 /out /out2',
      'FROM scratch',
    ].join('\n');
    expect(externalImages(text, {})).toEqual({ images: ['alpine:3.20', 'ghcr.io/acme/tools:1', 'golang:1.24'], unresolved: ['${BASE}'] });
    expect(externalImages(text, { GO: '1.25', BASE: 'gcr.io/distroless/static:nonroot' }).images).toEqual([
      'alpine:3.20',
      'gcr.io/distroless/static:nonroot',
      'ghcr.io/acme/tools:1',
      'golang:1.25',
    ]);
  });
});

describe('markerVerdict: a layer cache ref and the marker beside it, read before the fingerprint is known', () => {
  const ref = 'ghcr.io/acme/cache:buildcache-linux-amd64-216f15a4-main';
  const cache = `sha256:${'a'.repeat(64)}`;
  it.each([
    [{}, false, 'does not exist'],
    [{ current: cache }, false, 'has no fingerprint'],
    [{ current: cache, record: { fingerprint: 'other', cache } }, false, 'was written by other inputs'],
    [{ current: cache, record: { fingerprint: 'fp1', cache: `sha256:${'b'.repeat(64)}` } }, false, 'was rewritten since'],
    [{ current: cache, record: { fingerprint: 'fp1', cache } }, true, 'was exported with these inputs'],
  ])('%j: match %s (%s)', (state, match, why) => {
    const v = markerVerdict(ref, state, 'fp1');
    expect(v.match).toBe(match);
    expect(v.why.startsWith(`${ref} `), 'names the ref').toBe(true);
    expect(v.why).toContain(why);
  });
});

describe('sizeMemoOf: the sizes a marker recorded, read from a registry nobody vouches for', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  it('keeps the well-formed entries as they are', () => {
    const memo = [
      { layers: [d('a'), d('b')], unpacked: 13525233 },
      { layers: [d('a'), d('c')], unpacked: 0 },
    ];
    expect(sizeMemoOf(memo)).toEqual(memo);
    expect(sizeMemoOf(JSON.parse(JSON.stringify(memo)))).toEqual(memo);
  });
  it('drops every entry that is not layers by sha256 digest with a whole, non-negative size', () => {
    const good = { layers: [d('a')], unpacked: 5 };
    const bad: unknown[] = [
      null,
      'x',
      { layers: [], unpacked: 1 },
      { layers: ['sha256:short'], unpacked: 1 },
      { layers: [d('A')], unpacked: 1 },
      { layers: [`${d('a')}\n::error::x`], unpacked: 1 },
      { layers: [d('a')], unpacked: -1 },
      { layers: [d('a')], unpacked: 1.5 },
      { layers: [d('a')], unpacked: '5' },
      { layers: d('a'), unpacked: 5 },
      { unpacked: 5 },
    ];
    expect(sizeMemoOf([...bad, good])).toEqual([good]);
    expect(sizeMemoOf(bad)).toBeUndefined();
    expect(sizeMemoOf(undefined)).toBeUndefined();
    expect(sizeMemoOf({ layers: [d('a')], unpacked: 5 })).toBeUndefined();
  });
  it('extra fields do not travel on', () => {
    expect(sizeMemoOf([{ layers: [d('a')], unpacked: 5, note: '::warning::x' }])).toEqual([{ layers: [d('a')], unpacked: 5 }]);
  });
});
