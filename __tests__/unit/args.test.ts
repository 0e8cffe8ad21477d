import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArgs, chooseOutput, defaultProvenance, hasGate, ownExportSplit, type BuildPlan } from '../../src/imagebuild/args.js';
import { fixture } from './helpers.js';
import { workflowContext } from '../../src/context.js';
import { buildId } from '../../src/settings/names.js';
import { cacheEntries } from '../../src/cacherefs/refs.js';
import { appendNodeArgs, createBuilderArgs, type CreateOptions } from '../../src/buildx/builder.js';
import type { BuildFlags } from '../../src/settings/types.js';

const NO_FLAGS: BuildFlags = {
  addHosts: [],
  allow: [],
  annotations: [],
  attests: [],
  buildContexts: [],
  noCache: false,
  noCacheFilters: [],
  pull: false,
  ssh: [],
  ulimit: [],
  secretRefs: [],
  outputs: [],
  load: false,
};

const base: BuildPlan = {
  builder: 'default',
  driver: 'docker',
  settings: {
    file: '/ws/Dockerfile',
    context: '/ws',
    platforms: ['linux/amd64', 'linux/arm64'],
    tags: [],
    buildArgs: [],
    labels: [],
    flags: NO_FLAGS,
  },
  cache: { from: [], to: [] },
  secretFiles: [],
  metadataFile: '/tmp/m.json',
  output: { kind: 'engine' },
};
const head = [
  'build',
  '--builder',
  'default',
  '--progress=rawjson',
  '--metadata-file',
  '/tmp/m.json',
  '--file',
  '/ws/Dockerfile',
  '--platform',
  'linux/amd64,linux/arm64',
];

