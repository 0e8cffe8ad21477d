import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { InputError, type Settings } from '../../src/settings/types.js';
import { parseList } from '../../src/settings/values.js';
import { parseSettings } from '../../src/settings/parse.js';
import { repositoryOf } from '../../src/ref.js';
import { ACTION_DEFAULTS, FIXTURES, runnerInputs } from './helpers.js';

let ws: string;
beforeAll(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-settings-'));
  fs.mkdirSync(path.join(ws, 'svc'));
  fs.writeFileSync(path.join(ws, 'svc', 'Dockerfile'), 'FROM scratch\n');
  fs.writeFileSync(path.join(ws, 'Dockerfile'), 'FROM scratch\n');
});

/** Parses the inputs as a runner passes them: every action.yml default, then these. */
function parse(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}, mask?: (v: string) => void) {
  return parseSettings(runnerInputs(inputs), { GITHUB_WORKSPACE: ws, ...env }, mask);
}

describe('defaults', () => {
  it('the defaults a runner passes for every input, plus only tags, parse (no cache-ref, go-cache: true)', () => {
    expect(ACTION_DEFAULTS['go-cache']).toBe('true');
    expect(ACTION_DEFAULTS['cache-ref']).toBe('');
    const s = parse({ tags: 'ghcr.io/acme/api:1' });
    expect(s.tags).toEqual(['ghcr.io/acme/api:1']);
    expect(s.goCache).toMatchObject({
      enabled: false,
      offReason: 'no cache-ref to store them next to (set cache-ref, or go-cache-backend: gha)',
    });
  });

  it('needs no input at all', () => {
    const s = parse({});
    expect(s).toMatchObject({
      context: ws,
      file: path.join(ws, 'Dockerfile'),
      platforms: ['linux/amd64', 'linux/arm64'],
      tags: [],
      push: false,
      cacheMode: 'max',
      driver: 'auto',
      cacheStrict: false,
      buildxDownloadUrl: 'https://github.com/docker/buildx/releases/download',
      buildkitImage: 'moby/buildkit:buildx-stable-1',
    });
    expect(s.cacheRef).toBeUndefined();
  });

  it('parses lists the way docker/build-push-action does', () => {
    const s = parse({
      context: 'svc',
      platforms: 'linux/arm64\nlinux/amd64',
      tags: 'ghcr.io/acme/app:1.2.3,ghcr.io/acme/app:latest\nlocalhost:5000/app',
      push: 'TRUE',
      'build-args': 'VERSION=1.2.3\nLIST=a,b,c\n\nGOFLAGS',
      labels: 'org.opencontainers.image.title=app, with comma',
      secrets: 'netrc=machine x login y password p=q',
      'cache-ref': 'ghcr.io/acme/app-cache',
      'cache-mode': 'min',
    });
    expect(s.file).toBe(path.join(ws, 'svc', 'Dockerfile'));
    expect(s.platforms).toEqual(['linux/arm64', 'linux/amd64']);
    expect(s.tags).toEqual(['ghcr.io/acme/app:1.2.3', 'ghcr.io/acme/app:latest', 'localhost:5000/app']);
    expect(s.push).toBe(true);
    expect(s.buildArgs).toEqual(['VERSION=1.2.3', 'LIST=a,b,c', 'GOFLAGS']);
    expect(s.labels).toEqual(['org.opencontainers.image.title=app, with comma']);
    expect(s.secrets).toEqual([{ id: 'netrc', value: 'machine x login y password p=q' }]);
    expect(s.cacheRef).toEqual({ repository: 'ghcr.io/acme/app-cache', tag: 'buildcache' });
    expect(s.cacheMode).toBe('min');
  });

  it('keeps an explicit cache tag and a registry port', () => {
    expect(parse({ 'cache-ref': 'localhost:5000/cache:main' }).cacheRef).toEqual({ repository: 'localhost:5000/cache', tag: 'main' });
    expect(parse({ 'cache-ref': 'localhost:5000/cache' }).cacheRef).toEqual({ repository: 'localhost:5000/cache', tag: 'buildcache' });
  });

  it.each([
    ['localhost:5000/acme/app:1.2.3', 'localhost:5000/acme/app'],
    ['localhost:5000/acme/app', 'localhost:5000/acme/app'],
    ['ghcr.io/acme/app@sha256:' + 'a'.repeat(64), 'ghcr.io/acme/app'],
    ['acme/app:latest', 'acme/app'],
  ])('repository of %s is %s', (ref, want) => {
    expect(repositoryOf(ref)).toBe(want);
  });

  it('parseList keeps empty entries for the caller to reject', () => {
    expect(parseList('a,,b', { commas: true })).toEqual(['a', '', 'b']);
    expect(parseList('a\n\nb', { commas: false })).toEqual(['a', 'b']);
  });
});

