// The classic image store: a second dockerd (Docker 26 from the same packages) with the containerd
// snapshotter off, on its own socket, data root and bridge (scripts/engine.sh leg classic). That store is
// the default of upgraded installs up to Docker 28 and of many self-hosted runners. There the docker
// driver's build names the image by its ID (the config digest), while a push creates a manifest with its
// own digest: trust, round 2, item 4 found the step failing after the tag had moved.
import { beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { legsAllowed, failingSmokeInputs, registryManifest, registryTags, sh, startLeg, uniqueRepo, workspace } from './engine.js';

const legUp = legsAllowed('classic-store leg');

describe.runIf(legUp)('the classic image store (a second dockerd with the containerd snapshotter off)', () => {
  let env: Record<string, string>;
  beforeAll(() => {
    env = startLeg('classic');
    expect(sh('docker', ['-H', env.DOCKER_HOST, 'info', '--format', '{{.Driver}}']).trim()).toBe('overlay2');
  });
  const fixture = () => workspace('__tests__/e2e/smoke-fixture');

  it('push: the smoke test runs there, the tag moves to the tested image, and the step passes', async () => {
    const repo = uniqueRepo('classic');
    const r = await runAction(
      {
        tags: `${repo}:1`,
        push: 'true',
        driver: 'docker',
        platforms: 'linux/amd64',
        'health-path': '/healthz',
        // buildx refuses any cache export on this builder: the action reads the layer cache and writes none.
        'cache-ref': `${repo}-cache`,
      },
      { workspace: fixture(), env },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/Engine image store: classic; driver: docker/);
    expect(r.log).toMatch(/::warning::driver: docker without the containerd image store cannot export caches/);
    expect(r.outputs['smoke-passed']).toBe('true');
    const pushed = await registryManifest(repo, '1');
    // The digest output names what is in the registry; the image ID is that manifest's config.
    expect(r.outputs.digest).toBe(pushed!.digest);
    expect(pushed!.body.config.digest).toBe(r.outputs.imageid);
    expect(r.log).toMatch(/the classic image store names an image by its config/);
    expect(await registryTags(`${repo}-cache`)).toEqual([]);
    expect(r.post.exitCode).toBe(0);
    expect(r.post.log).not.toMatch(/::warning::/);
  });

  it('push-by-digest: the digest is in the registry with no tag, and it is the tested image', async () => {
    const repo = uniqueRepo('classic-bd');
    const r = await runAction(
      { image: repo, push: 'true', 'push-by-digest': 'true', driver: 'docker', platforms: 'linux/amd64', 'health-path': '/healthz' },
      { workspace: fixture(), env },
    );
    expect(r.exitCode, r.log).toBe(0);
    const m = await registryManifest(repo, r.outputs.digest);
    expect(m?.digest).toBe(r.outputs.digest);
    expect(m!.body.config.digest).toBe(r.outputs.imageid);
    expect(await registryTags(repo)).toEqual([]);
  });

  it('a failing smoke test there pushes nothing', async () => {
    const repo = uniqueRepo('classic-fail');
    const r = await runAction({ ...failingSmokeInputs(repo), driver: 'docker' }, { workspace: fixture(), env });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/::error::Smoke test failed, nothing was pushed/);
    expect(await registryTags(repo)).toEqual([]);
  });
});
