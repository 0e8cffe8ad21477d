// Builders beyond the engine's own (issue 23, section 4), here rather than only on GitHub: a BuildKit image
// built from Debian's sources (`scripts/engine.sh buildkit`, pushed as moby/buildkit:buildx-stable-1 through
// the docker.io mirror) runs the docker-container driver, and buildkitd processes from it listening on
// 127.0.0.1 over mutual TLS run the remote driver and a builder with an appended node. The classic-store
// leg is the engine: there `driver: auto` takes the docker-container path, as on the ubuntu-24.04 runners.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runAction } from '../../scripts/run-action.mjs';
import type { RunOptions } from '../../scripts/run-action.d.mts';
import { failingSmokeInputs, legsAllowed, registryManifest, registryTags, sh, startLeg, uniqueRepo, workspace } from './engine.js';

const legUp = legsAllowed('builders leg');

/** BuildKit inside a container reaches the host's registry over host networking, and docker.io through the mirror. */
const BUILDKITD_TOML =
  '[registry."docker.io"]\n  mirrors = ["localhost:5000"]\n[registry."localhost:5000"]\n  http = true\n  insecure = true\n';

describe.runIf(legUp)('docker-container, remote and appended nodes, on a BuildKit built from Debian sources', () => {
  let env: Record<string, string> = {};
  const run = (inputs: Record<string, string>, opts: RunOptions = {}) => runAction(inputs, { ...opts, env: { ...env, ...opts.env } });
  const docker = (args: string[]) => execFileSync('docker', ['-H', env.DOCKER_HOST, ...args], { encoding: 'utf8' });
  const container = { 'driver-opts': 'network=host', 'buildkitd-config-inline': BUILDKITD_TOML };
  const remotes: string[] = [];
  let tls = '';

  beforeAll(() => {
    sh('bash', [path.join(ROOT, 'scripts/engine.sh'), 'buildkit']);
    env = startLeg('classic');
    // A client certificate from the test CA (engine.sh made it, and a server certificate for 127.0.0.1).
    tls = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-bk-tls-'));
    const ca = '/var/lib/gba-engine/test-ca';
    const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    ssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=gba-client',
      '-keyout',
      `${tls}/client.key`,
      '-out',
      `${tls}/client.csr`,
    ]);
    ssl([
      'x509',
      '-req',
      '-in',
      `${tls}/client.csr`,
      '-CA',
      `${ca}/ca.crt`,
      '-CAkey',
      `${ca}/ca.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${tls}/client.crt`,
    ]);
    for (const f of ['ca.crt', 'proxy.crt', 'proxy.key']) fs.copyFileSync(`${ca}/${f}`, `${tls}/${f}`);
    fs.writeFileSync(`${tls}/buildkitd.toml`, BUILDKITD_TOML);
    // Two buildkitd on loopback, over mutual TLS, each with its own state (an anonymous volume: the image
    // declares VOLUME /var/lib/buildkit, so each removal names --volumes, or 670 MB stay behind per container).
    for (const port of [12461, 12462]) {
      const name = `gba-remote-${port}-${process.pid}`;
      spawnSync('docker', ['-H', env.DOCKER_HOST, 'rm', '--force', '--volumes', name]);
      docker([
        'run',
        '-d',
        '--name',
        name,
        '--privileged',
        '--network',
        'host',
        '-v',
        `${tls}:/tls:ro`,
        'moby/buildkit:buildx-stable-1',
        '--addr',
        `tcp://127.0.0.1:${port}`,
        '--tlscacert',
        '/tls/ca.crt',
        '--tlscert',
        '/tls/proxy.crt',
        '--tlskey',
        '/tls/proxy.key',
        '--config',
        '/tls/buildkitd.toml',
        '--allow-insecure-entitlement',
        'network.host',
      ]);
      remotes.push(name);
    }
  });
  afterAll(() => {
    for (const name of remotes) spawnSync('docker', ['-H', env.DOCKER_HOST, 'rm', '--force', '--volumes', name]);
  });

  it('docker-container (driver: auto on the classic store): staged by digest, both platforms smoke-tested, then tagged with exactly that digest', async () => {
    const repo = uniqueRepo('container');
    const r = await run(
      { tags: `${repo}:1`, push: 'true', 'health-path': '/healthz', ...container },
      { workspace: workspace('__tests__/e2e/smoke-fixture') },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/Engine image store: classic; driver: docker-container \(auto\)/);
    expect(r.log).toMatch(/"type=image,name=.*,push-by-digest=true,name-canonical=true,push=true"/);
    const result = JSON.parse(r.outputs['smoke-result']);
    expect(result['linux/amd64'].passed && result['linux/arm64'].passed).toBe(true);
    expect((await registryManifest(repo, '1'))!.digest).toBe(r.outputs.digest);
    expect(r.post.log).toMatch(/Removing builder gba-/);
  });

  it('docker-container: a failing smoke test deletes the staged image, and no tag moves', async () => {
    const repo = uniqueRepo('container-fail');
    const r = await run({ ...failingSmokeInputs(repo), ...container }, { workspace: workspace('__tests__/e2e/smoke-fixture') });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/Deleted the staged image .* since a gate failed/);
    expect(await registryTags(repo)).toEqual([]);
  });

  it('remote over mutual TLS with an appended node: each platform on its node, and the Go caches restored and saved per node', async () => {
    const repo = uniqueRepo('remote');
    const cacheRef = `${repo}-cache`;
    const tlsOpts = `cacert=${tls}/ca.crt,cert=${tls}/client.crt,key=${tls}/client.key,servername=127.0.0.1`;
    const inputs = {
      tags: `${repo}:1`,
      push: 'true',
      'smoke-test': 'false',
      driver: 'remote',
      endpoint: 'tcp://127.0.0.1:12461',
      'driver-opts': tlsOpts,
      'cache-ref': cacheRef,
      platforms: 'linux/amd64,linux/arm64',
      append: `- name: arm\n  endpoint: tcp://127.0.0.1:12462\n  platforms: linux/arm64\n  driver-opts: [${JSON.stringify(tlsOpts)}]`,
    };
    const ws = workspace('example');
    const first = await run(inputs, { workspace: ws });
    expect(first.exitCode, first.log).toBe(0);
    expect(first.log).toMatch(/linux\/arm64: built on node arm \(tcp:\/\/127\.0\.0\.1:12462\)/);
    expect(first.post.log).toMatch(/GOCACHE on node arm: saved/);
    fs.appendFileSync(path.join(ws, 'main.go'), '\n// a change\n');
    const second = await run({ ...inputs, tags: `${repo}:2` }, { workspace: ws });
    expect(second.exitCode, second.log).toBe(0);
    expect(second.log).toMatch(/GOCACHE on node arm: restored/);
    expect((await registryManifest(repo, '2'))!.digest).toBe(second.outputs.digest);
  });
});
