// The cache trust model end to end (trust, round 2, item 3): a run that is not the default branch's own
// (a tag push, a "/build" comment on a pull request, a push to a branch named `main-`) writes no cache tag
// that the default branch reads. Go trusts an extracted module and a GOCACHE entry without re-hashing, so
// any such tag would reach a release binary.
import { describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import type { EventSpec } from '../../scripts/run-action.d.mts';
import { engineUp, exampleWorkspace, registryTags, uniqueRepo } from './engine.js';

/** The tags the default branch (main) reads: every cache tag written for scope `main`. */
const readByMain = (tags: string[]) => tags.filter((t) => /-main(-fp)?$/.test(t));

describe.runIf(engineUp)('runs outside the default branch write nothing it reads (real engine and registry)', () => {
  it.each<[string, EventSpec, RegExp]>([
    ['a tag push', { kind: 'tag', tag: 'v9.9.9' }, /-tag-v9\.9\.9(-fp)?$/],
    ['an issue_comment on a pull request', { kind: 'issue_comment', number: 41 }, /-pr-41(-fp)?$/],
    ['a push to branch main-', { kind: 'push', branch: 'main-' }, /-main\.\.[0-9a-f]{8}(-fp)?$/],
  ])('%s', async (_n, event, own) => {
    const cacheRef = uniqueRepo('trust-cache');
    const r = await runAction(
      { tags: `${uniqueRepo('trust')}:1`, platforms: 'linux/amd64', 'cache-ref': cacheRef, 'smoke-test': 'false' },
      { workspace: exampleWorkspace(), event },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.post.exitCode).toBe(0);
    const tags = await registryTags(cacheRef);
    // It wrote its own scope (the layer cache at least, from the post step)...
    expect(tags.filter((t) => own.test(t)).length, tags.join(', ')).toBeGreaterThan(0);
    // ...and nothing the default branch reads.
    expect(readByMain(tags)).toEqual([]);
  });

  it('a workflow_run writes no cache at all unless save-on: any-event', async () => {
    const cacheRef = uniqueRepo('trust-cache');
    const r = await runAction(
      { tags: `${uniqueRepo('trust')}:1`, platforms: 'linux/amd64', 'cache-ref': cacheRef, 'smoke-test': 'false' },
      { workspace: exampleWorkspace(), event: { kind: 'workflow_run' } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(await registryTags(cacheRef)).toEqual([]);
    expect(r.log + r.post.log).toMatch(
      /a run started by workflow_run is outside the cache trust model and writes no cache unless save-on: any-event/,
    );
  });
});
