// Issue 10: the pure pieces behind the user-path fixes, on captured output
// where there is any. The e2e file of the same name runs the user stories.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scopeName, workflowContext } from '../../src/context.js';
import { untrustedBlock } from '../../src/output.js';
import { parseCommandLine, unintendedCommands, workflowCommands } from '../../scripts/workflow-commands.mjs';
import { eventOf } from '../../scripts/runner-events.mjs';
import type { EventSpec } from '../../scripts/run-action.d.mts';
import { saveAllowed } from '../../src/cacherefs/refs.js';
import { layoutFetcher, summarize } from '../../src/report/sizes.js';
import { platformManifests } from '../../src/registry/oci.js';
import { unmeasured, unmeasuredMessage } from '../../src/report/budget.js';
import { dryRunDigest, tagArgv } from '../../src/publish/push.js';
import { buildxRelease, checksumFor } from '../../src/buildx/install.js';
import { sha256File, verifyCached } from '../../src/setup/verified.js';
import { copiedModuleFiles, findGoCacheMounts } from '../../src/dockerfile/gomounts.js';
import { stages } from '../../src/dockerfile/reader.js';
import { cacheProblems } from '../../src/imagebuild/rawjson.js';
import { isSecureUrl } from '../../src/settings/values.js';
import { FIXTURES, fixture, vertices } from './helpers.js';

/** 8 hex digits of a name's SHA-256, the suffix scopeName gives a name that is not its own slug. */
const h = (name: string) => crypto.createHash('sha256').update(name).digest('hex').slice(0, 8);

function eventFile(payload: object): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gba-ev-')), 'event.json');
  fs.writeFileSync(f, JSON.stringify(payload));
  return f;
}

describe('j. the trust model: scope, trust and what a run may write, for every event users trigger', () => {
  const settingsOf = (spec: EventSpec, saveOn: 'all' | 'default-branch' | 'any-event' = 'all') => {
    const ev = eventOf(spec);
    return { saveOn, workflow: workflowContext({ ...ev.env, GITHUB_EVENT_PATH: eventFile(ev.payload) }) };
  };
  // [event, scope written, trusted, writes with save-on: all, with default-branch, with any-event]
  it.each([
    ['push to the default branch', { kind: 'push' }, 'main', true, true, true, true],
    ['push to a feature branch', { kind: 'push', branch: 'feature/x' }, `feature-x..${h('feature/x')}`, false, true, false, true],
    ['push to a branch whose name is its own slug', { kind: 'push', branch: 'dev' }, 'dev', false, true, false, true],
    ['push to branch main- (slugs to main)', { kind: 'push', branch: 'main-' }, `main..${h('main-')}`, false, true, false, true],
    ['push to branch Main', { kind: 'push', branch: 'Main' }, `main..${h('Main')}`, false, true, false, true],
    ['push to branch main! ', { kind: 'push', branch: 'main!' }, `main..${h('main!')}`, false, true, false, true],
    [
      'push to branch pr-7 (shaped like a pull request scope)',
      { kind: 'push', branch: 'pr-7' },
      `pr-7..${h('pr-7')}`,
      false,
      true,
      false,
      true,
    ],
    ['push of a tag: its own tag scope, never the default branch', { kind: 'tag' }, 'tag-v1.2.3', false, true, false, true],
    [
      'pull_request from a fork whose head is main',
      { kind: 'pull_request', number: 7, headRef: 'main', fork: true },
      'pr-7',
      false,
      true,
      false,
      true,
    ],
    ['pull_request from a branch of the repository', { kind: 'pull_request', number: 8 }, 'pr-8', false, true, false, true],
    [
      'pull_request_target (runs on the base branch)',
      { kind: 'pull_request_target', number: 9, fork: true },
      'pr-9',
      false,
      true,
      false,
      true,
    ],
    ['issue_comment on a pull request ("/build")', { kind: 'issue_comment', number: 11 }, 'pr-11', false, true, false, true],
    [
      'issue_comment on an issue',
      { kind: 'issue_comment', number: 12, onPullRequest: false },
      'event-issue_comment',
      false,
      false,
      false,
      true,
    ],
    ['workflow_run', { kind: 'workflow_run' }, 'event-workflow_run', false, false, false, true],
    ['repository_dispatch', { kind: 'repository_dispatch' }, 'event-repository_dispatch', false, false, false, true],
    ['workflow_dispatch on the default branch', { kind: 'workflow_dispatch' }, 'main', true, true, true, true],
    ['workflow_dispatch on a branch', { kind: 'workflow_dispatch', branch: 'dev' }, 'dev', false, true, false, true],
    ['schedule (on the default branch)', { kind: 'schedule' }, 'main', true, true, true, true],
    ['merge_group into the default branch', { kind: 'merge_group' }, 'main', true, true, true, true],
    ['merge_group into another branch', { kind: 'merge_group', base: 'release' }, 'event-merge_group', false, false, false, true],
  ] as [string, EventSpec, string, boolean, boolean, boolean, boolean][])('%s', (_n, spec, scope, trusted, all, dflt, any) => {
    const { workflow } = settingsOf(spec);
    expect([workflow.scope, workflow.trusted, workflow.defaultScope]).toEqual([scope, trusted, 'main']);
    expect(
      [settingsOf(spec, 'all'), settingsOf(spec, 'default-branch'), settingsOf(spec, 'any-event')].map((x) => saveAllowed(x).ok),
    ).toEqual([all, dflt, any]);
    // Only the default branch's own runs write the scope every run reads.
    if (!trusted) expect(workflow.scope).not.toBe(workflow.defaultScope);
  });
  it('no two branch, tag, pull request or event names share a scope, and only "main" itself is main', () => {
    const names = [
      'main',
      'main-',
      'Main',
      'main!',
      'main@',
      'MAIN',
      'main.',
      'main..x',
      'feature/x',
      'feature-x',
      'pr-7',
      'tag-v1',
      'event-schedule',
    ];
    const scopes = names.map((n) => scopeName(n));
    expect(new Set(scopes).size).toBe(names.length);
    expect(scopes.filter((x) => x === 'main')).toEqual(['main']);
    for (const x of scopes) expect(x).toMatch(/^[a-z0-9][a-z0-9._-]{0,58}$/);
  });
  it('the default branch comes from the payload', () => {
    const ctx = workflowContext({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/trunk',
      GITHUB_EVENT_PATH: eventFile({ repository: { default_branch: 'trunk' } }),
    });
    expect([ctx.scope, ctx.trusted, ctx.defaultScope]).toEqual(['trunk', true, 'trunk']);
  });
});

