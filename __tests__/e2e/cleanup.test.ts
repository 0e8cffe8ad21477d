// cache-cleanup: true, end to end with the bundle as a runner runs it: real cache tags written by real builds of the
// example (the default branch, a fork's pull request #7, the branch feature/login), then deleted
// - from a distribution registry that allows deletes, for a closed pull request and by age;
// - from one that refuses deletes: a warning, or with cache-strict a failed step, and nothing gone;
// - through a stand-in of GitHub's Packages API over a third registry: versions, untagged ones, the 403;
// - with go-cache-backend: gha, the scope's actions/cache entries too, through a stand-in of that REST API.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { scopeName } from '../../src/context.js';
import { registryClient } from '../../src/registry/client.js';
import { pushArtifact } from '../../src/registry/referrer.js';
import { buildxExecs, engineUp, registryTags, startRegistry, stopRegistry, uniqueRepo, workspace } from './engine.js';
import { startPackagesStandIn, type StandIn } from './packages-standin.js';
import { type CachesStandIn, startCachesStandIn } from './actions-caches-standin.js';

const FEATURE = scopeName('feature/login');
const ofScope = (tags: string[], scope: string) =>
  tags.filter((t) => t.endsWith(`-${scope}`) || t.endsWith(`-${scope}-fp`) || t.endsWith(`-${scope}-stats`));
interface Result {
  backend: string;
  scopes: { scope: string; why: string }[];
  deleted: string[];
  untagged: number;
  kept: { tag: string; why: string }[];
  problems: string[];
  ghaEntries: { scope: string; ref: string; key: string; bytes: number }[];
}
/** Tags of a repository on any of the test registries. */
const tagsOf = async (repo: string) => (await registryClient(repo, 'pull')).tags();
const resultOf = (r: { outputs: Record<string, string> }) => JSON.parse(r.outputs['cache-cleanup-result']) as Result;
/** Every warning the runner took from the step, one per line. */
const warningsOf = (r: { commands: { name: string; message: string }[] }) =>
  r.commands
    .filter((c) => c.name === 'warning')
    .map((c) => c.message)
    .join('\n');

/** Copies tags (manifest and blobs) between registries, as `crane copy` would. */
async function copyTags(from: string, to: string, tags: string[]): Promise<void> {
  const src = await registryClient(from, 'pull');
  const dst = await registryClient(to);
  for (const tag of tags) {
    const raw = (await src.manifestRaw(tag))!;
    const m = JSON.parse(raw.body.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)])
      if (!(await dst.hasBlob(d))) await dst.putBlob(d, await src.blob(d));
    await dst.putManifest(tag, raw.mediaType, raw.body);
  }
}

