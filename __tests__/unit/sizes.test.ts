import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from 'tar';
import { describe, expect, it } from 'vitest';
import { applyLayer, layerEntries, type Node, treeBytes, unpackedSizeOf } from '../../src/report/unpacked.js';
import {
  headlinePlatform,
  largestLayers,
  layoutFetcher,
  manifestsFromTar,
  parseContainerSize,
  scanSavedImage,
  sizeMemoFrom,
  sizesFromMemo,
  summarize,
  unpackedSizes,
} from '../../src/report/sizes.js';
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

describe('scanSavedImage: docker save read in one pass', () => {
  it('keeps the JSON blobs, parses the layers as they go by (a big one and the small ones alike), and writes nothing', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-scan-'));
    const layout = path.join(work, 'layout');
    fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
    const put = (bytes: Buffer) => {
      const hex = crypto.createHash('sha256').update(bytes).digest('hex');
      fs.writeFileSync(path.join(layout, 'blobs', 'sha256', hex), bytes);
      return { digest: `sha256:${hex}`, size: bytes.length };
    };
    // The captured layers (fixtures/layers), and one over the 4 MiB a JSON blob may have: a tar of one file.
    const l1 = put(fs.readFileSync(path.join(FIXTURES, 'layers', 'whiteouts-1.tar.gz')));
    const l2 = put(fs.readFileSync(path.join(FIXTURES, 'layers', 'whiteouts-2.tar.gz')));
    const bigDir = path.join(work, 'big');
    fs.mkdirSync(path.join(bigDir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(bigDir, 'data', 'blob'), Buffer.alloc(5 << 20, 1));
    await create({ file: path.join(work, 'big.tar'), cwd: bigDir }, ['data/blob']);
    const l3 = put(fs.readFileSync(path.join(work, 'big.tar')));
    const config = put(Buffer.from('{"architecture":"amd64","os":"linux"}'));
    const layer = (l: { digest: string; size: number }) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l });
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [layer(l1), layer(l2), { ...layer(l3), mediaType: 'application/vnd.oci.image.layer.v1.tar' }],
        }),
      ),
    );
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' } },
      ],
    };
    fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
    const tarball = path.join(work, 'image.tar');
    await create({ file: tarball, cwd: layout }, ['index.json', 'blobs']);

    const saved = await scanSavedImage(tarball);
    expect(saved.index).toEqual(index);
    expect([...saved.blobs.keys()].sort()).toEqual([l1.digest, l2.digest, config.digest, manifest.digest].sort());
    expect([...saved.layers.keys()], 'only the big layer is parsed on the way').toEqual([l3.digest]);
    expect((await saved.layers.get(l3.digest))!.map((e) => [e.path, e.size])).toEqual([['data/blob', 5 << 20]]);
    expect(fs.readdirSync(work).sort()).toEqual(['big', 'big.tar', 'image.tar', 'layout']);
    // The small layers from their kept bytes, the big one from the pass: the second layer's whiteouts
    // leave keep/hard (4), keep/soft (12) and opaque/e (9), as in the file-based test below.
    const manifests = await platformManifests(saved.index, async (d) => JSON.parse(saved.blobs.get(d)!.toString('utf8')) as OciManifest);
    expect(await unpackedSizes(saved, manifests)).toEqual({ 'linux/amd64': 4 + 12 + 9 + (5 << 20) });
    fs.rmSync(work, { recursive: true, force: true });
  });
});

describe('sizes recorded by layers (the memo in the fingerprint marker)', () => {
  // The manifests docker save wrote for the example (captured).
  const manifestsAt = () =>
    platformManifests(
      JSON.parse(fixture('oci-layout-hello/index.json')) as OciIndex,
      layoutFetcher(path.join(FIXTURES, 'oci-layout-hello')),
    );

  it('a memo of measured sizes gives the same sizes back for the same layers, and nothing for others', async () => {
    const pms = await manifestsAt();
    const measured = summarize(pms, { 'linux/amd64': 6537216, 'linux/arm64': 6291456 });
    const memo = sizeMemoFrom(pms, measured);
    expect(memo).toEqual([
      { layers: pms[0].manifest.layers.map((l) => l.digest), unpacked: 6537216 },
      { layers: pms[1].manifest.layers.map((l) => l.digest), unpacked: 6291456 },
    ]);
    expect(sizesFromMemo(pms, memo)).toEqual(measured);
    // One layer of one platform is another (a code change): the memo says nothing for that image.
    const changed = structuredClone(pms);
    changed[1].manifest.layers[1] = { ...changed[1].manifest.layers[1], digest: `sha256:${'e'.repeat(64)}` };
    expect(sizesFromMemo(changed, memo)).toBeUndefined();
    // The same layers in another order are other content.
    const swapped = structuredClone(pms);
    swapped[0].manifest.layers.reverse();
    expect(sizesFromMemo(swapped, memo)).toBeUndefined();
    expect(sizesFromMemo([], memo)).toBeUndefined();
  });

  it('a platform whose unpacked size was not known is left out of the memo, so an image with it is read again', async () => {
    const pms = await manifestsAt();
    const memo = sizeMemoFrom(pms, summarize(pms, { 'linux/amd64': 6537216 }));
    expect(memo).toHaveLength(1);
    expect(sizesFromMemo(pms, memo)).toBeUndefined();
    expect(sizesFromMemo([pms[0]], memo)).toEqual({ 'linux/amd64': { compressed: 202 + 2693279, uncompressed: 6537216, layers: 2 } });
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
  const unpackedSize = async (files: string[]) => unpackedSizeOf(await Promise.all(files.map((f) => layerEntries(f))));
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
