import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError, parseList, parseSettings, repositoryOf } from '../../src/settings.js';

let ws: string;
beforeAll(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-settings-'));
  fs.mkdirSync(path.join(ws, 'svc'));
  fs.writeFileSync(path.join(ws, 'svc', 'Dockerfile'), 'FROM scratch\n');
  fs.writeFileSync(path.join(ws, 'Dockerfile'), 'FROM scratch\n');
});

function parse(inputs: Record<string, string>) {
  return parseSettings((name) => inputs[name] ?? '', { GITHUB_WORKSPACE: ws });
}

describe('defaults', () => {
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
  ['cache-ref', 'GHCR.io/Acme/Cache', /"cache-ref" is invalid: "GHCR\.io\/Acme\/Cache" is not a valid registry reference/],
  ['cache-ref', 'ghcr.io/acme/Cache', /not a valid registry reference/],
  ['cache-ref', 'ghcr.io/acme/cache@sha256:' + 'a'.repeat(64), /without a digest/],
  ['cache-ref', 'ghcr.io/acme/my cache', /not a valid registry reference/],
  ['cache-ref', 'ghcr.io//cache', /not a valid registry reference/],
  ['tags', 'ghcr.io/acme/app:my tag', /"tags" is invalid: "ghcr\.io\/acme\/app:my tag" is not a valid image reference/],
  ['tags', 'ghcr.io/acme/App:1', /not a valid image reference/],
  ['tags', 'ghcr.io/acme/app:,x', /not a valid image reference/],
  ['push', 'yes-please', /"push" is invalid: "yes-please" is not a boolean\. Accepted: true or false/],
  ['push', 'true', /needs at least one entry in "tags"/],
  ['cache-strict', '1', /"cache-strict" is invalid: "1" is not a boolean/],
  ['cache-mode', 'maximum', /"cache-mode" is invalid: "maximum" is not a known value\. Accepted: min, max/],
  ['driver', 'kubernetes', /"driver" is invalid: "kubernetes" is not a known value\. Accepted: auto, docker, docker-container/],
  ['context', 'does-not-exist', /"context" is invalid: "does-not-exist" is not a directory/],
  ['context', 'https://github.com/acme/app.git', /remote context/],
  ['file', 'missing/Dockerfile', /"file" is invalid: "missing\/Dockerfile" does not exist/],
  ['file', '/etc/passwd', /"file" is invalid: "\/etc\/passwd" is outside the workspace/],
  ['file', '../outside/Dockerfile', /is outside the workspace/],
  ['buildx-version', 'latest-ish', /"buildx-version" is invalid: "latest-ish" is not a version/],
  ['buildx-version', '0.11.2', /older than 0\.12\.0/],
  ['buildx-download-url', 'ftp://example.invalid/buildx', /not an http\(s\) URL/],
  ['secrets', 'JUSTATOKEN', /"secrets" is invalid: "<an entry without an equals sign>" is not of the form id=value/],
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

  it('never echoes a secret value in the error', () => {
    expect(() => parse({ secrets: 'ok=1\nsup3rs3cret' })).toThrow(InputError);
    try {
      parse({ secrets: 'ok=1\nsup3rs3cret' });
    } catch (e) {
      expect((e as Error).message).not.toContain('sup3rs3cret');
    }
  });
});
