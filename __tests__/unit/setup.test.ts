import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installedPlugin, PLUGIN } from '../../src/buildx/command.js';
import { contextFromConfig, engineInfoFromApi, engineSocket, parseEngineInfo } from '../../src/engine.js';
import { chooseDriver, containerOnlyInputs, isContainerdStore, nodeForPlatform, parseInspect } from '../../src/buildx/builder.js';
import { buildxDownloadUrl, parseBuildxVersion } from '../../src/buildx/install.js';
import { emulatorsNeeded, nativePlatform } from '../../src/setup/qemu.js';
import { isTransientPushError, parsePushDigest } from '../../src/publish/push.js';
import { fixture } from './helpers.js';

describe('engine and builder detection', () => {
  it('recognises the containerd image store from docker info', () => {
    expect(isContainerdStore(fixture('docker-info-driverstatus.json'))).toBe(true);
    expect(
      isContainerdStore(
        '[["Backing Filesystem","extfs"],["Supports d_type","true"],["Using metacopy","false"],["Native Overlay Diff","true"],["userxattr","false"]]',
      ),
    ).toBe(false);
    expect(isContainerdStore('null')).toBe(false);
  });

  it.each([
    ['auto', true, 'docker'],
    ['auto', false, 'docker-container'],
    ['docker', false, 'docker'],
    ['docker-container', true, 'docker-container'],
  ] as const)('driver %s with containerd store=%s → %s', (req, store, want) => {
    expect(chooseDriver(req, store)).toBe(want);
  });

  it.each([
    ['driver-opts', { driverOpts: ['network=host'] }, ['driver-opts']],
    ['buildkitd-config', { driverOpts: [], buildkitdConfig: '/w/buildkitd.toml' }, ['buildkitd-config']],
    ['buildkitd-config-inline', { driverOpts: [], buildkitdConfigInline: '[worker.oci]\n' }, ['buildkitd-config-inline']],
    ['append', { driverOpts: [], append: [{ endpoint: 'tcp://arm:1234', platforms: ['linux/arm64'], driverOpts: [] }] }, ['append']],
  ])('auto with %s on a containerd store → docker-container (setup-buildx users configure its BuildKit)', (_n, o, names) => {
    expect(containerOnlyInputs(o)).toEqual(names);
    expect(chooseDriver('auto', true, containerOnlyInputs(o))).toBe('docker-container');
    // Asked for by name, docker stays docker (the settings refuse these inputs with it).
    expect(chooseDriver('docker', true, containerOnlyInputs(o))).toBe('docker');
  });

  it('parses buildx inspect of the engine builder', () => {
    const platforms = ['linux/amd64', 'linux/amd64/v2', 'linux/amd64/v3', 'linux/arm64'];
    expect(parseInspect(fixture('buildx-inspect-docker.txt'))).toEqual({
      name: 'default',
      driver: 'docker',
      platforms,
      buildkitVersion: 'v0.0.0+unknown',
      nodes: [{ name: 'default', endpoint: 'default', status: 'running', buildkitVersion: 'v0.0.0+unknown', platforms, fixed: [] }],
    });
  });

  it('parses buildx inspect of a builder of two nodes (captured: remote amd64 + appended remote arm64), and which node builds what', () => {
    const info = parseInspect(fixture('buildx-inspect-multinode.txt'));
    expect(info).toEqual({
      name: 'gba-capture',
      driver: 'remote',
      platforms: ['linux/amd64', 'linux/arm64'],
      buildkitVersion: undefined,
      nodes: [
        {
          name: 'gba-capture0',
          endpoint: 'tcp://127.0.0.1:1234',
          status: 'inactive',
          buildkitVersion: undefined,
          platforms: ['linux/amd64'],
          fixed: ['linux/amd64'],
        },
        {
          name: 'gba-capture-arm64',
          endpoint: 'tcp://127.0.0.1:1235',
          status: 'inactive',
          buildkitVersion: undefined,
          platforms: ['linux/arm64'],
          fixed: ['linux/arm64'],
        },
      ],
    });
    expect(nodeForPlatform(info.nodes, 'linux/arm64')?.name).toBe('gba-capture-arm64');
    expect(nodeForPlatform(info.nodes, 'linux/amd64')?.name).toBe('gba-capture0');
    // A platform no node lists goes to the first node.
    expect(nodeForPlatform(info.nodes, 'linux/riscv64')?.name).toBe('gba-capture0');
  });

  it('as buildx decides: fixed platforms win only when every built platform is fixed on some node; else the first node that lists it', () => {
    // The first node was created without --platform and emulates arm64; the appended one fixes arm64.
    const nodes = [
      { name: 'runner', platforms: ['linux/amd64', 'linux/arm64'], fixed: [] },
      { name: 'arm', platforms: ['linux/arm64', 'linux/amd64'], fixed: ['linux/arm64'] },
    ];
    const both = ['linux/amd64', 'linux/arm64'];
    expect(nodeForPlatform(nodes, 'linux/arm64', both)?.name).toBe('runner');
    // With the first node fixed to what the appended ones leave (what the action now creates), each goes to its own.
    const fixedFirst = [{ ...nodes[0], fixed: ['linux/amd64'] }, nodes[1]];
    expect(nodeForPlatform(fixedFirst, 'linux/arm64', both)?.name).toBe('arm');
    expect(nodeForPlatform(fixedFirst, 'linux/amd64', both)?.name).toBe('runner');
  });
});