describe('buildx build argv', () => {
  it.each<[string, Partial<BuildPlan> & { s?: Partial<BuildPlan['settings']> }, string[]]>([
    ['minimal, docker driver keeps the image in the engine', {}, [...head, '--output', 'type=image,push=false', '/ws']],
    [
      "an image in the engine also gets the run's own local tag, which the smoke test and the push go through",
      { localTag: 'go-buildx-run:0123abcd', s: { tags: ['r/a:1'] } },
      [...head, '--tag', 'r/a:1', '--tag', 'go-buildx-run:0123abcd', '--output', 'type=image,push=false', '/ws'],
    ],
    [
      'a staged image has no local tag, whatever the plan says',
      { localTag: 'go-buildx-run:0123abcd', output: { kind: 'stage', repository: 'r/a' } },
      [...head, '--output', 'type=image,name=r/a,push-by-digest=true,name-canonical=true,push=true', '/ws'],
    ],
    [
      'tags, args, labels, target',
      { s: { tags: ['r/a:1', 'r/a:2'], buildArgs: ['V=1'], labels: ['k=v'], target: 'final' } },
      [
        ...head,
        '--tag',
        'r/a:1',
        '--tag',
        'r/a:2',
        '--build-arg',
        'V=1',
        '--label',
        'k=v',
        '--target',
        'final',
        '--output',
        'type=image,push=false',
        '/ws',
      ],
    ],
    [
      'secrets go by file, never by value',
      { secretFiles: [{ id: 'netrc', path: '/tmp/s/secret-0' }] },
      [...head, '--secret', 'id=netrc,src=/tmp/s/secret-0', '--output', 'type=image,push=false', '/ws'],
    ],
    [
      'host network on the docker driver needs no entitlement',
      { s: { network: 'host' } },
      [...head, '--network', 'host', '--output', 'type=image,push=false', '/ws'],
    ],
    [
      'host network on docker-container asks for network.host; push goes through BuildKit',
      { driver: 'docker-container', s: { network: 'host' }, output: { kind: 'registry' } },
      [...head, '--network', 'host', '--allow', 'network.host', '--output', 'type=image,push=true', '/ws'],
    ],
    [
      'docker-container without push exports an OCI tarball',
      { driver: 'docker-container', output: { kind: 'oci', dest: '/tmp/i.tar' } },
      [...head, '--output', 'type=oci,dest=/tmp/i.tar', '/ws'],
    ],
    [
      'cache entries and attestations',
      { cache: { from: ['type=registry,ref=r/c:x'], to: ['type=registry,ref=r/c:x,mode=max'] }, s: { provenance: 'false', sbom: 'true' } },
      [
        ...head,
        '--cache-from',
        'type=registry,ref=r/c:x',
        '--cache-to',
        'type=registry,ref=r/c:x,mode=max',
        '--provenance=false',
        '--sbom=true',
        '--output',
        'type=image,push=false',
        '/ws',
      ],
    ],
    [
      "every docker/build-push-action pass-through input, in buildx's own flags",
      {
        s: {
          flags: {
            ...NO_FLAGS,
            addHosts: ['docker:10.180.0.1', 'db=10.0.0.2'],
            allow: ['security.insecure'],
            annotations: ['index:org.opencontainers.image.description=an api'],
            attests: ['type=sbom,generator=image'],
            buildContexts: ['alpine=docker-image://alpine:3.20', 'shared=./shared'],
            cgroupParent: 'ci',
            noCache: true,
            noCacheFilters: ['builder'],
            pull: true,
            shmSize: '128m',
            ssh: ['default', 'github=/home/runner/.ssh/id_ed25519'],
            ulimit: ['nofile=1024:1024'],
            secretRefs: ['id=token,env=GH_TOKEN', 'id=cert,src=/ws/cert.pem'],
          },
        },
      },
      [
        ...head,
        '--secret',
        'id=token,env=GH_TOKEN',
        '--secret',
        'id=cert,src=/ws/cert.pem',
        '--add-host',
        'docker:10.180.0.1',
        '--add-host',
        'db=10.0.0.2',
        '--allow',
        'security.insecure',
        '--annotation',
        'index:org.opencontainers.image.description=an api',
        '--attest',
        'type=sbom,generator=image',
        '--build-context',
        'alpine=docker-image://alpine:3.20',
        '--build-context',
        'shared=./shared',
        '--cgroup-parent',
        'ci',
        '--no-cache',
        '--no-cache-filter',
        'builder',
        '--pull',
        '--shm-size',
        '128m',
        '--ssh',
        'default',
        '--ssh',
        'github=/home/runner/.ssh/id_ed25519',
        '--ulimit',
        'nofile=1024:1024',
        '--output',
        'type=image,push=false',
        '/ws',
      ],
    ],
    [
      'allow: network.host is asked for once when network: host already asked for it (docker-container)',
      { driver: 'docker-container', output: { kind: 'registry' }, s: { network: 'host', flags: { ...NO_FLAGS, allow: ['network.host'] } } },
      [...head, '--network', 'host', '--allow', 'network.host', '--output', 'type=image,push=true', '/ws'],
    ],
    [
      "outputs replace the action's own output",
      { output: { kind: 'custom', outputs: ['type=local,dest=out', 'type=tar,dest=img.tar'] } },
      [...head, '--output', 'type=local,dest=out', '--output', 'type=tar,dest=img.tar', '/ws'],
    ],
    [
      'call: check builds no image, so there is no output',
      { output: { kind: 'none' }, s: { flags: { ...NO_FLAGS, call: 'check' } } },
      [...head, '--call', 'check', '/ws'],
    ],
    [
      'load on docker-container without push: the docker exporter puts it in the engine',
      { driver: 'docker-container', output: { kind: 'engine', load: true }, s: { flags: { ...NO_FLAGS, load: true } } },
      [...head, '--output', 'type=docker', '/ws'],
    ],
    [
      'load on docker-container with push: the engine gets a copy too',
      { driver: 'docker-container', output: { kind: 'registry' }, s: { flags: { ...NO_FLAGS, load: true } } },
      [...head, '--output', 'type=image,push=true', '--output', 'type=docker', '/ws'],
    ],
  ])('%s', (_name, over, want) => {
    const plan: BuildPlan = { ...base, ...over, settings: { ...base.settings, ...over.s } };
    expect(buildArgs(plan)).toEqual(want);
  });
});

