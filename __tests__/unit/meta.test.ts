import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { branchTag, defaultTags, mergeLabels, ociLabels, tagSlug } from '../../src/imagebuild/tags.js';
import { workflowContext } from '../../src/context.js';
import { FIXTURES } from './helpers.js';

const contexts = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'events', 'contexts.json'), 'utf8')) as Record<
  string,
  { payload: string; env: Record<string, string> }
>;
const ctx = (name: string) => {
  const c = contexts[name];
  return workflowContext({ ...c.env, GITHUB_EVENT_PATH: path.join(FIXTURES, 'events', c.payload) });
};
const image = 'ghcr.io/codertocat/hello-world';

describe('default tags on recorded event contexts', () => {
  it.each([
    ['branch push', [], ['master', 'sha-6113728'], 'master'],
    ['pull request', [], ['pr-2', 'sha-ec26c3e'], 'pr-2'],
    ['tag v1.2.3', ['v1.0.0', 'v1.2.2', 'v2.0.0-rc.1'], ['1.2.3', '1.2', '1', 'latest', 'sha-6113728'], '1.2.3'],
    // A backport: 1.2 moves, but 1 and latest stay with 1.3.0.
    ['tag v1.2.3', ['v1.2.3', 'v1.3.0'], ['1.2.3', '1.2', 'sha-6113728'], '1.2.3'],
    // A patch of an old line: 1.2.3 after 1.2.4 moves nothing but its own version.
    ['tag v1.2.3', ['v1.2.4', '1.3.0', 'latest', 'sha-1234567'], ['1.2.3', 'sha-6113728'], '1.2.3'],
    // A new major's first release does not hold back the old major's line.
    ['tag v1.2.3', ['v2.0.0'], ['1.2.3', '1.2', '1', 'sha-6113728'], '1.2.3'],
    ['release 0.0.1', [], ['0.0.1', '0.0', 'latest', 'sha-6113728'], '0.0.1'],
  ])('%s (known tags %j)', (name, known, want, version) => {
    const plan = defaultTags(image, ctx(name), known);
    expect(plan.tags).toEqual(want.map((t) => `${image}:${t}`));
    expect(plan.version).toBe(version);
  });

  it('a pre-release gets its full version only; other tags and branches are slugged', () => {
    const c = ctx('tag v1.2.3');
    expect(defaultTags(image, { ...c, ref: 'refs/tags/v2.0.0-rc.1' }, []).tags).toEqual([`${image}:2.0.0-rc.1`, `${image}:sha-6113728`]);
    expect(defaultTags(image, { ...c, ref: 'refs/tags/nightly' }, []).tags[0]).toBe(`${image}:nightly`);
    expect(defaultTags(image, { ...c, ref: 'refs/heads/feature/Login' }, []).tags[0]).toBe(`${image}:feature-login`);
    expect(tagSlug('-.Weird Name!')).toBe('weird-name');
    expect(tagSlug('x'.repeat(200))).toMatch(/^x{119}-[0-9a-f]{8}$/);
  });

  it.each([
    ['latest', 'branch-latest'],
    ['1.2', 'branch-1.2'],
    ['1.2.3', 'branch-1.2.3'],
    ['v1.2.3', 'branch-v1.2.3'],
    ['V2', 'branch-v2'],
    ['sha-6113728', 'branch-sha-6113728'],
    ['pr-7', 'branch-pr-7'],
    ['branch-x', 'branch-branch-x'],
    ['release/1.2', 'release-1.2'],
    ['main', 'main'],
    ['v1-fix', 'branch-v1-fix'],
  ])(
    'a push to branch %s is tagged %s: no branch overwrites a release, commit or pull request tag (trust, round 2, item 10)',
    (branch, want) => {
      const c = ctx('tag v1.2.3');
      expect(defaultTags(image, { ...c, ref: `refs/heads/${branch}` }, []).tags[0]).toBe(`${image}:${want}`);
      expect(branchTag(branch)).toBe(want);
    },
  );
});

describe('OCI labels', () => {
  it('come from the payload and the environment; user labels override them', () => {
    const created = new Date('2026-11-23T10:00:00Z');
    const labels = ociLabels(ctx('tag v1.2.3'), '1.2.3', created);
    expect(labels).toEqual({
      'org.opencontainers.image.created': '2026-11-23T10:00:00.000Z',
      'org.opencontainers.image.title': 'Hello-World',
      'org.opencontainers.image.url': 'https://github.com/Codertocat/Hello-World',
      'org.opencontainers.image.source': 'https://github.com/Codertocat/Hello-World',
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.revision': '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    });
    const merged = mergeLabels(labels, ['org.opencontainers.image.title=Greeter', 'team=core']);
    expect(merged).toContain('org.opencontainers.image.title=Greeter');
    expect(merged).toContain('team=core');
    expect(merged.filter((l) => l.startsWith('org.opencontainers.image.title='))).toHaveLength(1);
  });
});
