import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compressedSize,
  headlinePlatform,
  largestLayers,
  layoutFetcher,
  type OciIndex,
  type OciManifest,
  parseContainerSize,
  platformManifests,
  summarize,
} from '../../src/report/sizes.js';
import { FIXTURES, fixture } from './helpers.js';

const index = JSON.parse(fixture('imagetools-index-raw.json')) as OciIndex;
const byDigest: Record<string, OciManifest> = {
  [index.manifests[0].digest]: JSON.parse(fixture('imagetools-manifest-amd64-raw.json')),
  [index.manifests[1].digest]: JSON.parse(fixture('imagetools-manifest-arm64-raw.json')),
};

describe('sizes from imagetools --raw output', () => {
  it('walks the index to the two platform manifests and skips attestations', async () => {
    const fetched: string[] = [];
    const pms = await platformManifests(index, async (d) => {
      fetched.push(d);
      return byDigest[d];
    });
    expect(pms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(fetched).toEqual([index.manifests[0].digest, index.manifests[1].digest]);
    // The sums of the captured manifests' layers[].size.
    expect(pms.map((p) => compressedSize(p.manifest))).toEqual([202 + 2693286, 202 + 2486108]); // 2693488 and 2486310, as `curl blob | wc -c` measured
  });

  it('lists the largest layers first', () => {
    const m = byDigest[index.manifests[1].digest];
    expect(largestLayers(m, 3).map((l) => l.size)).toEqual([2486108, 202]);
  });
});

describe('sizes from a docker save OCI layout', () => {
  it('follows the nested index of index.json to both platforms', async () => {
    const dir = path.join(FIXTURES, 'oci-layout-hello');
    const fetch = layoutFetcher(dir);
    const root = JSON.parse(fixture('oci-layout-hello/index.json')) as OciIndex;
    const pms = await platformManifests(root, fetch);
    const sizes = summarize(pms, { 'linux/amd64': 6537216 });
    expect(sizes).toEqual({
      'linux/amd64': { compressed: 202 + 2693279, uncompressed: 6537216, layers: 2 },
      'linux/arm64': { compressed: 202 + 2486108, uncompressed: null, layers: 2 },
    });
  });
});

describe('helpers', () => {
  it('subtracts the container layer from SizeRootFs', () => {
    expect(parseContainerSize('6541312 4096\n')).toBe(6537216);
    expect(parseContainerSize('<no value> <no value>')).toBeNull();
  });
  it('reports the runner platform when built, else the first requested one', () => {
    const s = {
      'linux/arm64': { compressed: 1, uncompressed: null, layers: 1 },
      'linux/amd64': { compressed: 2, uncompressed: null, layers: 1 },
    };
    expect(headlinePlatform(s, ['linux/arm64', 'linux/amd64'], 'linux/amd64')).toBe('linux/amd64');
    expect(headlinePlatform({ 'linux/arm64': s['linux/arm64'] }, ['linux/arm64'], 'linux/amd64')).toBe('linux/arm64');
  });
});