describe.runIf(engineUp)('cache-cleanup: true deletes cache scopes (real registries, real cache tags)', () => {
  const source = uniqueRepo('hello-cache');
  let written: string[] = [];
  const ws = workspace('example');
  const noDelete = { port: 5007, dir: `/tmp/gba-registry-cleanup-nodelete-${process.pid}` };
  const packages = { port: 5008, dir: `/tmp/gba-registry-cleanup-packages-${process.pid}` };

  beforeAll(async () => {
    startRegistry(noDelete.port, noDelete.dir, undefined, { deletes: false });
    startRegistry(packages.port, packages.dir);
    for (const event of [
      { kind: 'push' },
      { kind: 'pull_request', number: 7, fork: true },
      { kind: 'push', branch: 'feature/login' },
    ] as const) {
      const r = await runAction({ 'cache-ref': source }, { workspace: ws, event });
      expect(r.exitCode, r.log).toBe(0);
    }
    written = await registryTags(source);
    for (const scope of ['main', 'pr-7', FEATURE])
      expect(ofScope(written, scope).length, `${scope}: ${written.join(' ')}`).toBeGreaterThanOrEqual(2);
  }, 600_000);
  afterAll(() => {
    for (const r of [noDelete, packages]) {
      stopRegistry(r.port, r.dir);
      fs.rmSync(r.dir, { recursive: true, force: true });
    }
  });

  it('a closed pull request (pull_request_target, a fork): its scope goes, the others stay; the post step has nothing to do', async () => {
    const repo = uniqueRepo('closed-pr');
    await copyTags(source, repo, written);
    const dry = await runAction(
      { 'cache-cleanup': 'true', 'cache-ref': repo, 'cache-cleanup-dry-run': 'true' },
      { event: { kind: 'pull_request_target', action: 'closed', number: 7, fork: true } },
    );
    expect(dry.exitCode, dry.log).toBe(0);
    expect(resultOf(dry).deleted.sort()).toEqual(ofScope(written, 'pr-7').sort());
    expect((await registryTags(repo)).sort(), 'a dry run deletes nothing').toEqual([...written].sort());

    const r = await runAction(
      { 'cache-cleanup': 'true', 'cache-ref': repo },
      { event: { kind: 'pull_request_target', action: 'closed', number: 7, fork: true } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.post.exitCode).toBe(0);
    expect(r.log).toContain(`Scope pr-7 (asked for): deletes ${ofScope(written, 'pr-7').length} tag(s)`);
    expect(r.log).not.toContain('Set up Buildx');
    expect(buildxExecs(r.log, 'build')).toEqual([]);
    const left = await registryTags(repo);
    expect(ofScope(left, 'pr-7')).toEqual([]);
    expect(left.sort()).toEqual(written.filter((t) => !ofScope(written, 'pr-7').includes(t)).sort());
    // A manifest the pull request's tag shared with a kept tag (identical layer caches) is still there.
    const src = await registryClient(source, 'pull');
    const dst = await registryClient(repo, 'pull');
    for (const t of left) expect(await dst.manifestDigest(t), t).toBe(await src.manifestDigest(t));
    expect(resultOf(r)).toMatchObject({ backend: 'registry', scopes: [{ scope: 'pr-7', why: 'asked for' }], problems: [] });
    expect(r.summary).toContain(`| \`pr-7\` | asked for | ${ofScope(written, 'pr-7').length} |`);
  }, 300_000);

  it('by age: a schedule deletes the scopes not written for cache-cleanup-older-than, never the default branch', async () => {
    const repo = uniqueRepo('aged');
    await copyTags(source, repo, written);
    const young = await runAction({ 'cache-cleanup': 'true', 'cache-ref': repo }, { event: { kind: 'schedule' } });
    expect(young.exitCode, young.log).toBe(0);
    expect(resultOf(young).deleted, 'nothing is 14 days old').toEqual([]);
    const r = await runAction(
      { 'cache-cleanup': 'true', 'cache-ref': repo, 'cache-cleanup-older-than': '1s' },
      { event: { kind: 'schedule' } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(
      resultOf(r)
        .scopes.map((s) => s.scope)
        .sort(),
    ).toEqual([FEATURE, 'pr-7'].sort());
    expect((await registryTags(repo)).sort()).toEqual(ofScope(written, 'main').sort());
  }, 300_000);

  it('a deleted branch: its scope goes', async () => {
    const repo = uniqueRepo('deleted-branch');
    await copyTags(source, repo, written);
    const r = await runAction(
      { 'cache-cleanup': 'true', 'cache-ref': repo },
      { event: { kind: 'delete', ref: 'feature/login', refType: 'branch' } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(ofScope(await registryTags(repo), FEATURE)).toEqual([]);
    expect(ofScope(await registryTags(repo), 'pr-7').length).toBeGreaterThan(0);
  }, 300_000);

  it('a registry that refuses deletes: a warning that says what to turn on, nothing gone; cache-strict fails the step', async () => {
    const repo = `localhost:${noDelete.port}/acme/hello-cache`;
    await copyTags(source, repo, written);
    const event = { kind: 'pull_request_target', action: 'closed', number: 7, fork: true } as const;
    const r = await runAction({ 'cache-cleanup': 'true', 'cache-ref': repo }, { event });
    expect(r.exitCode, r.log).toBe(0);
    expect(warningsOf(r)).toMatch(
      /The cleanup left part of what it chose: the registry refuses deletes \(405 .*UNSUPPORTED.*\); nothing was deleted\. Turn deletes on \(distribution: storage\.delete\.enabled\)/,
    );
    expect((await tagsOf(repo)).sort()).toEqual([...written].sort());
    const strict = await runAction({ 'cache-cleanup': 'true', 'cache-ref': repo, 'cache-strict': 'true' }, { event });
    expect(strict.exitCode).toBe(1);
    expect(strict.commands.find((c) => c.name === 'error')?.message).toMatch(/refuses deletes .*\(cache-strict: true\)/);
  }, 300_000);

  describe('through the GitHub Packages API (a stand-in over a registry)', () => {
    let api: StandIn;
    const token = 'ghs_packages_write';
    const repo = `localhost:${packages.port}/acme/hello-cache`;
    let untaggedCache = '';
    let untaggedImage = '';
    beforeAll(async () => {
      api = await startPackagesStandIn({ storage: packages.dir, registry: `http://127.0.0.1:${packages.port}`, owner: 'acme', token });
      await copyTags(source, repo, written);
      const client = await registryClient(repo);
      // An overwritten cache artifact (what a rewrite of a -stats tag leaves), and an untagged image manifest
      // (a platform manifest of an image): both a day and more old. Only the first is the cache's.
      const fpTag = written.find((t) => t.endsWith('-main-fp'))!;
      const before = await client.manifestDigest(fpTag);
      await pushArtifact(
        client,
        'application/vnd.go-buildx-action.fingerprint.v1+json',
        Buffer.from('{"fingerprint":"x","cache":"y"}'),
        { 'org.opencontainers.image.created': new Date().toISOString() },
        { tag: fpTag },
      );
      untaggedCache = before!;
      const image = await pushArtifact(client, 'application/vnd.example.not-cache', Buffer.from('x'), {}, {});
      untaggedImage = image.digest;
      const old = new Date(Date.now() - 2 * 86_400_000);
      for (const d of [untaggedCache, untaggedImage]) {
        fs.utimesSync(
          path.join(packages.dir, 'docker/registry/v2/repositories/acme/hello-cache/_manifests/revisions/sha256', d.slice(7), 'link'),
          old,
          old,
        );
      }
    }, 300_000);
    afterAll(async () => api?.close());

    it('without packages: write (403): a warning that names the permission and the Admin role, and nothing gone', async () => {
      const event = { kind: 'pull_request_target', action: 'closed', number: 7, fork: true } as const;
      const r = await runAction(
        { 'cache-cleanup': 'true', 'cache-ref': repo, 'cache-cleanup-api': 'github-packages' },
        { event, env: { GITHUB_API_URL: api.url } },
      );
      expect(r.exitCode, r.log).toBe(0);
      const warned = warningsOf(r);
      expect(warned).toContain('listing the versions of acme/hello-cache failed: 403 Resource not accessible by integration');
      expect(warned).toContain('`permissions: packages: write`');
      expect(warned).toContain('Admin role');
      expect(ofScope(await tagsOf(repo), 'pr-7').length).toBeGreaterThan(0);
    }, 120_000);

    it("with it: the pull request's versions and the cache's old untagged ones go; the image manifest and the rest stay", async () => {
      const event = { kind: 'pull_request_target', action: 'closed', number: 7, fork: true } as const;
      const source_ = await registryClient(source, 'pull');
      const prDigests = new Set(await Promise.all(ofScope(written, 'pr-7').map((t) => source_.manifestDigest(t))));
      const r = await runAction(
        { 'cache-cleanup': 'true', 'cache-ref': repo, 'cache-cleanup-api': 'github-packages', 'github-token': token },
        { event, env: { GITHUB_API_URL: api.url } },
      );
      expect(r.exitCode, r.log).toBe(0);
      const result = resultOf(r);
      expect(result).toMatchObject({ backend: 'github-packages', untagged: 1, problems: [] });
      expect(result.deleted.sort()).toEqual(ofScope(written, 'pr-7').sort());
      expect(ofScope(await tagsOf(repo), 'pr-7')).toEqual([]);
      expect(ofScope(await tagsOf(repo), 'main').length).toBe(ofScope(written, 'main').length);
      expect(ofScope(await tagsOf(repo), FEATURE).length).toBe(ofScope(written, FEATURE).length);
      const client = await registryClient(repo, 'pull');
      expect(await client.manifestDigest(untaggedCache)).toBeUndefined();
      expect(await client.manifestDigest(untaggedImage)).toBe(untaggedImage);
      // The pages were followed, and versions were deleted by id through the organization's path.
      expect(api.calls.some((c) => /GET \/orgs\/acme\/packages\/container\/hello-cache\/versions\?per_page=3&page=2/.test(c))).toBe(true);
      expect(
        api.calls
          .filter((c) => c.startsWith('DELETE '))
          .every((c) => c.startsWith('DELETE /orgs/acme/packages/container/hello-cache/versions/')),
      ).toBe(true);
      expect(api.calls.filter((c) => c.startsWith('DELETE ')).length).toBe(prDigests.size + 1);
    }, 120_000);
  });
  describe("go-cache-backend: gha: the scope's actions/cache entries go too (a stand-in of the REST API)", () => {
    const token = 'ghs_actions_write';
    const event = { kind: 'pull_request_target', action: 'closed', number: 7, fork: true } as const;
    const entries = [
      { ref: 'refs/pull/7/merge', key: 'go-buildx-gomod-9a5dbb213ca13334', size_in_bytes: 14_290_000 },
      { ref: 'refs/pull/7/merge', key: 'go-buildx-gobuild-2e30661bd351124b-41-1', size_in_bytes: 72_360_000 },
      // Another workflow's entry of the same pull request, and the default branch's own: never touched.
      { ref: 'refs/pull/7/merge', key: 'node-modules-linux-5f1c', size_in_bytes: 50_000_000 },
      { ref: 'refs/heads/main', key: 'go-buildx-gomod-9a5dbb213ca13334', size_in_bytes: 14_290_000 },
      { ref: 'refs/heads/main', key: 'go-buildx-gobuild-2e30661bd351124b-40-1', size_in_bytes: 72_000_000 },
    ];
    let api: CachesStandIn | undefined;
    const start = async () => (api = await startCachesStandIn({ repository: 'acme/hello', token, entries }));
    afterEach(async () => {
      await api?.close();
      api = undefined;
    });

    it('a closed pull request: its go-buildx- entries go (a dry run first lists them), the rest stay', async () => {
      const a = await start();
      const repo = uniqueRepo('gha-closed-pr');
      await copyTags(source, repo, written);
      const inputs = { 'cache-cleanup': 'true', 'cache-ref': repo, 'go-cache-backend': 'gha', 'github-token': token };
      const dry = await runAction({ ...inputs, 'cache-cleanup-dry-run': 'true' }, { event, env: { GITHUB_API_URL: a.url } });
      expect(dry.exitCode, dry.log).toBe(0);
      expect(resultOf(dry).ghaEntries.map((e) => e.key)).toEqual(entries.slice(0, 2).map((e) => e.key));
      expect(a.entries(), 'a dry run deletes nothing').toHaveLength(entries.length);
      expect(dry.log).toContain('actions/cache, scope pr-7 (refs/pull/7/merge): would delete 2 entr(ies), 86.65 MB');

      const r = await runAction(inputs, { event, env: { GITHUB_API_URL: a.url } });
      expect(r.exitCode, r.log).toBe(0);
      expect(r.post.exitCode).toBe(0);
      expect(a.entries().map((e) => `${e.ref} ${e.key}`)).toEqual(entries.slice(2).map((e) => `${e.ref} ${e.key}`));
      const result = resultOf(r);
      expect(result.problems).toEqual([]);
      expect(result.ghaEntries).toEqual(
        entries.slice(0, 2).map((e) => ({ scope: 'pr-7', ref: e.ref, key: e.key, bytes: e.size_in_bytes })),
      );
      expect(a.calls.filter((c) => c.startsWith('GET '))).toEqual(
        Array(2).fill('GET /repos/acme/hello/actions/caches?key=go-buildx-&ref=refs%2Fpull%2F7%2Fmerge&per_page=100'),
      );
      expect(r.summary).toContain('actions/cache: deleted 2 entr(ies), 86.65 MB, in scope(s) `pr-7`.');
      // The registry's scope went as without the gha backend.
      expect(ofScope(await registryTags(repo), 'pr-7')).toEqual([]);
    }, 300_000);

    it('without actions: write (403): a warning that names the permission, nothing gone; cache-strict fails the step', async () => {
      const a = await start();
      const repo = uniqueRepo('gha-403');
      await copyTags(source, repo, written);
      const inputs = { 'cache-cleanup': 'true', 'cache-ref': repo, 'go-cache-backend': 'gha', 'github-token': 'ghs_read_only' };
      const r = await runAction(inputs, { event, env: { GITHUB_API_URL: a.url } });
      expect(r.exitCode, r.log).toBe(0);
      const warned = warningsOf(r);
      expect(warned).toContain('actions/cache entries of refs/pull/7/merge: listing the cache entries failed: 403');
      expect(warned).toContain('`permissions: actions: write`');
      expect(a.entries()).toHaveLength(entries.length);
      const strict = await runAction({ ...inputs, 'cache-strict': 'true' }, { event, env: { GITHUB_API_URL: a.url } });
      expect(strict.exitCode).toBe(1);
      expect(strict.post.exitCode).toBe(0);
    }, 300_000);

    it('without go-cache-backend: gha, the cleanup never asks for the entries', async () => {
      const a = await start();
      const repo = uniqueRepo('gha-off');
      await copyTags(source, repo, written);
      const r = await runAction(
        { 'cache-cleanup': 'true', 'cache-ref': repo, 'github-token': token },
        { event, env: { GITHUB_API_URL: a.url } },
      );
      expect(r.exitCode, r.log).toBe(0);
      expect(a.calls).toEqual([]);
      expect(resultOf(r).ghaEntries).toEqual([]);
    }, 300_000);
  });
});
