// The cleanup's choices, on the tags and manifests of real runs (fixtures/cleanup/cache-tags.json, recorded by
// scripts/capture-cache-tags.mjs: the example built for main, a fork's pull request #7 and feature/login).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventOf } from '../../scripts/runner-events.mjs';
import { ended, refOfScope, scopeName, workflowContext } from '../../src/context.js';
import { isCacheManifest, parseCacheTag, tagRecord, type TagRecord } from '../../src/cleanup/cachetags.js';
import { selectTags, untaggedCandidates } from '../../src/cleanup/select.js';
import { backendFor, summaryMarkdown } from '../../src/cleanup/run.js';
import { nextPage, packageOf } from '../../src/cleanup/packages.js';
import { parseCleanup } from '../../src/settings/cleanup.js';
import type { OciManifest } from '../../src/registry/oci.js';
import { FIXTURES, runnerInputs } from './helpers.js';

interface Captured {
  repository: string;
  prefix: string;
  githubRepository: string;
  tags: { tag: string; digest: string; manifest: OciManifest }[];
}
const captured = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'cleanup', 'cache-tags.json'), 'utf8')) as Captured;
const FEATURE = scopeName('feature/login');

/** The records readTags makes: layer caches by digest only (their record is the -fp beside them). */
function records(c: Captured = captured): TagRecord[] {
  return c.tags.map((t) => {
    const parsed = parseCacheTag(c.prefix, t.tag);
    if (!parsed) throw new Error(`${t.tag} does not parse`);
    return tagRecord(parsed, t.digest, parsed.kind === 'layer' ? undefined : t.manifest);
  });
}
const newest = Math.max(...records().flatMap((r) => (r.created ? [r.created.getTime()] : [])));
const HOUR = 3_600_000;
const rules = { scopes: [] as string[], now: new Date(newest + 2 * HOUR), keepScopes: ['main'], repository: 'acme/hello' };

describe('cache tags read back', () => {
  it('every tag a real run wrote parses to its kind and scope', () => {
    const got = records().map((r) => [r.tag.slice(captured.prefix.length + 1), r.kind, r.scope]);
    expect(got).toEqual([
      ['gobuild-2e30661bd351124b-main', 'gobuild', 'main'],
      ['gobuild-2e30661bd351124b-main-stats', 'stats', 'main'],
      ['gomod-216f15a4-main', 'gomod', 'main'],
      [`linux-amd64_linux-arm64-216f15a4-${FEATURE}`, 'layer', FEATURE],
      [`linux-amd64_linux-arm64-216f15a4-${FEATURE}-fp`, 'fingerprint', FEATURE],
      ['linux-amd64_linux-arm64-216f15a4-main', 'layer', 'main'],
      ['linux-amd64_linux-arm64-216f15a4-main-fp', 'fingerprint', 'main'],
      ['linux-amd64_linux-arm64-216f15a4-pr-7', 'layer', 'pr-7'],
      ['linux-amd64_linux-arm64-216f15a4-pr-7-fp', 'fingerprint', 'pr-7'],
    ]);
    // Every record the action wrote itself says who and when; BuildKit's layer caches do not.
    for (const r of records()) expect(r.repository === 'acme/hello', r.tag).toBe(r.kind !== 'layer');
  });

  it.each([
    ['buildcache-gomod-0123456789abcdef-tag-v1.2.3', 'gomod', 'tag-v1.2.3'],
    ['buildcache-gobuild-0123456789abcdef-event-workflow_run-stats', 'stats', 'event-workflow_run'],
    ['buildcache-linux-arm-v7-1a2b3c4d-deadbeef-x', 'layer', 'deadbeef-x'],
    ['buildcache-p0123456789ab-1a2b3c4d-pr-12-fp', 'fingerprint', 'pr-12'],
  ])('%s is %s of %s', (tag, kind, scope) => {
    expect(parseCacheTag('buildcache', tag)).toMatchObject({ kind, scope });
  });

  it.each([
    'latest',
    'buildcache',
    'sha256-0123',
    'other-gomod-0123456789abcdef-main',
    'buildcache-gomod-xyz-main',
    'buildcache-gomod-216f15a4-main-stats',
  ])('%s is not a cache tag of buildcache, and is never touched', (tag) => expect(parseCacheTag('buildcache', tag)).toBeUndefined());

  it('no scope ends like a tag beside a cache, so a branch main-fp cannot write the fingerprint tag of main', () => {
    for (const name of ['main-fp', 'x-stats']) {
      expect(scopeName(name)).toMatch(/\.\.[0-9a-f]{8}$/);
      expect(scopeName(name, false)).toMatch(/\.\.[0-9a-f]{8}$/);
    }
    expect(scopeName('main-fpx')).toBe('main-fpx');
  });

  it('tells the cache manifests from an image platform manifest', () => {
    for (const t of captured.tags) expect(isCacheManifest(t.manifest), t.tag).toBe(true);
    const image = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'imagetools-manifest-amd64-raw.json'), 'utf8')) as OciManifest;
    expect(isCacheManifest(image)).toBe(false);
  });
});