describe('e. untrusted text never reaches the runner as a command', () => {
  const hostile = [
    '::error::INJECTED error',
    '  ::add-mask::INJECTED-mask',
    '::set-output name=digest::INJECTED',
    'text\r::warning::INJECTED after a carriage return',
    '::stop-commands::guessed',
    '::guessed::',
    '##[error]INJECTED legacy',
  ];
  it('the runner sees the hostile lines as commands when printed raw (the parser is not blind)', () => {
    const seen = workflowCommands(hostile.join('\n'));
    expect(seen.map((c) => c.name)).toEqual(['error', 'add-mask', 'set-output', 'warning', 'stop-commands', 'error']);
  });
  it('inside a stop-commands block with a random token, none of them is obeyed, and commands after it are', () => {
    const out = `${untrustedBlock(hostile)}::warning::ours\n`;
    const seen = workflowCommands(out);
    expect(seen.filter((c) => c.message.includes('INJECTED'))).toEqual([]);
    expect(seen.map((c) => c.name)).toEqual(['stop-commands', 'warning']);
    expect(seen[1].message).toBe('ours');
  });
  it('parses properties and escapes as the runner does', () => {
    expect(parseCommandLine('::error file=Dockerfile,line=3,title=Dockerfile lint x::a%0Ab %25')).toEqual({
      name: 'error',
      props: { file: 'Dockerfile', line: '3', title: 'Dockerfile lint x' },
      message: 'a\nb %',
    });
  });
  it('flags what the action never means to send: set-output, and a mask of a value no input holds', () => {
    const cmds = workflowCommands('::add-mask::s3cret\n::add-mask::planted\n::set-output name=x::y\n::debug::ok\n');
    expect(unintendedCommands(cmds, ['id=s3cret']).map((c) => `${c.name}:${c.message}`)).toEqual(['add-mask:planted', 'set-output:y']);
  });
});