describe('the buildx plugin, run as its own binary', () => {
  const made: string[] = [];
  const dir = () => {
    made.push(fs.mkdtempSync(path.join(os.tmpdir(), 'gba-plugins-')));
    return made[made.length - 1];
  };
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const plugin = (d: string) => {
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'docker-buildx'), '#!/bin/sh\n', { mode: 0o755 });
    return path.join(d, 'docker-buildx');
  };
  it("the user's cli-plugins folder first, then the system's, in the docker CLI's order", () => {
    const config = dir();
    const system = [dir(), dir()];
    expect(installedPlugin({ DOCKER_CONFIG: config }, system)).toEqual(PLUGIN);
    const second = plugin(system[1]);
    expect(installedPlugin({ DOCKER_CONFIG: config }, system)).toEqual({ cmd: second, prefix: [] });
    const first = plugin(system[0]);
    expect(installedPlugin({ DOCKER_CONFIG: config }, system)).toEqual({ cmd: first, prefix: [] });
    const own = plugin(path.join(config, 'cli-plugins'));
    expect(installedPlugin({ DOCKER_CONFIG: config }, system)).toEqual({ cmd: own, prefix: [] });
  });
  it('a file that cannot run, or a config with extra plugin folders: the docker CLI decides (docker buildx)', () => {
    const config = dir();
    const bin = plugin(path.join(config, 'cli-plugins'));
    fs.chmodSync(bin, 0o644);
    expect(installedPlugin({ DOCKER_CONFIG: config }, [])).toEqual(PLUGIN);
    fs.chmodSync(bin, 0o755);
    fs.writeFileSync(path.join(config, 'config.json'), JSON.stringify({ cliPluginsExtraDirs: ['/opt/plugins'] }));
    expect(installedPlugin({ DOCKER_CONFIG: config }, [])).toEqual(PLUGIN);
  });
});

describe('buildx version and download', () => {
  it.each([
    ['github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3\n', '0.13.1'],
    ['github.com/docker/buildx v0.19.3 48d6a39\n', '0.19.3'],
    ['docker: unknown command: docker buildx', undefined],
  ])('%j → %s', (text, want) => {
    expect(parseBuildxVersion(text)).toBe(want);
  });

  it('builds the release asset URL', () => {
    expect(buildxDownloadUrl('http://127.0.0.1:8123/rel', '0.13.1', 'linux', 'x64')).toBe(
      'http://127.0.0.1:8123/rel/v0.13.1/buildx-v0.13.1.linux-amd64',
    );
    expect(buildxDownloadUrl('https://github.com/docker/buildx/releases/download', '0.19.3', 'linux', 'arm64')).toBe(
      'https://github.com/docker/buildx/releases/download/v0.19.3/buildx-v0.19.3.linux-arm64',
    );
  });
});

describe('QEMU', () => {
  const none = () => false;
  it.each([
    [['linux/amd64'], 'x64', none, []],
    [['linux/amd64', 'linux/arm64'], 'x64', none, ['arm64']],
    [['linux/amd64', 'linux/arm64'], 'x64', (q: string) => q === 'aarch64', []],
    [['linux/arm/v7', 'linux/arm/v6', 'linux/s390x'], 'x64', none, ['arm', 's390x']],
    // Many arm64 CPUs have no 32-bit mode: arm/v6 and arm/v7 get QEMU there too.
    [['linux/amd64', 'linux/arm64', 'linux/arm/v7'], 'arm64', none, ['amd64', 'arm']],
    [['linux/arm/v6', 'linux/arm/v7'], 'arm64', none, ['arm']],
    [['linux/arm/v7'], 'arm64', (q: string) => q === 'arm', []],
    [['linux/386'], 'x64', none, []],
  ])('%j on %s', (platforms, arch, registered, want) => {
    expect(emulatorsNeeded(platforms, arch, registered)).toEqual(want);
  });
  it('names the runner platform', () => {
    expect(nativePlatform('x64')).toBe('linux/amd64');
    expect(nativePlatform('arm64')).toBe('linux/arm64');
  });
});

describe('push output', () => {
  it('reads the pushed digest from real docker push output', () => {
    expect(parsePushDigest(fixture('docker-push-output.txt'))).toBe(
      'sha256:d7f7f6810ef47c8db6d752b5dad911917634871ec3208c2912fa8e163ad0cc98',
    );
    expect(parsePushDigest('denied: requested access to the resource is denied')).toBeUndefined();
  });
});