describe('which scopes go', () => {
  const scopeTags = (scope: string) =>
    records()
      .filter((r) => r.scope === scope)
      .map((r) => r.tag);

  it('a closed pull request: its scope, and nothing else', () => {
    const s = selectTags(records(), { ...rules, scopes: ['pr-7'] });
    expect(s.delete.map((t) => t.tag)).toEqual(scopeTags('pr-7'));
    expect(s.scopes).toEqual([{ scope: 'pr-7', why: 'asked for' }]);
    expect(s.kept).toEqual([]);
    expect(s.shared.size).toBe(0);
  });

  it('the age rule: scopes last written longer ago than the limit, never the default branch', () => {
    const s = selectTags(records(), { ...rules, olderThanMs: HOUR });
    expect(s.scopes.map((x) => x.scope).sort()).toEqual([FEATURE, 'pr-7'].sort());
    expect(s.scopes[0].why).toBe('last written 2 hour(s) ago');
    expect(s.delete.map((t) => t.tag).sort()).toEqual([...scopeTags('pr-7'), ...scopeTags(FEATURE)].sort());
    expect(selectTags(records(), { ...rules, olderThanMs: 3 * HOUR }).delete).toEqual([]);
    expect(selectTags(records(), { ...rules, keepScopes: [], olderThanMs: HOUR }).scopes.map((x) => x.scope)).toContain('main');
  });

  it("another repository's tags stay, even in a scope asked for (several repositories, one cache repository)", () => {
    const s = selectTags(records(), { ...rules, scopes: ['pr-7'], repository: 'acme/other', olderThanMs: HOUR });
    expect(s.delete).toEqual([]);
    expect(s.kept.map((k) => k.why)).toEqual(['acme/hello wrote it', 'acme/hello wrote it']);
  });

  it('tags with no record: deleted when their scope is named, left by the age rule', () => {
    const bare = records().map((r): TagRecord => ({ ...r, created: undefined, repository: undefined }));
    expect(selectTags(bare, { ...rules, scopes: ['pr-7'] }).delete.map((t) => t.tag)).toEqual(scopeTags('pr-7'));
    const aged = selectTags(bare, { ...rules, olderThanMs: 0 });
    expect(aged.delete).toEqual([]);
  });

  it('a manifest a kept tag also names is reported as shared', () => {
    const main = records().find((r) => r.tag.endsWith('-main-fp'))!;
    const twin = { ...records().find((r) => r.tag.endsWith('-pr-7-fp'))!, digest: main.digest };
    const rest = records().filter((r) => !r.tag.endsWith('-pr-7-fp'));
    const s = selectTags([...rest, twin], { ...rules, scopes: ['pr-7'] });
    expect(s.shared.get(main.digest)).toBe(main.tag);
  });

  it('untagged versions: only those older than the grace are candidates', () => {
    const now = new Date('2026-12-05T12:00:00Z');
    const v = (id: number, tags: string[], hoursAgo: number) => ({
      id,
      digest: `sha256:${id}`,
      tags,
      created: new Date(now.getTime() - hoursAgo * HOUR),
    });
    const versions = [v(1, [], 30), v(2, [], 2), v(3, ['buildcache-x'], 30), v(4, [], 48)];
    expect(untaggedCandidates(versions, now, 24 * HOUR).map((x) => x.id)).toEqual([1, 4]);
  });
});