describe('output choice', () => {
  it.each([
    ['docker', false, true, 'engine'],
    ['docker', true, true, 'engine'],
    ['docker-container', true, false, 'registry'],
    ['docker-container', true, true, 'stage'],
    ['docker-container', false, true, 'oci'],
  ])('%s push=%s gated=%s → %s', (driver, push, smoke, kind) => {
    expect(
      chooseOutput(driver, push as boolean, smoke as boolean, ['ghcr.io/acme/app:1', 'ghcr.io/acme/app:latest'], '/tmp/x.tar').kind,
    ).toBe(kind);
  });
  it('a size budget alone is a gate: with the smoke test off, the image is still staged, so no tag moves before the budget passed', () => {
    const off = { smoke: { enabled: false } };
    expect(chooseOutput('docker-container', true, hasGate({ ...off, maxImageSize: 20e6 }), ['ghcr.io/acme/app:1'], '/x').kind).toBe(
      'stage',
    );
    expect(chooseOutput('docker-container', true, hasGate(off), ['ghcr.io/acme/app:1'], '/x').kind).toBe('registry');
    expect(hasGate({ smoke: { enabled: true } })).toBe(true);
  });
  it("stages in the first tag's repository, keeping a registry port", () => {
    expect(chooseOutput('docker-container', true, true, ['localhost:5000/acme/app:1'], '/x')).toEqual({
      kind: 'stage',
      repository: 'localhost:5000/acme/app',
    });
  });
  it('stages by digest with no tags in the build itself', () => {
    const plan: BuildPlan = {
      ...base,
      driver: 'docker-container',
      settings: { ...base.settings, tags: ['r/a:1'] },
      output: { kind: 'stage', repository: 'r/a' },
    };
    expect(buildArgs(plan)).toEqual([...head, '--output', 'type=image,name=r/a,push-by-digest=true,name-canonical=true,push=true', '/ws']);
  });
});

describe('a run whose fingerprint matched the ref it writes: the build without that export, and the export alone', () => {
  const own = { ref: 'r/c:x-main', entry: 'type=registry,ref=r/c:x-main,mode=max,compression=zstd,ignore-error=true' };
  const plan: BuildPlan = {
    ...base,
    settings: {
      ...base.settings,
      tags: ['r/a:1'],
      labels: ['k=v'],
      buildArgs: ['V=1'],
      network: 'host',
      sbom: 'true',
      flags: { ...NO_FLAGS, attests: ['type=sbom'], annotations: ['a=b'], secretRefs: ['id=e,env=E'], ssh: ['default'] },
    },
    cache: { from: ['type=registry,ref=r/c:x-main'], to: [own.entry, 'type=gha,mode=max'], own },
    secretFiles: [{ id: 'netrc', path: '/tmp/s/secret-0' }],
  };
  const split = ownExportSplit(plan, '/tmp/e.json')!;
  it.each([
    [
      'the build keeps everything but the own export (the user’s cache-to stays)',
      buildArgs(split.keep),
      [
        ...head,
        '--tag',
        'r/a:1',
        '--build-arg',
        'V=1',
        '--label',
        'k=v',
        '--secret',
        'id=netrc,src=/tmp/s/secret-0',
        '--secret',
        'id=e,env=E',
        '--network',
        'host',
        '--cache-from',
        'type=registry,ref=r/c:x-main',
        '--cache-to',
        'type=gha,mode=max',
        '--sbom=true',
        '--annotation',
        'a=b',
        '--attest',
        'type=sbom',
        '--ssh',
        'default',
        '--output',
        'type=image,push=false',
        '/ws',
      ],
    ],
    [
      'the export alone: same inputs and cache, no tags, labels, attestations, secrets or image',
      buildArgs(split.exportOnly),
      [
        ...head.slice(0, 5),
        '/tmp/e.json',
        ...head.slice(6),
        '--build-arg',
        'V=1',
        '--network',
        'host',
        '--cache-from',
        'type=registry,ref=r/c:x-main',
        '--cache-to',
        own.entry,
        '--provenance=false',
        '--output',
        'type=cacheonly',
        '/ws',
      ],
    ],
  ])('%s', (_n, argv, want) => {
    expect(argv).toEqual(want);
  });
  it('nothing to split without an own export', () => {
    expect(ownExportSplit(base, '/tmp/e.json')).toBeUndefined();
  });
});