describe('b. sizes of a single-manifest image (one platform, provenance: false)', () => {
  const dir = path.join(FIXTURES, 'oci-layout-single');
  const index = JSON.parse(fixture('oci-layout-single/index.json'));
  it('docker save names the manifest with no platform: it is the one platform built', async () => {
    expect(await platformManifests(index, layoutFetcher(dir))).toEqual([]);
    const ms = await platformManifests(index, layoutFetcher(dir), 'linux/amd64');
    expect(summarize(ms, {})).toEqual({ 'linux/amd64': { compressed: 202 + 2693286, uncompressed: null, layers: 2 } });
  });
  it('a registry root that is a manifest, not an index (captured imagetools --raw)', async () => {
    const root = JSON.parse(fixture('imagetools-manifest-arm64-raw.json'));
    const ms = await platformManifests(
      root,
      async () => {
        throw new Error('a manifest has no children');
      },
      'linux/arm64',
    );
    expect(ms.map((m) => m.platform)).toEqual(['linux/arm64']);
    expect(summarize(ms, {})['linux/arm64'].compressed).toBeGreaterThan(1e6);
  });
  it('a budget never passes on an unknown size', () => {
    expect(unmeasured({}, ['linux/amd64'])).toEqual(['linux/amd64']);
    expect(unmeasured(undefined, ['linux/amd64', 'linux/arm64'])).toEqual(['linux/amd64', 'linux/arm64']);
    expect(unmeasured({ 'linux/amd64': { compressed: 1, uncompressed: null, layers: 1 } }, ['linux/amd64'])).toEqual([]);
    expect(unmeasuredMessage(['linux/amd64'])).toBe(
      'max-image-size is set, but the size of linux/amd64 could not be measured, so nothing was pushed',
    );
  });
});

describe('d. tagging a staged image keeps its digest (trust, round 2, item 5)', () => {
  it('the argv that copies to other repositories asks for a carbon copy when buildx knows --prefer-index, and a dry run first', () => {
    expect(tagArgv('r/a@sha256:aa', ['q/b:1', 'q/b:latest'], true, true)).toEqual([
      'imagetools',
      'create',
      '--prefer-index=false',
      '--dry-run',
      '--tag',
      'q/b:1',
      '--tag',
      'q/b:latest',
      'r/a@sha256:aa',
    ]);
    expect(tagArgv('r/a@sha256:aa', ['q/b:1'], false)).toEqual(['imagetools', 'create', '--tag', 'q/b:1', 'r/a@sha256:aa']);
  });
  it('buildx 0.13.1 wraps a single manifest in a new index (captured dry run): the digest it would push is not the tested one', () => {
    // `imagetools create --dry-run --tag localhost:5000/fixture/copy:1 localhost:5000/library/golang@sha256:f358…`;
    // the real create then pushed sha256:40ef…, the digest of exactly these bytes.
    const dry = fixture('imagetools-create-dryrun-rewrap.txt');
    expect(dryRunDigest(dry)).toBe('sha256:40ef619913506dda612b04d7b56ac6473efe2bba6e83e71f83a10e613fb8e287');
    expect(JSON.parse(dry).manifests[0].digest).toBe('sha256:f358851a30789287ff7239344c82c884612f6293e04d76f0aabb22bbdfad377f');
  });
});

