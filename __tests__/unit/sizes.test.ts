import * as zlib from 'node:zlib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from 'tar';
import { describe, expect, it } from 'vitest';
import { applyLayer, layerEntries, type Node, treeBytes, unpackedSize } from '../../src/report/unpacked.js';
import { headlinePlatform, largestLayers, layoutFetcher, manifestsFromTar, parseContainerSize, summarize } from '../../src/report/sizes.js';
import { compressedSize, type OciIndex, type OciManifest, platformManifests } from '../../src/registry/oci.js';
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

  it('reads the same manifests from the layout as a tarball, unpacking its JSON in one pass and no layer', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-sizes-'));
    const layout = path.join(work, 'layout');
    fs.cpSync(path.join(FIXTURES, 'oci-layout-hello'), layout, { recursive: true });
    // A layer-sized blob beside the captured JSON ones (the fixture leaves its layers out).
    const layer = `blobs/sha256/${'f'.repeat(64)}`;
    fs.writeFileSync(path.join(layout, layer), Buffer.alloc(5 << 20));
    const tarball = path.join(work, 'image.tar');
    await create({ file: tarball, cwd: layout }, fs.readdirSync(layout));
    const out = path.join(work, 'out');
    const pms = await manifestsFromTar(tarball, out);
    const direct = await platformManifests(JSON.parse(fixture('oci-layout-hello/index.json')) as OciIndex, layoutFetcher(layout));
    expect(pms).toEqual(direct);
    expect(pms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(fs.existsSync(path.join(out, layer))).toBe(false);
    fs.rmSync(work, { recursive: true, force: true });
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

// Unpacked sizes from the layers (captured: __tests__/fixtures/layers/README.md says how).
describe('unpacked size from layers', () => {
  const layer = (n: number) => path.join(FIXTURES, 'layers', `whiteouts-${n}.tar.gz`);
  it('reads a real layer: files, a hard link, a symlink', async () => {
    const entries = await layerEntries(layer(1));
    expect(entries.filter((e) => e.type !== 'Directory')).toEqual([
      { path: 'data/gone/b', type: 'File', size: 7 },
      { path: 'data/keep/a', type: 'File', size: 4 },
      { path: 'data/keep/hard', type: 'Link', size: 0, linkpath: 'data/keep/a' },
      { path: 'data/keep/soft', type: 'SymbolicLink', size: '/data/keep/a'.length },
      { path: 'data/opaque/c', type: 'File', size: 6 },
      { path: 'data/opaque/d', type: 'File', size: 5 },
    ]);
    // The hard link shares a's data: counted once.
    expect(await unpackedSize([layer(1)])).toBe(7 + 4 + 12 + 6 + 5);
  });
  it('a zstd layer: read where this Node has zstd, else a rejection the caller falls back from, never a crash', async () => {
    const zst = path.join(FIXTURES, 'layers', 'whiteouts-1.tar.zst');
    if (typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function') {
      expect(await unpackedSize([zst])).toBe(7 + 4 + 12 + 6 + 5);
    } else {
      await expect(layerEntries(zst)).rejects.toThrow(/zstd/i);
      await expect(unpackedSize([zst])).rejects.toThrow(/zstd/i);
    }
  });
  it("applies the second layer's whiteouts; the hard link keeps the data of the name it outlived", async () => {
    // left: keep/hard (a's 4 bytes), keep/soft (12), opaque/e (9)
    expect(await unpackedSize([layer(1), layer(2)])).toBe(4 + 12 + 9);
  });
  it('an opaque directory drops what lower layers put there (OCI image spec)', () => {
    const tree = new Map<string, Node>();
    applyLayer(tree, [
      { path: 'etc/a', type: 'File', size: 10 },
      { path: 'etc/sub/b', type: 'File', size: 20 },
      { path: 'etcetera', type: 'File', size: 1 },
    ]);
    applyLayer(tree, [
      { path: 'etc/.wh..wh..opq', type: 'File', size: 0 },
      { path: 'etc/c', type: 'File', size: 3 },
    ]);
    expect([...tree.keys()].sort()).toEqual(['etc/c', 'etcetera']);
    expect(treeBytes(tree)).toBe(4);
  });
});
