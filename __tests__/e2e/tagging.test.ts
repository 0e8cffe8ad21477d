// Only the digest that passed every gate is tagged (trust, round 2): against the real engine, registry and
// buildx (0.13.1 here, one of the releases that re-wrap a single manifest).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { PLUGIN } from '../../src/buildx/command.js';
import { tagStaged } from '../../src/publish/push.js';
import { engineUp, exampleWorkspace, registryManifest, registryTags, sh, stagedSingleManifest, uniqueRepo } from './engine.js';

describe.runIf(engineUp)('only the tested digest is tagged (real engine, registry and buildx)', () => {
  it('item 8: another job re-tags the user tag on the shared engine after the build: the tested image is what is pushed', async () => {
    const repo = uniqueRepo('retag');
    // Any other image the engine holds: the golang stand-in engine.sh imported.
    const other = sh('docker', ['image', 'inspect', '--format', '{{.Id}}', 'golang:1.24']).trim();
    const r = await runAction(
      { tags: `${repo}:1`, push: 'true', platforms: 'linux/amd64' },
      {
        workspace: exampleWorkspace(),
        // Right after the build, before the smoke test and the push, as a concurrent job could.
        whenLog: { match: /Built in [\d.]+s/, run: () => execFileSync('docker', ['tag', 'golang:1.24', `${repo}:1`]) },
      },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/Testing go-buildx-run:[0-9a-f]{32} /);
    const pushed = await registryManifest(repo, '1');
    expect(pushed!.digest).toBe(r.outputs.digest);
    expect(r.outputs.digest).not.toBe(other);
    expect(r.outputs.imageid).not.toBe(other);
  });

  it('item 5: a staged single manifest is tagged with its exact bytes, in its repository (a manifest PUT) and in another (imagetools, buildx 0.29 keeps it)', async () => {
    const { source, digest, repo } = await stagedSingleManifest();
    const other = `${uniqueRepo('staged-other')}:1`;
    await tagStaged(PLUGIN, source, [`${repo}:1`, `${repo}:latest`, other], digest);
    expect((await registryManifest(repo, '1'))!.digest).toBe(digest);
    expect((await registryManifest(repo, 'latest'))!.digest).toBe(digest);
    expect((await registryManifest(other.slice(0, other.lastIndexOf(':')), '1'))!.digest).toBe(digest);
  });

  it('item 2: a save-state the runner kept from the output cannot steer or crash the post step', async () => {
    const r = await runAction(
      { tags: `${uniqueRepo('planted')}:1`, platforms: 'linux/amd64', 'smoke-test': 'false' },
      {
        workspace: exampleWorkspace(),
        // Names main does not write on the docker driver, so the runner's copy from the output would stand.
        plantedState: {
          buildxCommand: '{not json',
          createdBuilder: 'default',
          layerExport: JSON.stringify({ buildx: { cmd: '/bin/sh', prefix: ['-c'] }, argv: ['touch /tmp/gba-planted'] }),
        },
      },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.post.exitCode).toBe(0);
    expect(r.post.log).toMatch(/::warning::Post step: buildxCommand is not what main saved \(not JSON\)/);
    expect(r.post.log).toMatch(/::warning::Post step: createdBuilder is not what main saved/);
    expect(r.post.log).toMatch(/::warning::Post step: layerExport is not what main saved/);
    expect(r.post.log).not.toMatch(/Removing builder default/);
    expect(sh('docker', ['buildx', 'ls'])).toMatch(/^default/m);
  });
});

describe.runIf(engineUp)('a repository with capitals, as ${{ github.repository }} gives it (real engine and registry)', () => {
  it('tags and cache-ref are pushed under the lowercased repository, the tag as written, with an info line each', async () => {
    const repo = uniqueRepo('upper');
    const cacheRepo = uniqueRepo('upper-cache');
    // The owner part as GitHub spells it: Acme.
    const mixed = repo.replace('/upper', '/Acme/Upper');
    const mixedCache = cacheRepo.replace('/upper-cache', '/Acme/Upper-Cache');
    const r = await runAction(
      { tags: `${mixed}:V1`, push: 'true', platforms: 'linux/amd64', 'cache-ref': mixedCache, 'smoke-test': 'false' },
      { workspace: exampleWorkspace() },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.post.exitCode).toBe(0);
    expect(r.log).toContain(`tags: ${mixed}:V1 is pushed as ${mixed.toLowerCase()}:V1`);
    expect(r.log).toContain(`cache-ref: ${mixedCache} is pushed as ${mixedCache.toLowerCase()}`);
    expect(await registryManifest(mixed.toLowerCase(), 'V1')).toBeDefined();
    expect((await registryTags(mixedCache.toLowerCase())).length).toBeGreaterThan(0);
  });
});