describe('s. the buildx download is checked against the release checksums', () => {
  const sums = [
    'a'.repeat(64) + '  buildx-v0.19.3.darwin-arm64',
    'B'.repeat(64) + ' *buildx-v0.19.3.linux-amd64',
    'c'.repeat(64) + '  buildx-v0.19.3.linux-amd64.sbom.json',
  ].join('\n');
  it('the pinned release is checked against the sha256 embedded in the action, any other version against its checksums.txt (trust, round 2, item 9)', () => {
    const base = 'https://github.com/docker/buildx/releases/download';
    expect(buildxRelease(base, '0.19.3')).toEqual({
      what: 'buildx',
      url: `${base}/v0.19.3/buildx-v0.19.3.linux-${process.arch === 'arm64' ? 'arm64' : 'amd64'}`,
      pinned:
        process.arch === 'arm64'
          ? '138b587399b27bb61945a36d67866177b85dea1155101a2be63c7ab715f18a2e'
          : '32ed111e941e385c2fb8261eba06a4056915718fd606f8278834ac1931d261a2',
      sumsUrl: `${base}/v0.19.3/checksums.txt`,
    });
    expect(buildxRelease(base, '0.20.0').pinned).toBeUndefined();
  });
  it('a tool-cache hit that is not the pinned release is refused before it runs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-tc-'));
    const planted = path.join(dir, 'buildx');
    fs.writeFileSync(planted, '#!/bin/sh\necho planted\n');
    const release = buildxRelease('https://github.com/docker/buildx/releases/download', '0.19.3');
    await expect(verifyCached(planted, release)).rejects.toThrow(
      /The tool cache's buildx at .* has sha256 [0-9a-f]{64}, but the sha256 pinned in the action says [0-9a-f]{64}: it is not that release, and it was not run/,
    );
    await expect(verifyCached(planted, { ...release, pinned: sha256File(planted) })).resolves.toBeUndefined();
  });
  it('finds the line for the file, in either sha256sum format', () => {
    expect(checksumFor(sums, 'buildx-v0.19.3.linux-amd64')).toBe('b'.repeat(64));
    expect(checksumFor(sums, 'buildx-v0.19.3.linux-arm64')).toBeUndefined();
  });
  it.each([
    ['https://github.com/docker/buildx/releases/download', true],
    ['http://127.0.0.1:8080/releases', true],
    ['http://localhost/releases', true],
    ['http://mirror.example.com/releases', false],
    ['ftp://example.com/x', false],
    ['not a url', false],
  ])('%s is %s', (url, ok) => {
    expect(isSecureUrl(url)).toBe(ok);
  });
});

describe('g, h. what the Go cache keys read from the Dockerfile', () => {
  const monorepo = [
    'FROM --platform=$BUILDPLATFORM golang:1.24 AS base',
    'WORKDIR /src',
    'FROM base AS build',
    'COPY svc/go.mod svc/go.sum* ./',
    'COPY ["lib/go.mod", "./lib/"]',
    'RUN --mount=type=cache,target=/go/pkg/mod go mod download',
    'COPY . .',
    'RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build go build ./svc',
    'FROM scratch',
    'COPY --from=build /out/app /app',
  ].join('\n');
  const tree: Record<string, string[]> = { 'svc/': ['go.mod', 'go.sum', 'main.go'], 'lib/': ['go.mod'], '': ['Dockerfile', 'svc', 'lib'] };
  it('the go.mod and go.sum files the Dockerfile copies, globs expanded', () => {
    expect(copiedModuleFiles(monorepo, {}, (d) => tree[d] ?? [])).toEqual(['lib/go.mod', 'svc/go.mod', 'svc/go.sum']);
    expect(copiedModuleFiles('FROM golang:1.24\nCOPY . .\nRUN go build .\n', {}, (d) => tree[d] ?? [])).toEqual([]);
    expect(copiedModuleFiles('FROM golang:1.24\nCOPY --from=x go.mod go.sum ./\n', {}, () => ['go.mod', 'go.sum'])).toEqual([]);
  });
  it('a stage built FROM an earlier stage resolves to the real image', () => {
    expect(stages(monorepo, {}).map((s) => [s.base, s.image])).toEqual([
      ['golang:1.24', 'golang:1.24'],
      ['base', 'golang:1.24'],
      ['scratch', 'scratch'],
    ]);
    expect(findGoCacheMounts(monorepo, {}).mounts.map((m) => m.stageBase)).toEqual(['golang:1.24', 'golang:1.24']);
  });
});

describe('k. a cache ref that does not exist yet is a cold start, not a failure (captured)', () => {
  it('tells a missing ref from a registry that cannot be reached', () => {
    const problems = cacheProblems(vertices('rawjson-cache-missing.txt'));
    expect(problems.map((p) => [p.vertex, p.missing])).toEqual([
      ['importing cache manifest from localhost:5000/nonexistent/cache:x', true],
      ['importing cache manifest from localhost:5999/down:x', false],
    ]);
  });
});