describe('the scope an event ended', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-ev-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ctx = (spec: Parameters<typeof eventOf>[0]) => {
    const { payload, env } = eventOf(spec);
    const file = path.join(dir, 'event.json');
    fs.writeFileSync(file, JSON.stringify(payload));
    return workflowContext({ ...env, GITHUB_EVENT_PATH: file });
  };
  it.each([
    [{ kind: 'pull_request_target', action: 'closed', number: 7, fork: true } as const, 'pr-7'],
    [{ kind: 'pull_request', action: 'closed', number: 12 } as const, 'pr-12'],
    [{ kind: 'pull_request', number: 12 } as const, undefined],
    [{ kind: 'delete', ref: 'feature/login', refType: 'branch' } as const, FEATURE],
    [{ kind: 'delete', ref: 'v1.2.3', refType: 'tag' } as const, 'tag-v1.2.3'],
    [{ kind: 'schedule' } as const, undefined],
  ])('%j → %s', (spec, scope) => expect(ended(ctx(spec))?.scope).toBe(scope));
  // GitHub's cache service keys an entry by the saving run's GITHUB_REF: refs/pull/<n>/merge for a pull request.
  it.each([
    [{ kind: 'pull_request_target', action: 'closed', number: 7, fork: true } as const, 'refs/pull/7/merge'],
    [{ kind: 'delete', ref: 'feature/login', refType: 'branch' } as const, 'refs/heads/feature/login'],
    [{ kind: 'delete', ref: 'v1.2.3', refType: 'tag' } as const, 'refs/tags/v1.2.3'],
    [{ kind: 'push' } as const, undefined],
  ])('%j ended the ref %s', (spec, ref) => expect(ended(ctx(spec))?.ref).toBe(ref));
  it.each([
    ['pr-7', 'refs/pull/7/merge'],
    ['main', 'refs/heads/main'],
    ['release-1.2', 'refs/heads/release-1.2'],
    ['tag-v1.2.3', 'refs/tags/v1.2.3'],
    [FEATURE, undefined],
    ['event-workflow_run', undefined],
  ])('the scope %s was written by runs of %s', (scope, ref) => expect(refOfScope(scope)).toBe(ref));
});

