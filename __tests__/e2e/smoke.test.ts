// Issue 4: the smoke test runs on every platform's container before anything
// is pushed, against the real engine (arm64 under QEMU).
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { OWNER_LABEL } from '../../src/constants.js';
import {
  engineUp,
  exampleWorkspace,
  leftoverContainers,
  registryManifest,
  registryTags,
  sh,
  sizesReadBesideSmoke,
  uniqueRepo,
  workspace,
} from './engine.js';

function fixtureWorkspace(): string {
  return workspace('__tests__/e2e/smoke-fixture');
}

/** The binfmt_misc entry of each architecture Go builds and Debian's qemu-user-static registers. */
const QEMU: Record<string, string> = {
  s390x: 's390x',
  riscv64: 'riscv64',
  ppc64le: 'ppc64le',
  mips64le: 'mips64el',
  loong64: 'loongarch64',
};

/** A platform with no emulator: the host's binfmt set decides, never an assumption about it. */
function unemulatedPlatform(): { platform: string; arch: string; restore: () => void } {
  const entry = (arch: string) => `/proc/sys/fs/binfmt_misc/qemu-${QEMU[arch]}`;
  const on = (arch: string) => fs.existsSync(entry(arch)) && fs.readFileSync(entry(arch), 'utf8').startsWith('enabled');
  const free = Object.keys(QEMU).find((a) => !on(a));
  if (free) return { platform: `linux/${free}`, arch: free, restore: () => undefined };
  fs.writeFileSync(entry('s390x'), '0');
  return { platform: 'linux/s390x', arch: 's390x', restore: () => fs.writeFileSync(entry('s390x'), '1') };
}

