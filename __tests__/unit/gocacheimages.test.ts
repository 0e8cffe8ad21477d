// The saved GOCACHE as registry images: the OCI layout a save build wrote (captured from the real
// engine, its 37 MB layer left out) stacked on an image read from the real registry (itself a
// full save with layers stacked on it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Image, readLayout, stackLayer } from '../../src/gocache/images.js';
import { sha256 } from '../../src/registry/oci.js';
import { describeSave } from '../../src/gocache/phases.js';
import { formatBytes } from '../../src/settings/values.js';
import { FIXTURES } from './helpers.js';

const layoutDir = path.join(FIXTURES, 'gocache-save-layout');
const registryImage = (): Image => {
  const dir = path.join(FIXTURES, 'gocache-registry-image');
  const manifestBytes = fs.readFileSync(path.join(dir, 'manifest.json'));
  const configBytes = fs.readFileSync(path.join(dir, 'config.json'));
  return { manifest: JSON.parse(manifestBytes.toString()), manifestBytes, config: JSON.parse(configBytes.toString()), configBytes };
};

describe('saved Go cache images', () => {
  it('reads the one image of a save build’s OCI layout', () => {
    const { image, blobPath } = readLayout(layoutDir);
    expect(image.manifest.layers).toHaveLength(1);
    expect(image.manifest.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(image.config.rootfs.diff_ids).toHaveLength(1);
    expect(sha256(image.configBytes)).toBe(image.manifest.config.digest);
    expect(blobPath(image.manifest.layers[0].digest)).toBe(
      path.join(layoutDir, 'blobs', 'sha256', image.manifest.layers[0].digest.slice('sha256:'.length)),
    );
  });

  it('stacks the new layer on the restored image: layers, diff IDs and history in order, a config that matches its digest', () => {
    const base = registryImage();
    expect(base.config.rootfs.diff_ids).toHaveLength(base.manifest.layers.length);
    const top = readLayout(layoutDir).image;
    const stacked = stackLayer(base, top);
    expect(stacked.manifest.layers).toEqual([...base.manifest.layers, ...top.manifest.layers]);
    expect(stacked.config.rootfs).toEqual({ type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, ...top.config.rootfs.diff_ids] });
    expect(stacked.config.history).toEqual([...(base.config.history ?? []), ...(top.config.history ?? [])]);
    expect(stacked.manifest.config).toEqual({
      mediaType: top.manifest.config.mediaType,
      digest: sha256(stacked.configBytes),
      size: stacked.configBytes.length,
    });
    expect(stacked.manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    // The bytes pushed are the objects described.
    expect(JSON.parse(stacked.manifestBytes.toString())).toEqual(stacked.manifest);
    expect(JSON.parse(stacked.configBytes.toString())).toEqual(stacked.config);
    // Everything else in the config (platform, created) is the new image's.
    expect(stacked.config.created).toBe(top.config.created);
  });
});

describe("the post step's line for a save", () => {
  const base = { kind: 'build' as const, refs: ['r:gobuild-k-main'], seconds: 1.04, saved: true };
  it.each([
    [
      'a full save',
      { ...base, total: 326e6, used: 325e6, kept: 325e6, stored: 72e6, uploaded: 72e6, mode: 'full' as const, savedBytes: 325e6 },
      'GOCACHE: saved 325.00 MB (of 326.00 MB; 325.00 MB used or created by this run), 72.00 MB stored in 1.0s to r:gobuild-k-main',
    ],
    [
      'a stacked layer',
      { ...base, total: 326e6, used: 325e6, kept: 325e6, stored: 72.1e6, uploaded: 67_600, mode: 'layered' as const, savedBytes: 326.4e6 },
      'GOCACHE: saved 326.40 MB: the restored copy plus a layer of what this run created (325.00 MB used or created by this run), ' +
        '72.10 MB stored (67.60 kB uploaded) in 1.0s to r:gobuild-k-main',
    ],
    [
      'a failed save',
      { ...base, saved: false, error: 'pushing manifest failed: 500' },
      'GOCACHE: save failed after 1.0s: pushing manifest failed: 500',
    ],
  ])('%s', (_what, report, line) => {
    expect(describeSave(report, formatBytes)).toBe(line);
  });
});