describe('docker push failures (captured: distribution 2.8 answering a tag read mid-push with 500; a registry that wants credentials)', () => {
  const errors = JSON.parse(fixture('docker-push-errors.json')) as { transient: string[]; permanent: string[] };
  it.each(errors.transient)('worth another try: %s', (line) => expect(isTransientPushError(line)).toBe(true));
  it.each(errors.permanent)('fails at once: %s', (line) => expect(isTransientPushError(line)).toBe(false));
});

describe("the engine's info, asked once (captured: Docker 28.5 with the containerd store and a mirror)", () => {
  it('reads the image store, the mirrors and the insecure registries from one docker info line', () => {
    const info = parseEngineInfo(fixture('docker-info-engine.txt'));
    expect(isContainerdStore(info.driverStatus)).toBe(true);
    expect(info.mirrors).toEqual(['http://localhost:5000']);
    // docker.io is the one index config the engine reaches over TLS (Secure: true).
    expect(info.insecureRegistries).toEqual([
      '127.0.0.1:5000',
      '127.0.0.1:5001',
      '127.0.0.1:5002',
      'localhost:5000',
      'localhost:5001',
      'localhost:5002',
    ]);
  });
  it('an engine without mirrors, or output it cannot read: no mirrors and no insecure registries', () => {
    expect(parseEngineInfo('[["driver-type","io.containerd.snapshotter.v1"]]\tnull\tnull')).toMatchObject({
      mirrors: [],
      insecureRegistries: [],
    });
    // A line in the format before the insecure registries were asked for.
    expect(parseEngineInfo('[["driver-type","io.containerd.snapshotter.v1"]]\tnull').insecureRegistries).toEqual([]);
    expect(parseEngineInfo('garbage')).toMatchObject({ mirrors: [], insecureRegistries: [] });
  });
});

describe("the engine's info from its API (captured GET /info: Docker 28.5 with the containerd store, Docker 26.1 with the classic one, both with a mirror)", () => {
  it.each([
    ['docker-api-info-containerd.json', 'docker-info-engine.txt', true],
    ['docker-api-info-classic.json', 'docker-info-classic.txt', false],
  ])('%s gives what docker info printed for the same engine (%s)', (api, cli, containerd) => {
    const info = engineInfoFromApi(fixture(api));
    expect(info).toEqual(parseEngineInfo(fixture(cli)));
    expect(isContainerdStore(info.driverStatus)).toBe(containerd);
    expect(info.mirrors).toEqual(['http://localhost:5000']);
    expect(info.insecureRegistries).toContain('localhost:5000');
    expect(info.insecureRegistries).not.toContain('docker.io');
  });
  it('an engine without mirrors or registry config: none', () => {
    expect(engineInfoFromApi('{"DriverStatus":null,"RegistryConfig":null}')).toEqual({
      driverStatus: 'null',
      mirrors: [],
      insecureRegistries: [],
    });
  });
  it('a body that is not JSON throws (the caller then asks docker info)', () => {
    expect(() => engineInfoFromApi('<html>')).toThrow();
  });
});

describe("the CLI's current context, by docker/cli's rules (resolveContextName)", () => {
  it.each([
    ['nothing set, no config file', {}, undefined, 'default'],
    ['an empty config file', {}, '', 'default'],
    ['a config without currentContext', {}, '{"auths":{}}', 'default'],
    ["the config's currentContext", {}, '{"currentContext":"remote"}', 'remote'],
    ['DOCKER_CONTEXT over the config', { DOCKER_CONTEXT: 'ci' }, '{"currentContext":"remote"}', 'ci'],
    ['DOCKER_HOST over DOCKER_CONTEXT: the default context', { DOCKER_HOST: 'unix:///x.sock', DOCKER_CONTEXT: 'ci' }, undefined, 'default'],
    ['an empty DOCKER_HOST counts as unset', { DOCKER_HOST: '', DOCKER_CONTEXT: 'ci' }, undefined, 'ci'],
    ['a config that is not JSON: unknown, ask the CLI', {}, '{nope', undefined],
  ])('%s', (_, env, config, want) => {
    expect(contextFromConfig(env, config)).toBe(want);
  });
});

describe('the engine socket asked directly', () => {
  it.each([
    ['the default context, DOCKER_HOST unset', {}, 'default', 'linux', '/var/run/docker.sock'],
    ['a unix DOCKER_HOST', { DOCKER_HOST: 'unix:///run/leg/docker.sock' }, 'default', 'linux', '/run/leg/docker.sock'],
    ['a tcp DOCKER_HOST: the CLI', { DOCKER_HOST: 'tcp://127.0.0.1:2376' }, 'default', 'linux', undefined],
    ['an ssh DOCKER_HOST: the CLI', { DOCKER_HOST: 'ssh://me@host' }, 'default', 'linux', undefined],
    ['a named context: the CLI', {}, 'remote', 'linux', undefined],
    ['Windows (a named pipe): the CLI', {}, 'default', 'win32', undefined],
    ['an empty unix:// host: the CLI', { DOCKER_HOST: 'unix://' }, 'default', 'linux', undefined],
  ] as const)('%s', (_, env, context, platform, want) => {
    expect(engineSocket(env, context, platform)).toBe(want);
  });
});
