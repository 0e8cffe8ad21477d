// The oldest supported releases (issue 23): Docker 26.1 with containerd 1.7 and the containerd image store,
// buildx 0.13.1 and cosign 2.5, all from Debian trixie, as a leg beside the primary engine (today's
// releases): `scripts/engine.sh leg oldest` starts its dockerd on its own socket, data root and bridge,
// and gives its buildx (through DOCKER_CONFIG's cli-plugins) and its cosign (first on PATH). The named
// subset: build, the cache round trip, the smoke test, push, push-by-digest and merge, and signing.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import type { RunOptions } from '../../scripts/run-action.d.mts';
import {
  legsAllowed,
  exampleWorkspace,
  registryManifest,
  registryTags,
  stagedSingleManifest,
  startLeg,
  uniqueRepo,
  workspace,
} from './engine.js';
import { PLUGIN } from '../../src/buildx/command.js';
import { tagStaged } from '../../src/publish/push.js';

const legUp = legsAllowed('oldest-engine leg');

describe.runIf(legUp)('the oldest supported releases: Docker 26.1, buildx 0.13.1, cosign 2.5 (a leg beside the primary engine)', () => {
  let env: Record<string, string> = {};
  const run = (inputs: Record<string, string>, opts: RunOptions = {}) => runAction(inputs, { ...opts, env: { ...env, ...opts.env } });
  const leg = (args: string[]) =>
    spawnSync('docker', args, {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: env.DOCKER_HOST, DOCKER_CONFIG: env.DOCKER_CONFIG },
    });

  beforeAll(() => {
    env = startLeg('oldest');
    expect(leg(['version', '--format', '{{.Server.Version}}']).stdout).toMatch(/^26\.1\./);
    expect(leg(['buildx', 'version']).stdout).toMatch(/ 0\.13\.1/);
    expect(spawnSync('cosign', ['version'], { encoding: 'utf8', env: { ...process.env, PATH: env.PATH } }).status).toBe(0);
  });

  it('build, smoke test and push of two platforms, then the cache round trip on a pruned builder', async () => {
    const ws = exampleWorkspace();
    const repo = uniqueRepo('oldest');
    const cacheRef = `${repo}-cache`;
    // A cold first build (an earlier run on this leg left its steps in the builder).
    expect(leg(['buildx', 'prune', '-af']).status).toBe(0);
    const first = await run({ tags: `${repo}:1`, push: 'true', 'cache-ref': cacheRef }, { workspace: ws });
    expect(first.exitCode, first.log).toBe(0);
    expect(first.log).toMatch(/buildx 0\.13\.1/);
    expect(first.outputs['smoke-passed']).toBe('true');
    expect((await registryManifest(repo, '1'))!.digest).toBe(first.outputs.digest);
    expect(first.post.exitCode).toBe(0);
    expect((await registryTags(cacheRef)).some((t) => /^buildcache-linux-amd64_linux-arm64-[0-9a-f]{8}-main$/.test(t))).toBe(true);

    fs.appendFileSync(path.join(ws, 'main.go'), '\n// a change\n');
    expect(leg(['buildx', 'prune', '-af']).status).toBe(0);
    const second = await run({ tags: `${repo}:2`, push: 'true', 'cache-ref': cacheRef }, { workspace: ws });
    expect(second.exitCode, second.log).toBe(0);
    expect(Number(second.outputs['cache-hits'])).toBeGreaterThan(0);
    expect(JSON.parse(second.outputs['go-cache-restored']).build).toMatchObject({ match: 'exact' });
  });

  it('push-by-digest on each platform, then the merge', async () => {
    const ws = exampleWorkspace();
    const repo = uniqueRepo('oldest-matrix');
    const digests: string[] = [];
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const r = await run({ image: repo, platforms: platform, push: 'true', 'push-by-digest': 'true' }, { workspace: ws });
      expect(r.exitCode, r.log).toBe(0);
      digests.push(r.outputs.digest);
    }
    expect(await registryTags(repo)).toEqual([]);
    const merged = await run({ merge: 'true', tags: `${repo}:1.0.0`, digests: digests.join('\n') }, { workspace: ws });
    expect(merged.exitCode, merged.log).toBe(0);
    expect((await registryManifest(repo, '1.0.0'))!.digest).toBe(merged.outputs.digest);
  });

  it('tagging a staged single manifest in another repository: buildx 0.13.1 would re-wrap it, so it is refused before any tag moves (trust, round 2, item 5)', async () => {
    const { source, digest, repo } = await stagedSingleManifest();
    const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG };
    // tagStaged runs `docker buildx`: with the leg's DOCKER_CONFIG, that is buildx 0.13.1 (the registry is shared).
    process.env.DOCKER_CONFIG = env.DOCKER_CONFIG;
    try {
      await expect(tagStaged(PLUGIN, source, [`${repo}:1`, `${uniqueRepo('staged-other')}:1`], digest)).rejects.toThrow(
        /would tag .* with sha256:[0-9a-f]{64}, a new index around the tested image .*; no tag was moved/,
      );
    } finally {
      if (saved.DOCKER_CONFIG === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved.DOCKER_CONFIG;
    }
    expect((await registryTags(repo)).sort()).toEqual(['staging']);
  });

  it('call: check on buildx 0.13 (older than 0.15, which added --call): a clear error naming the input, nothing built', async () => {
    const r = await run({ platforms: 'linux/amd64', call: 'check' }, { workspace: workspace('example') });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /::error::Input "call" is invalid: "check" needs buildx 0\.15\.0 or newer, and this runner has 0\.13\.\d+.*\. Accepted: buildx-version: 0\.19\.3/,
    );
    expect(r.log).not.toMatch(/buildx build argv/);
  });

  it('signing and attest-smoke with cosign 2.5 (a key, no transparency log), verified by that cosign', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-cosign25-'));
    const cosignEnv = { ...process.env, PATH: env.PATH, COSIGN_PASSWORD: 'pw' };
    expect(spawnSync('cosign', ['generate-key-pair', '--output-key-prefix', path.join(dir, 'cosign')], { env: cosignEnv }).status).toBe(0);
    const repo = uniqueRepo('oldest-signed');
    const r = await run(
      {
        tags: `${repo}:1`,
        push: 'true',
        platforms: 'linux/amd64',
        sign: 'true',
        'sign-key': fs.readFileSync(path.join(dir, 'cosign.key'), 'utf8'),
        'sign-key-password': 'pw',
        'sign-tlog': 'false',
        'attest-smoke': 'true',
      },
      { workspace: workspace('example') },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/cosign 2 line/);
    const signed = JSON.parse(r.outputs.signatures) as Record<string, string>;
    for (const [d, ref] of Object.entries(signed)) expect(ref).toBe(`${repo}:${d.replace(':', '-')}.sig`);
    const verify = (args: string[]) =>
      spawnSync('cosign', [...args, '--key', path.join(dir, 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-http-registry'], {
        encoding: 'utf8',
        env: cosignEnv,
      });
    expect(verify(['verify', `${repo}@${r.outputs.digest}`]).status).toBe(0);
    expect(
      verify(['verify-attestation', '--type', 'https://go-buildx-action.dev/attestations/smoke-test/v1', `${repo}@${r.outputs.digest}`])
        .status,
    ).toBe(0);
  });
});