describe.runIf(engineUp)('smoke test before push (real engine)', () => {
  let fixture: string;
  const repo = uniqueRepo('smoke');

  beforeAll(() => {
    fixture = fixtureWorkspace();
  });

  afterEach(() => {
    expect(leftoverContainers(), 'no container with the action label is left behind').toEqual([]);
  });

  it('the example passes on amd64 and on arm64 under QEMU, with time-to-healthy, and the pushed digest is the tested one', async () => {
    const ws = exampleWorkspace();
    const image = uniqueRepo('hello');
    const r = await runAction({ tags: `${image}:v1`, push: 'true', 'health-path': '/healthz', 'health-body': 'ok' }, { workspace: ws });
    expect(r.exitCode, r.log).toBe(0);
    const result = JSON.parse(r.outputs['smoke-result']);
    expect(Object.keys(result).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    for (const p of ['linux/amd64', 'linux/arm64']) {
      expect(result[p]).toMatchObject({ passed: true, probe: 'http GET /healthz on port 8080' });
      expect(result[p].ms).toBeGreaterThan(0);
      expect(result[p].attempts).toBeGreaterThanOrEqual(1);
    }
    expect(r.outputs['smoke-passed']).toBe('true');

    // The image ID the smoke test ran equals the digest now in the registry.
    const tested = /Testing \S+ \(image (sha256:[a-f0-9]{64})\)/.exec(r.log)?.[1];
    expect(tested).toBeDefined();
    const pushed = await registryManifest(image, 'v1');
    expect(pushed!.digest).toBe(tested);
    expect(r.outputs.digest).toBe(tested);
    // Smoke ran before the push.
    expect(r.log.indexOf('::group::Smoke test')).toBeLessThan(r.log.indexOf('::group::Push'));
    expect(r.summary).toContain('passed in');
  });

  it('uses the image HEALTHCHECK when no probe is configured', async () => {
    const ws = exampleWorkspace();
    const r = await runAction({ tags: `${uniqueRepo('hello')}:hc`, platforms: 'linux/amd64' }, { workspace: ws });
    expect(r.exitCode, r.log).toBe(0);
    expect(JSON.parse(r.outputs['smoke-result'])['linux/amd64'].probe).toBe('HEALTHCHECK ["/hello","-healthcheck"]');
  });

  it('a health endpoint answering 500 fails the step, shows status, body and the container log, and pushes nothing', async () => {
    const r = await runAction(
      {
        tags: `${repo}:health500`,
        push: 'true',
        platforms: 'linux/amd64',
        'build-args': 'MODE=500',
        'health-path': '/healthz',
        'smoke-timeout': '4',
      },
      { workspace: fixture },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /::error::Smoke test failed, nothing was pushed\. linux\/amd64: probe http GET \/healthz on port 8080 failed .*status 500, body "database unreachable\\n"/,
    );
    expect(r.log).toContain('healthz: database unreachable');
    expect(r.log).toContain('::group::Last 100 log lines of the linux/amd64 container');
    expect(r.outputs['smoke-passed']).toBe('false');
    expect(await registryTags(repo)).not.toContain('health500');
  });

  it('an image that exits at start fails at once with its exit code and its own log lines', async () => {
    const r = await runAction(
      { tags: `${repo}:exits`, push: 'true', platforms: 'linux/amd64,linux/arm64', 'build-args': 'MODE=exit', 'health-path': '/healthz' },
      { workspace: fixture },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /linux\/amd64: probe http GET \/healthz on port 8080 failed after \d+ attempt\(s\): the container exited with code 3/,
    );
    expect(r.log).toMatch(/linux\/arm64: probe .* the container exited with code 3/);
    expect(r.log).toContain('fatal: required setting DATABASE_URL is missing, exiting');
    const result = JSON.parse(r.outputs['smoke-result']);
    expect(result['linux/amd64'].elapsed_ms).toBeLessThan(10_000);
    expect(await registryTags(repo)).not.toContain('exits');
  });

  it('an image that never listens fails within smoke-timeout + 2 s', async () => {
    const timeout = 5;
    const r = await runAction(
      {
        tags: `${repo}:silent`,
        push: 'true',
        platforms: 'linux/amd64',
        'build-args': 'MODE=silent',
        'health-path': '/healthz',
        'smoke-timeout': String(timeout),
      },
      { workspace: fixture },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/timed out after 5\.0s; last attempt: no answer/);
    expect(r.log).toContain('warming up forever, never listening');
    const result = JSON.parse(r.outputs['smoke-result']);
    expect(result['linux/amd64'].elapsed_ms).toBeGreaterThanOrEqual(timeout * 1000 - 500);
    expect(result['linux/amd64'].elapsed_ms).toBeLessThanOrEqual((timeout + 2) * 1000);
    // Measured from outside too: the whole step (cached build + sizes + smoke) stays in bounds.
    const built = Number(/Built in ([\d.]+)s/.exec(r.log)![1]);
    expect(r.seconds - built).toBeLessThan(timeout + 2 + 3);
    expect(await registryTags(repo)).not.toContain('silent');
  });

  // With no probe configured and a port EXPOSEd (no HEALTHCHECK): a TCP connect, then still running.
  it('no probe configured: a TCP connect to the exposed port passes a listening image on both platforms', async () => {
    const r = await runAction({ tags: `${repo}:tcp`, push: 'false', platforms: 'linux/amd64,linux/arm64' }, { workspace: fixture });
    expect(r.exitCode, r.log).toBe(0);
    const result = JSON.parse(r.outputs['smoke-result']);
    for (const p of ['linux/amd64', 'linux/arm64']) {
      expect(result[p]).toMatchObject({ passed: true, probe: 'tcp connect to port 8080, still running 200 ms after it accepted' });
    }
  });

  it.each([
    // Docker's userland proxy accepts on the published port although nothing listens behind it.
    ['silent', /tcp connect to port 8080.* failed after \d+ attempt\(s\): timed out after 3\.0s; last attempt: connection closed at once/],
    ['exit', /tcp connect to port 8080.* failed after \d+ attempt\(s\): the container exited with code 3/],
    [
      'late',
      /tcp connect to port 8080.* failed after \d+ attempt\(s\): (port 8080 accepted a connection, then the container exited with code 4|the container exited with code 4)/,
    ],
  ])('no probe configured: an image in mode %s fails the TCP probe', async (mode, message) => {
    const r = await runAction(
      { tags: `${repo}:tcp-${mode}`, push: 'true', platforms: 'linux/amd64', 'build-args': `MODE=${mode}`, 'smoke-timeout': '3s' },
      { workspace: fixture },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(message);
    expect(await registryTags(repo)).not.toContain(`tcp-${mode}`);
  });

  it('with push: false the smoke test still runs', async () => {
    const r = await runAction(
      { tags: `${repo}:nopush`, platforms: 'linux/amd64', 'build-args': 'MODE=500', 'health-path': '/healthz', 'smoke-timeout': '2' },
      { workspace: fixture },
    );
    expect(r.exitCode).toBe(1);
    expect(r.outputs['smoke-passed']).toBe('false');
    // With no push and no budget the sizes are read beside the smoke test, and a failed test still reports them.
    expect(sizesReadBesideSmoke(r.log), r.log).toBe(true);
    expect(JSON.parse(r.outputs['image-sizes'])['linux/amd64'].compressed).toBeGreaterThan(0);
  });

  it('smoke-env and smoke-args reach the container; health-cmd runs inside it', async () => {
    const ws = exampleWorkspace();
    const r = await runAction(
      {
        platforms: 'linux/amd64',
        tags: `${uniqueRepo('hello')}:args`,
        'smoke-args': '-addr\n:9090',
        'health-cmd': '["/hello","-healthcheck","-addr",":9090"]',
      },
      { workspace: ws },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(JSON.parse(r.outputs['smoke-result'])['linux/amd64'].probe).toBe('health-cmd ["/hello","-healthcheck","-addr",":9090"]');

    const env = await runAction(
      {
        platforms: 'linux/amd64',
        tags: `${repo}:env`,
        'health-path': '/healthz',
        'health-body': 'ok from-env',
        'smoke-env': 'GREETING=from-env',
      },
      { workspace: fixture },
    );
    expect(env.exitCode, env.log).toBe(0);
  });

  it('a run killed mid-smoke-test leaves a container that the post step removes', async () => {
    let during: string[] = [];
    const r = await runAction(
      { tags: `${repo}:cancel`, platforms: 'linux/amd64', 'build-args': 'MODE=silent', 'health-path': '/healthz', 'smoke-timeout': '60' },
      {
        workspace: fixture,
        signal: 'SIGKILL',
        signalWhen: (log) => log.includes('probing http://127.0.0.1:'),
        beforePost: () => {
          during = leftoverContainers();
        },
      },
    );
    expect(r.exitCode).not.toBe(0);
    expect(during.length, 'the killed main step left its smoke container behind').toBe(1);
    expect(during[0]).toContain(`${OWNER_LABEL}.run=${r.saved.runKey}`);
    expect(r.post.exitCode).toBe(0);
    expect(r.post.log).toContain('Removed 1 leftover container(s) of this run');
    // afterEach then checks that nothing with the label is left.
  });

  it('a platform without an emulator is skipped with a warning, or fails the step with smoke-strict', async () => {
    // A platform this host cannot run: the first with no binfmt entry, or (where Debian's qemu-user-static
    // registered them all) one whose entry is turned off for the test and on again after it. It still
    // builds: the example cross-compiles. The binfmt image is named in the local registry, where it does
    // not exist, so the attempt to register QEMU fails without any traffic beyond loopback.
    const { platform, arch, restore } = unemulatedPlatform();
    try {
      const ws = exampleWorkspace();
      const image = uniqueRepo('hello');
      const qemu = { 'qemu-image': 'localhost:5000/absent/binfmt:none' };
      const r = await runAction(
        { tags: `${image}:unemulated`, push: 'true', platforms: `linux/amd64,${platform}`, 'health-path': '/healthz', ...qemu },
        { workspace: ws },
      );
      expect(r.exitCode, r.log).toBe(0);
      expect(r.log).toMatch(new RegExp(`::warning::QEMU could not be registered for ${arch}`));
      expect(r.log).toContain(`::warning::Smoke test of ${platform} skipped: no emulator for ${arch} is registered on this runner`);
      const result = JSON.parse(r.outputs['smoke-result']);
      expect(result[platform]).toMatchObject({ passed: false, skipped: true });
      expect(result['linux/amd64']).toMatchObject({ passed: true });
      expect(await registryTags(image)).toEqual(['unemulated']);

      const strict = await runAction(
        {
          tags: `${image}:strict`,
          push: 'true',
          platforms: `linux/amd64,${platform}`,
          'health-path': '/healthz',
          'smoke-strict': 'true',
          ...qemu,
        },
        { workspace: ws },
      );
      expect(strict.exitCode).toBe(1);
      expect(strict.log).toContain(
        `::error::Smoke test of ${platform} skipped: no emulator for ${arch} is registered on this runner (smoke-strict: true)`,
      );
      expect(await registryTags(image)).toEqual(['unemulated']);
    } finally {
      restore();
    }
  });

  it('two smoke tests at the same time do not interfere', async () => {
    const ws1 = exampleWorkspace();
    const ws2 = exampleWorkspace();
    const image = uniqueRepo('hello');
    const [a, b] = await Promise.all([
      runAction({ tags: `${image}:a`, push: 'true', 'health-path': '/healthz' }, { workspace: ws1 }),
      runAction({ tags: `${image}:b`, push: 'true', 'health-path': '/healthz' }, { workspace: ws2 }),
    ]);
    expect(a.exitCode, a.log).toBe(0);
    expect(b.exitCode, b.log).toBe(0);
    const ports = (log: string) => [...log.matchAll(/probing http:\/\/127\.0\.0\.1:(\d+)\/healthz/g)].map((m) => m[1]);
    const all = [...ports(a.log), ...ports(b.log)];
    expect(all).toHaveLength(4);
    expect(new Set(all).size).toBe(4);
    expect((await registryTags(image)).sort()).toEqual(['a', 'b']);
  });
});

describe.runIf(engineUp)('a service that needs a dependency at boot (real engine): smoke-network and smoke-add-hosts', () => {
  // The dependency: a container on a network of the test's own, answering as "db" (any TCP server will do:
  // the fixture itself in mode ok), as a job's `services:` container answers by its id on the job's network.
  const net = `gba-smoke-${Date.now().toString(36)}`;
  let db = '';
  let dbIp = '';
  const inputs = (repo: string, extra: Record<string, string>) => ({
    tags: `${repo}:1`,
    push: 'true',
    platforms: 'linux/amd64',
    'build-args': 'MODE=needs-db',
    'health-path': '/healthz',
    'smoke-timeout': '4s',
    ...extra,
  });
  beforeAll(async () => {
    sh('docker', ['network', 'create', net]);
    const dbRepo = uniqueRepo('smoke-db');
    const built = await runAction(
      { tags: `${dbRepo}:1`, push: 'true', platforms: 'linux/amd64', 'smoke-test': 'false' },
      { workspace: workspace('__tests__/e2e/smoke-fixture') },
    );
    expect(built.exitCode, built.log).toBe(0);
    db = sh('docker', ['run', '--detach', '--network', net, '--network-alias', 'db', `${dbRepo}:1`]).trim();
    dbIp = sh('docker', ['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, db]).trim();
  });
  afterAll(() => {
    if (db) spawnSync('docker', ['rm', '--force', '--volumes', db]);
    spawnSync('docker', ['network', 'rm', net]);
  });

  it('without smoke-network it never becomes healthy: the step fails, saying why, and nothing is pushed', async () => {
    const repo = uniqueRepo('needs-db');
    const r = await runAction(inputs(repo, { 'smoke-env': 'DATABASE_URL=postgres://postgres:smoke@db:8080/postgres?sslmode=disable' }), {
      workspace: workspace('__tests__/e2e/smoke-fixture'),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/::error::.*linux\/amd64: probe .* failed after \d+ attempt\(s\)/);
    expect(r.log).toContain('healthz: cannot reach the database at "db:8080"');
    expect(await registryTags(repo)).toEqual([]);
  });

  it("with smoke-network (the dependency's network) it reaches db by name, passes, and is pushed", async () => {
    const repo = uniqueRepo('needs-db');
    const r = await runAction(
      inputs(repo, { 'smoke-env': 'DATABASE_URL=postgres://postgres:smoke@db:8080/postgres?sslmode=disable', 'smoke-network': net }),
      {
        workspace: workspace('__tests__/e2e/smoke-fixture'),
      },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(`"--network","${net}"`);
    expect(r.outputs['smoke-passed']).toBe('true');
    expect(await registryTags(repo)).toEqual(['1']);
  });

  it('with smoke-add-hosts it reaches the dependency by an added name, on the default bridge', async () => {
    // The default bridge cannot reach the test's network, so connect the dependency to it too.
    sh('docker', ['network', 'connect', 'bridge', db]);
    const bridgeIp = sh('docker', ['inspect', '--format', '{{.NetworkSettings.Networks.bridge.IPAddress}}', db]).trim();
    expect(bridgeIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(dbIp).not.toBe('');
    const repo = uniqueRepo('needs-db');
    const r = await runAction(
      inputs(repo, {
        'smoke-env': 'DATABASE_URL=postgres://postgres:smoke@database.internal:8080/postgres?sslmode=disable',
        'smoke-add-hosts': `database.internal=${bridgeIp}`,
      }),
      {
        workspace: workspace('__tests__/e2e/smoke-fixture'),
      },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(`"--add-host","database.internal:${bridgeIp}"`);
    expect(r.outputs['smoke-passed']).toBe('true');
  });

  it('smoke-network: host: the probe reaches the container on loopback; both platforms pass, so they ran one after the other (side by side, the second could not bind 8080)', async () => {
    const repo = uniqueRepo('hostnet');
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await runAction(
      { tags: `${repo}:1`, push: 'true', platforms: 'linux/amd64,linux/arm64', 'health-path': '/healthz', 'smoke-network': 'host' },
      { workspace: workspace('__tests__/e2e/smoke-fixture'), env: { RUNNER_DEBUG: '1' } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).not.toMatch(/"--publish"/);
    const smoke = JSON.parse(r.outputs['smoke-result']);
    expect(Object.values(smoke).every((p: any) => p.passed)).toBe(true);
    // The first platform's container is gone before the second is created: still running, it would hold 8080
    // and answer the second platform's probe (whose own container could not bind it). The engine's own
    // events tell when each container was destroyed and created; the log only tells when a command began.
    const events = sh('docker', [
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.ceil(Date.now() / 1000)),
      '--filter',
      `label=${OWNER_LABEL}.run=${r.saved.runKey}`,
      '--filter',
      'type=container',
      '--format',
      '{{.Action}} {{.Actor.ID}} {{.TimeNano}}',
    ])
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([action, id, t]) => ({ action, id, t: BigInt(t) }));
    const firstId = /smoke ([0-9a-f]{12}): probing http:\/\/127\.0\.0\.1:8080/.exec(r.log)?.[1];
    expect(firstId, r.log).toBeTruthy();
    const destroyed = events.find((e) => e.action === 'destroy' && e.id.startsWith(firstId!));
    const second = events.find((e) => e.action === 'create' && !e.id.startsWith(firstId!));
    expect(
      destroyed,
      JSON.stringify(events, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
    ).toBeDefined();
    expect(second).toBeDefined();
    expect(destroyed!.t < second!.t, 'the amd64 container was destroyed before the arm64 one was created').toBe(true);
  });
});
