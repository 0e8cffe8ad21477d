// A gate that fails after BuildKit staged the image by digest (the docker-container
// path, tested end to end in e2e.yml's gates-docker-container job) withdraws it.
// Here, at that boundary, against real distribution registries: one that allows
// deletes, and one that refuses them as many registries do.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registryClient } from '../../src/registry/client.js';
import { withdrawOnFailure, withdrawStaged } from '../../src/publish/withdraw.js';
import { engineUp, startRegistry, stopRegistry, uniqueRepo } from './engine.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes a one-platform index (config, one layer, manifest, index) by digest only, as a staged image is. */
async function stageImage(repository: string): Promise<{ index: string; manifest: string }> {
  const client = await registryClient(repository);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from(`staged ${repository} ${Date.now()}`);
  for (const b of [config, layer]) await client.putBlob(sha(b), b);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
    }),
  );
  await client.putManifest(sha(manifest), 'application/vnd.oci.image.manifest.v1+json', manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha(manifest),
          size: manifest.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    }),
  );
  await client.putManifest(sha(index), 'application/vnd.oci.image.index.v1+json', index);
  return { index: sha(index), manifest: sha(manifest) };
}

function captureStdout(): { text: () => string; restore: () => void } {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  return { text: () => out, restore: () => spy.mockRestore() };
}

describe.runIf(engineUp)('a staged image whose gate failed is withdrawn (real registries)', () => {
  const port = 5006;
  const dir = `/tmp/gba-registry-nodelete-${process.pid}`;
  beforeAll(() => startRegistry(port, dir, undefined, { deletes: false }));
  afterAll(() => {
    stopRegistry(port, dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('where the registry allows deletes: the index and the manifest it lists are gone, and the gate error stands', async () => {
    const repo = uniqueRepo('staged');
    const staged = await stageImage(repo);
    const client = await registryClient(repo);
    expect(await client.manifestDigest(staged.index)).toBe(staged.index);
    const out = captureStdout();
    let thrown: unknown;
    try {
      await withdrawOnFailure({ kind: 'stage', repository: repo }, staged.index, async () => {
        throw new Error('Smoke test failed on linux/amd64');
      });
    } catch (err) {
      thrown = err;
    } finally {
      out.restore();
    }
    expect((thrown as Error).message).toBe('Smoke test failed on linux/amd64');
    expect(out.text()).toContain(`Deleted the staged image ${repo}@${staged.index} (2 manifest(s)), since a gate failed`);
    expect(await client.manifestDigest(staged.index)).toBeUndefined();
    expect(await client.manifestDigest(staged.manifest)).toBeUndefined();
  });

  it('gates that pass leave the staged image alone', async () => {
    const repo = uniqueRepo('staged-ok');
    const staged = await stageImage(repo);
    expect(await withdrawOnFailure({ kind: 'stage', repository: repo }, staged.index, async () => 'passed')).toBe('passed');
    expect(await (await registryClient(repo)).manifestDigest(staged.index)).toBe(staged.index);
  });

  it('where the registry refuses deletes: a warning names the pullable ref and the refusal, and nothing throws', async () => {
    const repo = `localhost:${port}/staged/refused`;
    const staged = await stageImage(repo);
    const out = captureStdout();
    let result: string;
    try {
      result = await withdrawStaged(repo, staged.index);
    } finally {
      out.restore();
    }
    expect(result).toBe('left');
    expect(out.text()).toMatch(
      new RegExp(
        `::warning::The image that failed its gate stays in the registry, untagged but pullable as ${repo}@${staged.index}: the registry refused to delete ${staged.index} \\(405 .*UNSUPPORTED`,
      ),
    );
    expect(await (await registryClient(repo)).manifestDigest(staged.index)).toBe(staged.index);
  });
});