describe('cleanup settings', () => {
  const env = { GITHUB_REPOSITORY: 'acme/hello' };
  const parse = (given: Record<string, string>) => parseCleanup(runnerInputs({ 'cache-cleanup': 'true', ...given }), env, () => undefined);

  it('cache-cleanup: false (the default) builds', () => {
    expect(parseCleanup(runnerInputs({}), env, () => undefined)).toBeUndefined();
  });
  it.each([
    [{}, /Input "cache-ref" is invalid: "" is empty, and cache-cleanup: true deletes from it\. Accepted: the cache-ref the build jobs use/],
    [
      { 'cache-ref': 'r/c', 'cache-cleanup-scopes': 'pr-7,Feature/X' },
      /Input "cache-cleanup-scopes" is invalid: "Feature\/X" is not a cache scope/,
    ],
    [
      { 'cache-ref': 'r/c', 'cache-cleanup-older-than': '2 weeks' },
      /Input "cache-cleanup-older-than" is invalid: "2 weeks" is not a duration/,
    ],
    [
      { 'cache-ref': 'r/c', 'cache-cleanup-api': 'ghcr' },
      /Input "cache-cleanup-api" is invalid: "ghcr" is not a known value\. Accepted: auto, github-packages, registry/,
    ],
  ])('%j is refused, naming the input', (given, msg) => expect(() => parse(given)).toThrow(msg));
  it('durations and the off switch', () => {
    expect(parse({ 'cache-ref': 'r/c', 'cache-cleanup-older-than': '36h' })?.olderThanMs).toBe(36 * HOUR);
    expect(parse({ 'cache-ref': 'r/c', 'cache-cleanup-older-than': 'off' })?.olderThanMs).toBeUndefined();
    expect(parse({ 'cache-ref': 'r/c', 'cache-cleanup-older-than': '0' })?.olderThanMs).toBeUndefined();
    expect(parse({ 'cache-ref': 'r/c', 'cache-cleanup-scopes': 'pr-7\ntag-v1.2.3' })?.scopes).toEqual(['pr-7', 'tag-v1.2.3']);
  });
  it('go-cache-backend: gha adds the actions/cache entries: the named scopes refs, or the ended one exactly', () => {
    expect(parse({ 'cache-ref': 'r/c' })?.gha).toBeUndefined();
    expect(parse({ 'cache-ref': 'r/c', 'go-cache-backend': 'gha', 'cache-cleanup-scopes': `pr-7,${FEATURE},tag-v1.2.3` })?.gha).toEqual({
      refs: [
        { scope: 'pr-7', ref: 'refs/pull/7/merge' },
        { scope: 'tag-v1.2.3', ref: 'refs/tags/v1.2.3' },
      ],
      unmapped: [FEATURE],
    });
    // No event ended a scope here, and no scope was named: nothing to delete.
    expect(parse({ 'cache-ref': 'r/c', 'go-cache-backend': 'gha' })?.gha).toEqual({ refs: [], unmapped: [] });
    expect(() => parse({ 'cache-ref': 'r/c', 'go-cache-backend': 'actions' })).toThrow(
      /Input "go-cache-backend" is invalid: "actions" is not a known value\. Accepted: registry, gha/,
    );
  });
  it.each([
    ['ghcr.io/acme/hello-cache', 'https://github.com', 'auto', 'github-packages'],
    ['containers.ghe.example.com/acme/hello-cache', 'https://ghe.example.com', 'auto', 'github-packages'],
    ['localhost:5000/acme/hello-cache', 'https://github.com', 'auto', 'registry'],
    ['registry.example.com/acme/hello-cache', 'https://github.com', 'github-packages', 'github-packages'],
  ])('%s on %s with %s deletes through %s', (repository, serverUrl, api, backend) => {
    expect(backendFor({ api: api as 'auto', cacheRef: { repository, tag: 'buildcache' }, workflow: { serverUrl } as never })).toBe(backend);
  });
  it('the Packages API names: owner and package, and the next page', () => {
    expect(packageOf('acme/hello-cache/sub')).toEqual({ owner: 'acme', name: 'hello-cache/sub' });
    expect(nextPage('<https://api.github.com/orgs/acme/packages/container/x/versions?page=2>; rel="next", <…>; rel="last"')).toBe(
      'https://api.github.com/orgs/acme/packages/container/x/versions?page=2',
    );
    expect(nextPage(null)).toBeUndefined();
  });
});

describe('the job summary of a cleanup', () => {
  it('names each scope, why, and its tags; what stayed', () => {
    const sel = selectTags(records(), { ...rules, scopes: ['pr-7'], olderThanMs: HOUR });
    const md = summaryMarkdown(captured.repository, {
      backend: 'github-packages',
      scopes: sel.scopes,
      deleted: sel.delete.map((t) => t.tag),
      untagged: 3,
      kept: [],
      dryRun: false,
      problems: ['deleting version 1 of acme/x failed: 403 <b>no</b>'],
      ghaEntries: [
        { scope: 'pr-7', ref: 'refs/pull/7/merge', key: 'go-buildx-gomod-9a5dbb213ca13334', bytes: 14_290_000 },
        { scope: 'pr-7', ref: 'refs/pull/7/merge', key: 'go-buildx-gobuild-2e30661bd351124b-43-1', bytes: 72_360_000 },
      ],
    });
    expect(md).toContain('Through the GitHub Packages API: deleted 4 tag(s) and 3 untagged version(s).');
    expect(md).toContain('| `pr-7` | asked for | 2 |');
    expect(md).toContain(`| \`${FEATURE}\` | last written 2 hour(s) ago | 2 |`);
    expect(md).toContain('- deleting version 1 of acme/x failed: 403 &lt;b>no&lt;/b>');
    expect(md).toContain('actions/cache: deleted 2 entr(ies), 86.65 MB, in scope(s) `pr-7`.');
  });
});