describe('cache entries: per platform set, build and scope', () => {
  const onMain = workflowContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' });
  const s = {
    cacheRef: { repository: 'ghcr.io/acme/c', tag: 'buildcache' },
    cacheMode: 'max' as const,
    cacheFrom: [],
    cacheTo: [],
    cacheStrict: false,
    platforms: ['linux/arm64', 'linux/amd64'],
    workflow: onMain,
    buildId: 'b1d',
    saveOn: 'all' as const,
  };
  const own = 'ghcr.io/acme/c:buildcache-linux-amd64_linux-arm64-b1d';
  const fork = workflowContext({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/7/merge', GITHUB_HEAD_REF: 'main' });
  it.each([
    ['none without cache-ref', { ...s, cacheRef: undefined }, { from: [], to: [] }],
    [
      'default branch: one ref read and written, export errors ignored',
      s,
      {
        from: [`type=registry,ref=${own}-main`],
        to: [`type=registry,ref=${own}-main,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true`],
      },
    ],
    [
      'feature branch: own ref first, then the default branch; writes its own',
      { ...s, workflow: workflowContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/feat/Login Page' }) },
      {
        from: [`type=registry,ref=${own}-feat-login-page..342b44bc`, `type=registry,ref=${own}-main`],
        to: [
          `type=registry,ref=${own}-feat-login-page..342b44bc,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true`,
        ],
      },
    ],
    [
      'a pull request from a fork whose head is main: its own pr-7 scope, never main',
      { ...s, workflow: fork },
      {
        from: [`type=registry,ref=${own}-pr-7`, `type=registry,ref=${own}-main`],
        to: [`type=registry,ref=${own}-pr-7,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true`],
      },
    ],
    [
      'the same pull request with save-on: default-branch writes nothing',
      { ...s, workflow: fork, saveOn: 'default-branch' as const },
      { from: [`type=registry,ref=${own}-pr-7`, `type=registry,ref=${own}-main`], to: [] },
    ],
    [
      'a matrix job with one platform has its own ref',
      { ...s, platforms: ['linux/arm64'] },
      {
        from: ['type=registry,ref=ghcr.io/acme/c:buildcache-linux-arm64-b1d-main'],
        to: [
          'type=registry,ref=ghcr.io/acme/c:buildcache-linux-arm64-b1d-main,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true',
        ],
      },
    ],
    [
      'another service (context, Dockerfile, target) on the same cache-ref has its own ref',
      { ...s, buildId: buildId('acme/app', 'worker', 'worker/Dockerfile', undefined) },
      {
        from: [
          `type=registry,ref=ghcr.io/acme/c:buildcache-linux-amd64_linux-arm64-${buildId('acme/app', 'worker', 'worker/Dockerfile', undefined)}-main`,
        ],
        to: [
          `type=registry,ref=ghcr.io/acme/c:buildcache-linux-amd64_linux-arm64-${buildId('acme/app', 'worker', 'worker/Dockerfile', undefined)}-main,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true`,
        ],
      },
    ],
    [
      'save-on: default-branch reads but does not write on other branches',
      { ...s, workflow: workflowContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/dev' }), saveOn: 'default-branch' as const },
      { from: [`type=registry,ref=${own}-dev`, `type=registry,ref=${own}-main`], to: [] },
    ],
    [
      'a tag push reads its own scope, then the default branch, and writes only tag-<name> (a tag can point at any commit)',
      { ...s, workflow: workflowContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3' }) },
      {
        from: [`type=registry,ref=${own}-tag-v1.2.3`, `type=registry,ref=${own}-main`],
        to: [`type=registry,ref=${own}-tag-v1.2.3,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true`],
      },
    ],
    [
      'a tag push with save-on: default-branch writes nothing',
      { ...s, workflow: workflowContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3' }), saveOn: 'default-branch' as const },
      { from: [`type=registry,ref=${own}-tag-v1.2.3`, `type=registry,ref=${own}-main`], to: [] },
    ],
    [
      'a workflow_run (GITHUB_REF is the default branch) reads event-workflow_run, then main, and writes nothing',
      { ...s, workflow: workflowContext({ GITHUB_EVENT_NAME: 'workflow_run', GITHUB_REF: 'refs/heads/main' }) },
      { from: [`type=registry,ref=${own}-event-workflow_run`, `type=registry,ref=${own}-main`], to: [] },
    ],
    [
      'strict mode lets export errors fail the build; raw entries follow',
      { ...s, cacheMode: 'min' as const, cacheStrict: true, cacheFrom: ['type=gha'], cacheTo: ['type=gha,mode=max'] },
      {
        from: [`type=registry,ref=${own}-main`, 'type=gha'],
        to: [
          `type=registry,ref=${own}-main,mode=min,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=false`,
          'type=gha,mode=max',
        ],
      },
    ],
  ])('%s', (_n, settings, want) => {
    const { own, ...entries } = cacheEntries(settings);
    expect(entries).toEqual(want);
    // The action's own export is named apart (the first cache-to entry), with the ref it writes.
    expect(own?.entry).toBe(want.to.find((t) => t.startsWith('type=registry,ref=ghcr.io/acme/c:')));
    if (own) expect(own.entry.startsWith(`type=registry,ref=${own.ref},`)).toBe(true);
  });
  it('a builder that cannot export (the docker driver on the classic image store) reads the layer cache and writes none', () => {
    const s0 = {
      cacheRef: { repository: 'ghcr.io/acme/c', tag: 'buildcache' },
      cacheMode: 'max' as const,
      cacheFrom: [],
      cacheTo: [],
      cacheStrict: false,
      saveOn: 'all' as const,
      platforms: ['linux/amd64'],
      buildId: 'b1d',
      workflow: workflowContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' }),
    };
    expect(cacheEntries(s0, false)).toEqual({ from: ['type=registry,ref=ghcr.io/acme/c:buildcache-linux-amd64-b1d-main'], to: [] });
    expect(cacheEntries(s0).own?.ref).toBe('ghcr.io/acme/c:buildcache-linux-amd64-b1d-main');
  });
  it('buildId changes with the repository, the context, the Dockerfile and the target', () => {
    const ids = new Set([
      buildId('acme/other', '.', 'Dockerfile', undefined),
      buildId('acme/app', '.', 'Dockerfile', undefined),
      buildId('acme/app', 'svc', 'svc/Dockerfile', undefined),
      buildId('acme/app', '.', 'Dockerfile.dev', undefined),
      buildId('acme/app', '.', 'Dockerfile', 'debug'),
    ]);
    expect(ids.size).toBe(5);
  });
});

const ENT = '--allow-insecure-entitlement network.host --allow-insecure-entitlement security.insecure';
const create = { name: 'gba-1', buildkitImage: 'moby/buildkit:buildx-stable-1', hostNetwork: false, driverOpts: [] as string[] };

describe('buildx create argv', () => {
  it.each<[string, CreateOptions, string[]]>([
    [
      'with appended nodes: the first node fixed to the platforms they leave, so buildx sends each where the user put it',
      { ...create, driver: 'remote', endpoint: 'tcp://127.0.0.1:1234', platforms: ['linux/amd64'] },
      ['create', '--name', 'gba-1', '--driver', 'remote', '--platform', 'linux/amd64', 'tcp://127.0.0.1:1234'],
    ],
    [
      'docker-container: the BuildKit image and the entitlements; booted later, by inspect --bootstrap',
      { ...create, driver: 'docker-container' },
      [
        'create',
        '--name',
        'gba-1',
        '--driver',
        'docker-container',
        '--driver-opt',
        'image=moby/buildkit:buildx-stable-1',
        '--buildkitd-flags',
        ENT,
      ],
    ],
    [
      'host network',
      { ...create, driver: 'docker-container', buildkitImage: 'mirror.local/buildkit:v0.16.0', hostNetwork: true },
      [
        'create',
        '--name',
        'gba-1',
        '--driver',
        'docker-container',
        '--driver-opt',
        'image=mirror.local/buildkit:v0.16.0',
        '--driver-opt',
        'network=host',
        '--buildkitd-flags',
        ENT,
      ],
    ],
    [
      'driver-opts as setup-buildx takes them: an image= there wins over buildkit-image; buildkitd-config',
      {
        ...create,
        driver: 'docker-container',
        hostNetwork: true,
        driverOpts: ['image=mirror.gcr.io/moby/buildkit:v0.18.2', 'network=bridge', 'memory=4g'],
        configFile: '/tmp/run/buildkitd.toml',
      },
      [
        'create',
        '--name',
        'gba-1',
        '--driver',
        'docker-container',
        '--driver-opt',
        'image=mirror.gcr.io/moby/buildkit:v0.18.2',
        '--driver-opt',
        'network=bridge',
        '--driver-opt',
        'memory=4g',
        '--buildkitd-config',
        '/tmp/run/buildkitd.toml',
        '--buildkitd-flags',
        ENT,
      ],
    ],
    [
      'remote: the endpoint, TLS through driver-opts, no image and no daemon flags (the daemon runs with its own)',
      {
        ...create,
        driver: 'remote',
        endpoint: 'tcp://buildkitd:1234',
        driverOpts: ['cacert=/certs/ca.pem', 'cert=/certs/cert.pem', 'key=/certs/key.pem'],
      },
      [
        'create',
        '--name',
        'gba-1',
        '--driver',
        'remote',
        '--driver-opt',
        'cacert=/certs/ca.pem',
        '--driver-opt',
        'cert=/certs/cert.pem',
        '--driver-opt',
        'key=/certs/key.pem',
        'tcp://buildkitd:1234',
      ],
    ],
    [
      'kubernetes: image and driver-opts, entitlements',
      { ...create, driver: 'kubernetes', driverOpts: ['namespace=ci', 'replicas=2'] },
      [
        'create',
        '--name',
        'gba-1',
        '--driver',
        'kubernetes',
        '--driver-opt',
        'image=moby/buildkit:buildx-stable-1',
        '--driver-opt',
        'namespace=ci',
        '--driver-opt',
        'replicas=2',
        '--buildkitd-flags',
        ENT,
      ],
    ],
  ])('%s', (_n, o, want) => {
    expect(createBuilderArgs(o)).toEqual(want);
  });

  it.each<[string, Parameters<typeof appendNodeArgs>, string[]]>([
    [
      'a remote arm64 node appended to a remote builder',
      [
        'gba-1',
        'remote',
        { name: 'arm64', endpoint: 'tcp://arm64-buildkitd:1234', platforms: ['linux/arm64'], driverOpts: ['cacert=/c/ca.pem'] },
      ],
      [
        'create',
        '--append',
        '--name',
        'gba-1',
        '--node',
        'arm64',
        '--platform',
        'linux/arm64',
        '--driver-opt',
        'cacert=/c/ca.pem',
        'tcp://arm64-buildkitd:1234',
      ],
    ],
    [
      'a docker-container node on another engine, with the same buildkitd config',
      [
        'gba-1',
        'docker-container',
        { endpoint: 'ssh://runner@arm64-host', platforms: ['linux/arm64', 'linux/arm/v7'], driverOpts: [] },
        '/tmp/b.toml',
      ],
      [
        'create',
        '--append',
        '--name',
        'gba-1',
        '--platform',
        'linux/arm64',
        '--platform',
        'linux/arm/v7',
        '--buildkitd-config',
        '/tmp/b.toml',
        '--buildkitd-flags',
        ENT,
        'ssh://runner@arm64-host',
      ],
    ],
  ])('append: %s', (_n, a, want) => {
    expect(appendNodeArgs(...a)).toEqual(want);
  });
});

describe("provenance when the input is empty: build-push-action's default", () => {
  // The captured push payload says "private": false; the same payload with true plays a private repository.
  const ctx = (priv: boolean) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-event-'));
    const payload = JSON.parse(fixture('events/push.payload.json'));
    fs.writeFileSync(path.join(dir, 'event.json'), JSON.stringify({ ...payload, repository: { ...payload.repository, private: priv } }));
    return workflowContext({
      GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_SERVER_URL: 'https://github.com',
    });
  };
  const run = 'https://github.com/acme/api/actions/runs/42/attempts/2';
  it.each<[string, { provenance?: string; flags?: Partial<BuildFlags>; priv?: boolean; canAttest?: boolean }, string | undefined]>([
    ['public repository: mode=max, the run as builder-id', {}, `mode=max,builder-id=${run}`],
    ['private repository: buildx default, inline-only', { priv: true }, `mode=min,inline-only=true,builder-id=${run}`],
    ['the input wins', { provenance: 'false' }, 'false'],
    ['the input wins, with its own mode', { provenance: 'mode=min' }, 'mode=min'],
    ['attests names provenance: none added', { flags: { attests: ['type=provenance,mode=max'] } }, undefined],
    ['load (the docker exporter): none', { flags: { load: true } }, undefined],
    ['outputs of type docker: none', { flags: { outputs: ['type=docker,dest=/tmp/i.tar'] } }, undefined],
    ['call: no image, none', { flags: { call: 'check' } }, undefined],
    ['a builder that cannot attach attestations (classic store, docker driver): none', { canAttest: false }, undefined],
  ])('%s', (_n, c, want) => {
    const s = { provenance: c.provenance, flags: { ...NO_FLAGS, ...c.flags }, workflow: ctx(c.priv ?? false) };
    expect(defaultProvenance(s, c.canAttest ?? true)).toBe(want);
  });
});
