import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { budgetMessage, budgetViolations } from '../../src/report/budget.js';
import { sizesBesidePush } from '../../src/report/measure.js';
import { layoutFetcher, summarize } from '../../src/report/sizes.js';
import { type OciIndex, platformManifests } from '../../src/registry/oci.js';
import { parseSize } from '../../src/settings/values.js';
import { FIXTURES, fixture } from './helpers.js';

describe('max-image-size', () => {
  it.each([
    ['20MB', 20_000_000],
    ['20MiB', 20 * 1024 * 1024],
    ['1.5GB', 1_500_000_000],
    ['500kB', 500_000],
    ['500KiB', 512_000],
    ['2048', 2048],
    ['1 mb', 1_000_000],
  ])('%s is %d bytes', (raw, want) => {
    expect(parseSize(raw)).toBe(want);
  });

  it('finds the platforms over budget on the real example image, with their largest layers', async () => {
    const root = JSON.parse(fixture('oci-layout-hello/index.json')) as OciIndex;
    const manifests = await platformManifests(root, layoutFetcher(path.join(FIXTURES, 'oci-layout-hello')));
    const sizes = summarize(manifests, {});
    expect(budgetViolations(sizes, manifests, 3_000_000)).toEqual([]);
    const over = budgetViolations(sizes, manifests, 2_600_000);
    expect(over.map((v) => [v.platform, v.compressed])).toEqual([['linux/amd64', 2693481]]);
    expect(over[0].largest.map((l) => l.size)).toEqual([2693279, 202]);
    const msg = budgetMessage(over, 2_600_000);
    expect(msg).toBe(
      'Image over max-image-size, nothing was pushed: linux/amd64 is 2.69 MB (2693481 bytes) compressed, over the budget of 2.60 MB (2600000 bytes); largest layers: 69a421c67b55 2.69 MB, 5d0154cab8c1 202 B',
    );
  });
});

describe('when the sizes are read beside the push', () => {
  const engine = { output: { kind: 'engine' as const } };
  it.each([
    ['no budget, docker push of the tags', { push: true, pushByDigest: false }, engine, true],
    ['a budget: the sizes gate the push', { push: true, pushByDigest: false, maxImageSize: 1e6 }, engine, false],
    ['no push: nothing to read beside', { push: false, pushByDigest: false }, engine, false],
    [
      'push by digest from the engine: its local tag is removed at the end',
      { push: true, pushByDigest: true },
      { ...engine, byDigest: 'r/a' },
      false,
    ],
    ['tags put on a staged image', { push: true, pushByDigest: false }, { output: { kind: 'stage' as const } }, true],
    ['staged by digest: nothing is pushed then', { push: true, pushByDigest: true }, { output: { kind: 'stage' as const } }, false],
    ['pushed by the build itself', { push: true, pushByDigest: false }, { output: { kind: 'registry' as const } }, false],
  ])('%s', (_n, s, build, beside) => {
    expect(sizesBesidePush(s, build)).toBe(beside);
  });
});