// Every bad input: [input, value, what the message must contain, extra inputs]
const BAD: [string, string, RegExp, Record<string, string>?][] = [
  ['platforms', 'linux/amd65', /"linux\/amd65" is not a known platform\. Accepted: linux\/amd64/],
  ['platforms', 'linux/amd64,,linux/arm64', /has an empty entry/],
  ['platforms', 'linux/amd64,', /has an empty entry/],
  ['platforms', 'windows/amd64', /not a known platform/],
  ['platforms', 'linux/arm64,linux/arm64', /listed twice/],
  ['platforms', 'amd64', /not a known platform/],
  ['cache-ref', 'GHCR.io/Acme/my cache', /"cache-ref" is invalid: "GHCR\.io\/Acme\/my cache" is not a valid registry reference/],
  ['cache-ref', 'ghcr.io/acme/cache:bad tag', /not a valid registry reference/],
  ['cache-ref', 'ghcr.io/acme/cache@sha256:' + 'a'.repeat(64), /without a digest/],
  ['cache-ref', 'ghcr.io/acme/my cache', /not a valid registry reference/],
  ['cache-ref', 'ghcr.io//cache', /not a valid registry reference/],
  ['tags', 'ghcr.io/acme/app:my tag', /"tags" is invalid: "ghcr\.io\/acme\/app:my tag" is not a valid image reference/],
  ['tags', 'ghcr.io/acme//app:1', /not a valid image reference/],
  ['tags', 'ghcr.io/acme/app:,x', /not a valid image reference/],
  ['push', 'yes-please', /"push" is invalid: "yes-please" is not a boolean\. Accepted: true or false/],
  ['push', 'true', /needs at least one entry in "tags"/],
  ['cache-strict', '1', /"cache-strict" is invalid: "1" is not a boolean/],
  ['cache-mode', 'maximum', /"cache-mode" is invalid: "maximum" is not a known value\. Accepted: min, max/],
  ['driver', 'podman', /"driver" is invalid: "podman" is not a known value\. Accepted: auto, docker, docker-container, remote, kubernetes/],
  ['endpoint', '', /"endpoint" is invalid: "" is needed with driver: remote\. Accepted: the BuildKit address/, { driver: 'remote' }],
  [
    'append',
    '- endpoint: tcp://arm:1234',
    /"append" is invalid: .* needs a builder that takes nodes, not driver: docker/,
    { driver: 'docker' },
  ],
  ['append', 'name: arm', /"append" is invalid: "name: arm" is not a list/, { driver: 'remote', endpoint: 'tcp://a:1' }],
  [
    'append',
    '- endpoint: tcp://arm:1234\n  platform: linux/arm64',
    /"append" is invalid: "<node 1>" has unknown keys platform/,
    { driver: 'remote', endpoint: 'tcp://a:1' },
  ],
  [
    'append',
    '- platforms: linux/arm65',
    /"append" is invalid: "<node 1> platforms linux\/arm65" is not a known platform/,
    { driver: 'remote', endpoint: 'tcp://a:1' },
  ],
  ['driver-opts', 'image=moby/buildkit:v0.18.2', /"driver-opts" is invalid: .* cannot configure the docker driver/, { driver: 'docker' }],
  [
    'buildkitd-config',
    'no/such.toml',
    /"buildkitd-config" is invalid: "no\/such.toml" is not a file in the workspace/,
    { driver: 'docker-container' },
  ],
  [
    'buildkitd-config-inline',
    '[worker.oci]',
    /cannot be combined with buildkitd-config/,
    { driver: 'docker-container', 'buildkitd-config': 'Dockerfile' },
  ],
  ['context', 'does-not-exist', /"context" is invalid: "does-not-exist" is not a directory/],
  ['context', 'https://github.com/acme/app.git', /remote context/],
  ['file', 'missing/Dockerfile', /"file" is invalid: "missing\/Dockerfile" does not exist/],
  ['file', '/etc/passwd', /"file" is invalid: "\/etc\/passwd" is outside the workspace/],
  ['file', '../outside/Dockerfile', /is outside the workspace/],
  ['buildx-version', 'latest-ish', /"buildx-version" is invalid: "latest-ish" is not a version/],
  ['buildx-version', '0.12.1', /older than 0\.13\.0, the oldest buildx the action is tested with/],
  ['buildx-download-url', 'ftp://example.invalid/buildx', /not an https URL/],
  [
    'buildx-download-url',
    'http://mirror.example/buildx',
    /"buildx-download-url" is invalid: "http:\/\/mirror\.example\/buildx" is not an https URL \(plain http is accepted only for a loopback host\)/,
  ],
  ['secrets', 'JUSTATOKEN', /"secrets" is invalid: "<entry 1 of 1>" has no "=" between id and value/],
  ['context', '../..', /"context" is invalid: "\.\.\/\.\." is outside the workspace/],
  ['secrets', '=value', /empty id/],
  ['build-args', '1BAD=x', /"build-args" is invalid: "1BAD=x" has an invalid key/],
  ['labels', '=x', /"labels" is invalid/],
  ['target', 'my stage', /"target" is invalid/],
  ['network', 'host network', /"network" is invalid/],
  ['builder', 'my builder', /"builder" is invalid/],
  ['buildkit-image', 'Moby/BuildKit', /"buildkit-image" is invalid/],
  ['qemu-image', 'tonistiigi/binfmt:bad tag', /"qemu-image" is invalid/],
  ['max-image-size', '20 megabytes', /"max-image-size" is invalid: "20 megabytes" is not a size\. Accepted: a positive number/],
  ['max-image-size', '-1MB', /"max-image-size" is invalid/],
  ['max-image-size', '0', /"max-image-size" is invalid/],
  ['max-image-size', 'MB', /"max-image-size" is invalid/],
  ['go-cache', 'yes', /"go-cache" is invalid: "yes" is not a boolean/],
  ['go-cache-backend', 's3', /"go-cache-backend" is invalid: "s3" is not a known value\. Accepted: registry, gha/],
  ['go-cache-mounts', '/go/pkg/mod', /"go-cache-mounts" is invalid: "\/go\/pkg\/mod" is not of the form mod=/],
  ['go-cache-mounts', 'mod=/a,test=/b', /"go-cache-mounts" is invalid: "test=\/b"/],
  ['go-cache-max-size', 'lots', /"go-cache-max-size" is invalid: "lots" is not a size/],
  ['go-cache-image', 'Busybox', /"go-cache-image" is invalid/],
  ['save-on', 'main', /"save-on" is invalid: "main" is not a known value\. Accepted: all, default-branch/],
  ['image', 'ghcr.io/acme/api:1.0', /"image" is invalid: "ghcr.io\/acme\/api:1.0" is not a repository name/],
  ['push-by-digest', 'true', /"push-by-digest" is invalid: "true" needs push: true/, { image: 'r/app' }],
  [
    'push-by-digest',
    'true',
    /cannot be combined with merge: true/,
    { push: 'true', image: 'r/app', merge: 'true', digests: `sha256:${'a'.repeat(64)}` },
  ],
  ['merge', 'true', /"merge" is invalid: "true" needs the per-platform digests/, { tags: 'r/app:1' }],
  ['merge', 'true', /needs "tags" \(or an "image" name/, { digests: `sha256:${'a'.repeat(64)}` }],
  ['digests', 'sha256:abc', /"digests" is invalid: "sha256:abc" is not a digest/, { merge: 'true', tags: 'r/app:1' }],
  ['digests', `sha256:${'a'.repeat(64)}`, /is only used with merge: true/],
  ['lint', 'loud', /"lint" is invalid: "loud" is not a known value\. Accepted: off, warn, strict/],
  [
    'secret-envs',
    'token=GBA_UNSET_VAR',
    /"secret-envs" is invalid: "token=GBA_UNSET_VAR" names the environment variable GBA_UNSET_VAR, which is not set/,
  ],
  ['secret-envs', 'TOKEN', /"secret-envs" is invalid: "<entry 1 of 1>" is not id=ENV/],
  ['secret-files', 'cert=no/such/file.pem', /"secret-files" is invalid: "cert=no\/such\/file.pem" names .* which is not a file/],
  ['build-contexts', 'shared', /"build-contexts" is invalid: "shared" is not name=source/],
  ['build-contexts', 'shared=../../etc', /"build-contexts" is invalid: .* outside the workspace/],
  ['call', 'Check Me', /"call" is invalid: "Check Me" is not a method\. Accepted: build, check, outline or targets/],
  ['call', 'check', /"call" is invalid: "check" builds no image, so there is nothing to push/, { push: 'true', tags: 'r/a:1' }],
  [
    'outputs',
    'type=local,dest=out',
    /"outputs" is invalid: "type=local,dest=out" cannot be combined with push: true/,
    { push: 'true', tags: 'r/a:1' },
  ],
  ['outputs', 'type=local,dest=out', /cannot be combined with load: true/, { load: 'true' }],
  [
    'max-image-size',
    '20MB',
    /"max-image-size" is invalid: .* needs the image in the engine or a registry, which outputs replaces/,
    { outputs: 'type=local,dest=out' },
  ],
  ['no-cache', 'maybe', /"no-cache" is invalid: "maybe" is not a boolean/],
  ['load', 'yes', /"load" is invalid/],
  ['pull', '1', /"pull" is invalid/],
];

describe('bad inputs', () => {
  it(`has at least 25 cases (${BAD.length})`, () => {
    expect(BAD.length).toBeGreaterThanOrEqual(25);
  });

  it.each(BAD)('%s: %j is rejected', (input, value, message, extra) => {
    let err: unknown;
    try {
      parse({ ...extra, [input]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe(input);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/Accepted: /);
  });

  it('masks every secret value (and each line of a multi-line one) before it rejects anything, and names no part of it', () => {
    const masked: string[] = [];
    let err: Error | undefined;
    try {
      parse({ secrets: 'ok=val-one\n-----BEGIN KEY-----\nMIIBsup3rs3cretLINE==\n-----END KEY-----' }, {}, (v) => masked.push(v));
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(err!.message).toMatch(/"<entry 2 of 4>" has no "=" between id and value/);
    for (const part of ['val-one', 'MIIBsup3rs3cret', 'BEGIN KEY']) expect(err!.message).not.toContain(part);
    expect(masked).toEqual(expect.arrayContaining(['val-one', 'MIIBsup3rs3cretLINE==']));
  });

  it('never echoes a secret value in the error', () => {
    expect(() => parse({ secrets: 'ok=1\nsup3rs3cret' })).toThrow(InputError);
    try {
      parse({ secrets: 'ok=1\nsup3rs3cret' });
    } catch (e) {
      expect((e as Error).message).not.toContain('sup3rs3cret');
    }
  });
});

describe('docker/setup-buildx-action builder options', () => {
  it('append as setup-buildx takes it: a YAML list of nodes, lists as YAML or CSV', () => {
    const s = parse({
      driver: 'remote',
      endpoint: 'tcp://amd64:1234',
      'driver-opts': 'cacert=/c/ca.pem\ncert=/c/cert.pem',
      'buildkitd-config-inline': '[registry."docker.io"]\n  mirrors = ["mirror.gcr.io"]',
      append:
        '- name: arm64\n  endpoint: tcp://arm64:1234\n  platforms: linux/arm64,linux/arm/v7\n  driver-opts:\n    - cacert=/c/ca.pem\n- endpoint: tcp://riscv:1234\n  platforms: [linux/riscv64]',
    });
    expect(s.builderOptions).toEqual({
      driverOpts: ['cacert=/c/ca.pem', 'cert=/c/cert.pem'],
      buildkitdConfig: undefined,
      buildkitdConfigInline: '[registry."docker.io"]\n  mirrors = ["mirror.gcr.io"]',
      endpoint: 'tcp://amd64:1234',
      append: [
        { name: 'arm64', endpoint: 'tcp://arm64:1234', platforms: ['linux/arm64', 'linux/arm/v7'], driverOpts: ['cacert=/c/ca.pem'] },
        { name: undefined, endpoint: 'tcp://riscv:1234', platforms: ['linux/riscv64'], driverOpts: [] },
      ],
    });
  });
});

describe('docker/build-push-action inputs added for the drop-in', () => {
  it('secret-envs and secret-files mask the values they point at, and pass only the reference', () => {
    const dir = fs.mkdtempSync(path.join(ws, '.gba-secret-'));
    try {
      fs.writeFileSync(path.join(dir, 'cert.pem'), 'line-one-s3cret\nline-two-s3cret\n');
      const masked: string[] = [];
      const s = parse(
        { 'secret-envs': 'token=GBA_TEST_TOKEN,other=GBA_OTHER', 'secret-files': `cert=${path.relative(ws, dir)}/cert.pem` },
        { GBA_TEST_TOKEN: 'env-s3cret-value', GBA_OTHER: 'other-s3cret-value' },
        (v) => masked.push(v),
      );
      expect(s.flags.secretRefs).toEqual([
        'id=token,env=GBA_TEST_TOKEN',
        'id=other,env=GBA_OTHER',
        `id=cert,src=${path.join(dir, 'cert.pem')}`,
      ]);
      expect(masked).toEqual(expect.arrayContaining(['env-s3cret-value', 'other-s3cret-value', 'line-one-s3cret', 'line-two-s3cret']));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no-cache turns the Go caches off, saying why', () => {
    expect(parse({ 'no-cache': 'true', 'cache-ref': 'ghcr.io/acme/c' }).goCache).toMatchObject({
      enabled: false,
      offReason: 'no-cache: true',
    });
  });

  it('lists as build-push-action splits them: newline or comma; call: build is the default build', () => {
    const s = parse({ 'add-hosts': 'a:1.2.3.4,b:5.6.7.8', allow: 'network.host\nsecurity.insecure', call: 'build' });
    expect(s.flags.addHosts).toEqual(['a:1.2.3.4', 'b:5.6.7.8']);
    expect(s.flags.allow).toEqual(['network.host', 'security.insecure']);
    expect(s.flags.call).toBeUndefined();
  });
});

describe('secrets as docker/build-push-action takes them', () => {
  const pem =
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\nAAAAC3NzaC1lZDI1NTE5AAAAIK\n-----END OPENSSH PRIVATE KEY-----';
  it('a quoted entry whose value spans lines is one secret, masked whole and line by line', () => {
    const masked: string[] = [];
    const s = parse({ secrets: `"ssh_key=${pem}"\nGIT_AUTH_TOKEN=abc123def` }, {}, (v) => masked.push(v));
    expect(s.secrets).toEqual([
      { id: 'ssh_key', value: pem },
      { id: 'GIT_AUTH_TOKEN', value: 'abc123def' },
    ]);
    expect(masked).toEqual(expect.arrayContaining([pem, 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==', 'abc123def']));
  });
  it('a value with commas and "=" stays whole', () => {
    expect(parse({ secrets: 'conn=host=a,port=5,user=b' }).secrets).toEqual([{ id: 'conn', value: 'host=a,port=5,user=b' }]);
  });
});

describe('workspace paths', () => {
  it('a context or Dockerfile reached through a symlink out of the workspace is rejected', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-outside-'));
    fs.writeFileSync(path.join(outside, 'Dockerfile'), 'FROM scratch\n');
    const link = `link-${path.basename(outside)}`;
    fs.symlinkSync(outside, path.join(ws, link));
    expect(() => parse({ context: link })).toThrow(/"context" is invalid: .* is outside the workspace/);
    expect(() => parse({ file: `${link}/Dockerfile` })).toThrow(/"file" is invalid: .* is outside the workspace/);
  });
  it('an image name is lowercased, as docker/metadata-action does', () => {
    expect(parse({ image: 'ghcr.io/Acme/API' }).image).toBe('ghcr.io/acme/api');
  });
  it.each([
    [
      'docker docs, name= quoted',
      { outputs: 'type=image,"name=ghcr.io/Acme/App",push-by-digest=true,name-canonical=true,push=true' },
      'ghcr.io/acme/app',
    ],
    [
      'build-push-action test, two names',
      {
        outputs:
          'type=image,"name=localhost:5000/name/app:latest,localhost:5000/name/app:foo",push-by-digest=true,name-canonical=true,push=true',
      },
      'localhost:5000/name/app',
    ],
    [
      'older docs: the repository in tags',
      { outputs: 'type=image,push-by-digest=true,name-canonical=true,push=true', tags: 'ghcr.io/acme/app' },
      'ghcr.io/acme/app',
    ],
    ['type=registry implies push', { outputs: 'type=registry,push-by-digest=true', image: 'ghcr.io/acme/app' }, 'ghcr.io/acme/app'],
  ])("docker's push-by-digest recipe in outputs (%s) runs as push-by-digest, so the digest is smoke-tested first", (_n, inputs, image) => {
    const s = parse(inputs);
    expect(s).toMatchObject({ pushByDigest: true, push: true, image });
    expect(s.flags.outputs).toEqual([]);
  });
  it('outputs with attributes beyond the recipe stay as written; the recipe without a repository is refused, naming outputs', () => {
    const keep = 'type=image,name=ghcr.io/acme/app,push-by-digest=true,push=true,compression=zstd';
    expect(parse({ outputs: keep })).toMatchObject({ pushByDigest: false, flags: { outputs: [keep] } });
    expect(() => parse({ outputs: 'type=image,push-by-digest=true,push=true' })).toThrow(
      /"outputs" is invalid: "type=image,push-by-digest=true,push=true" pushes by digest but names no repository\. Accepted: name=<repository> in outputs, or image/,
    );
  });
  it('tags and cache-ref: the repository part lowercased with an info line each, the tag kept as written', () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const s = parse({ tags: 'ghcr.io/Acme/API:V1.2.3\nghcr.io/acme/api:latest', 'cache-ref': 'ghcr.io/Acme/API-cache:Build' });
    const printed = stdout.mock.calls.map((c) => String(c[0])).join('');
    stdout.mockRestore();
    expect(s.tags).toEqual(['ghcr.io/acme/api:V1.2.3', 'ghcr.io/acme/api:latest']);
    expect(s.cacheRef).toEqual({ repository: 'ghcr.io/acme/api-cache', tag: 'Build' });
    expect(printed).toContain('tags: ghcr.io/Acme/API:V1.2.3 is pushed as ghcr.io/acme/api:V1.2.3');
    expect(printed).toContain('cache-ref: ghcr.io/Acme/API-cache:Build is pushed as ghcr.io/acme/api-cache:Build');
    expect(printed).not.toContain('ghcr.io/acme/api:latest is pushed');
  });
});

describe('Go cache settings', () => {
  it.each([
    ['off without cache-ref', {}, { enabled: false, backend: 'registry', maxBytes: 2e9 }],
    ['on with cache-ref', { 'cache-ref': 'ghcr.io/acme/c' }, { enabled: true, backend: 'registry' }],
    ['off when asked, even with cache-ref', { 'cache-ref': 'ghcr.io/acme/c', 'go-cache': 'false' }, { enabled: false }],
    ['gha needs no cache-ref', { 'go-cache-backend': 'gha' }, { enabled: true, backend: 'gha' }],
    [
      'explicit mounts and cap',
      { 'cache-ref': 'r/c', 'go-cache-mounts': 'mod=/go/pkg/mod,build=gobuild', 'go-cache-max-size': '500MiB' },
      { mounts: { mod: '/go/pkg/mod', build: 'gobuild' }, maxBytes: 500 * 1024 ** 2 },
    ],
  ])('%s', (_n, inputs, want) => {
    expect(parse(inputs).goCache).toMatchObject(want);
  });

  it('scope, default branch and run id come from the workflow context', () => {
    const s = parse(
      { 'save-on': 'default-branch' },
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/dev', GITHUB_RUN_ID: '99', GITHUB_RUN_ATTEMPT: '2' },
    );
    expect([s.workflow.scope, s.workflow.defaultBranch, s.workflow.runId, s.saveOn]).toEqual(['dev', 'main', '99-2', 'default-branch']);
  });
});

describe('no Dockerfile and a go.mod: the built-in Dockerfile', () => {
  const module = (goMod: string) => {
    const dir = fs.mkdtempSync(path.join(ws, 'mod-'));
    fs.writeFileSync(path.join(dir, 'go.mod'), goMod);
    return path.relative(ws, dir);
  };
  it.each([
    ['go line', 'module x\n\ngo 1.24\n', {}, { goVersion: '1.24', goMain: '.', cgo: false, baseImage: undefined, ldflags: '' }],
    ['toolchain line wins', 'module x\n\ngo 1.23\ntoolchain go1.24.3\n', {}, { goVersion: '1.24.3' }],
    [
      'inputs',
      'module x\n\ngo 1.24\n',
      { 'go-version': '1.25', 'go-main': './cmd/api', 'base-image': 'scratch', ldflags: '-X main.commit=abc' },
      { goVersion: '1.25', goMain: './cmd/api', baseImage: 'scratch', ldflags: '-X main.commit=abc' },
    ],
    ['static is the default', 'module x\n\ngo 1.24\n', { 'base-image': 'static' }, { baseImage: undefined }],
  ])('%s', (_n, goMod, inputs, want) => {
    expect(parse({ context: module(goMod), ...inputs }).zeroConfig).toMatchObject(want);
  });

  it.each([
    ['no go line', 'module x\n', {}, /"go-version" is invalid: "<none in go.mod>" is needed/],
    ['a package outside the module', 'module x\ngo 1.24\n', { 'go-main': '../other' }, /"go-main" is invalid/],
    ['cgo on a base without libc', 'module x\ngo 1.24\n', { cgo: 'true' }, /"base-image" is invalid: "static" has no C library/],
    ['a bad base image', 'module x\ngo 1.24\n', { 'base-image': 'Not An Image' }, /"base-image" is invalid/],
  ])('%s is rejected', (_n, goMod, inputs, message) => {
    expect(() => parse({ context: module(goMod), ...inputs })).toThrow(message);
  });

  it('a Dockerfile in the context, or a file input, is used as it is', () => {
    expect(parse({ context: 'svc' }).zeroConfig).toBeUndefined();
  });
});

describe("the README's word on which list inputs split on commas", () => {
  const readme = fs.readFileSync(path.join(FIXTURES, '..', '..', 'README.md'), 'utf8');
  const para = readme.slice(readme.indexOf('Lists are parsed as CSV'), readme.indexOf('Durations take a unit'));
  const named = (after: string, before: string) =>
    [...para.slice(para.indexOf(after), para.indexOf(before, para.indexOf(after))).matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
  const commas = named('These split', 'These take one entry');
  const lines = named('These take one entry', '\u0000');
  // Each input, a value with one comma, and where the parsed entries land.
  const cases: Record<string, [Record<string, string>, (s: Settings) => unknown[]]> = {
    platforms: [{ platforms: 'linux/amd64,linux/arm64' }, (s) => s.platforms],
    tags: [{ tags: 'ghcr.io/a/b:1,ghcr.io/a/b:2' }, (s) => s.tags],
    digests: [{ merge: 'true', tags: 'ghcr.io/a/b:1', digests: `sha256:${'a'.repeat(64)},sha256:${'b'.repeat(64)}` }, (s) => s.digests],
    'add-hosts': [{ 'add-hosts': 'a:10.0.0.1,b:10.0.0.2' }, (s) => s.flags.addHosts],
    allow: [{ allow: 'network.host,security.insecure' }, (s) => s.flags.allow],
    'no-cache-filters': [{ 'no-cache-filters': 'a,b' }, (s) => s.flags.noCacheFilters],
    'go-private': [{ 'go-private': 'a.example.com,b.example.com' }, (s) => (s.goPrivate ?? '').split(',')],
    'go-cache-mounts': [
      { 'go-cache-mounts': 'mod=gomod,build=gobuild', 'cache-ref': 'ghcr.io/a/c' },
      (s) => Object.keys(s.goCache.mounts ?? {}),
    ],
    'smoke-platforms': [{ 'smoke-platforms': 'linux/amd64,linux/arm64' }, (s) => s.smoke.platforms],
    'smoke-add-hosts': [{ 'smoke-add-hosts': 'a:10.0.0.1,b:10.0.0.2' }, (s) => s.smoke.addHosts],
    'build-args': [{ 'build-args': 'A=1,2' }, (s) => s.buildArgs],
    labels: [{ labels: 'a=1,2' }, (s) => s.labels],
    secrets: [{ secrets: 'id=1,2' }, (s) => s.secrets],
    annotations: [{ annotations: 'a=1,2' }, (s) => s.flags.annotations],
    attests: [{ attests: 'type=sbom,generator=x' }, (s) => s.flags.attests],
    'build-contexts': [{ 'build-contexts': 'a=docker-image://alpine:3,b' }, (s) => s.flags.buildContexts],
    'cache-from': [{ 'cache-from': 'type=registry,ref=ghcr.io/a/c' }, (s) => s.cacheFrom],
    'cache-to': [{ 'cache-to': 'type=registry,ref=ghcr.io/a/c' }, (s) => s.cacheTo],
    'driver-opts': [
      { 'driver-opts': 'image=moby/buildkit:v0.20,network=host', driver: 'docker-container' },
      (s) => s.builderOptions.driverOpts,
    ],
    outputs: [{ outputs: 'type=local,dest=out' }, (s) => s.flags.outputs],
    'smoke-env': [{ 'smoke-env': 'A=1,2' }, (s) => s.smoke.env],
    'smoke-args': [{ 'smoke-args': '-x,y' }, (s) => s.smoke.args],
    ssh: [{ ssh: 'default,other' }, (s) => s.flags.ssh],
    ulimit: [{ ulimit: 'nofile=1024:1024,x' }, (s) => s.flags.ulimit],
  };
  it('names every list input once, and each is tested below', () => {
    expect([...commas, ...lines].sort()).toEqual(Object.keys(cases).sort());
  });
  it.each(Object.keys(cases))('%s splits as the README says', (name) => {
    const [inputs, entries] = cases[name];
    const s = parse(inputs);
    expect(entries(s), name).toHaveLength(commas.includes(name) ? 2 : 1);
  });
});
