// Issue 10: the paths real workflows take, run through the runner-faithful
// harness (every action.yml default, a real event payload, the post step,
// stdout read for workflow commands) against the real engine and registry.
// Each story has its own small app.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runAction } from '../../scripts/run-action.mjs';
import { type GoProxy, startGoProxy } from '../../scripts/goproxy.mjs';
import {
  buildxExecs,
  copyInto,
  engineUp,
  exampleWorkspace,
  occurrences,
  prune,
  registryManifest,
  registryTags,
  sh,
  uniqueRepo,
  workspace,
} from './engine.js';

const AMD64 = 'linux/amd64';

describe.runIf(engineUp)('user paths through the runner-faithful harness (real engine)', () => {
  it('a. no cache-ref: builds and pushes with every default; the Go caches are off, and an info line says why', async () => {
    const image = uniqueRepo('nocache');
    const r = await runAction({ tags: `${image}:1`, push: 'true', platforms: AMD64 }, { workspace: exampleWorkspace() });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(
      'Go caches are not carried across runs: no cache-ref to store them next to (set cache-ref, or go-cache-backend: gha)',
    );
    expect(r.commands.filter((c) => c.name === 'error' || c.name === 'warning')).toEqual([]);
    expect(await registryTags(image)).toEqual(['1']);
  });

  it('b. one platform with provenance: false over its budget: the size is known, the budget fails, nothing is pushed', async () => {
    const image = uniqueRepo('single');
    const r = await runAction(
      { tags: `${image}:1`, push: 'true', platforms: AMD64, provenance: 'false', 'max-image-size': '1MB' },
      { workspace: exampleWorkspace() },
    );
    expect(r.exitCode).toBe(1);
    const sizes = JSON.parse(r.outputs['image-sizes']);
    expect(sizes[AMD64].compressed).toBeGreaterThan(1e6);
    expect(Number(r.outputs['image-size'])).toBe(sizes[AMD64].compressed);
    expect(r.log).toMatch(/::error::Image over max-image-size, nothing was pushed: linux\/amd64 is [\d.]+ MB/);
    expect(r.log).not.toContain('Every platform is within');
    expect(await registryTags(image)).toEqual([]);
  });

  it('j. a pull request from a fork whose head branch is main, with save-on: default-branch, writes no cache', async () => {
    const cacheRef = uniqueRepo('fork-cache');
    const r = await runAction(
      { tags: `${uniqueRepo('fork')}:pr`, platforms: AMD64, 'cache-ref': cacheRef, 'save-on': 'default-branch', 'smoke-test': 'false' },
      { workspace: exampleWorkspace(), event: { kind: 'pull_request', number: 7, headRef: 'main', fork: true } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.eventPayload).toMatchObject({ number: 7, pull_request: { head: { ref: 'main', repo: { fork: true } } } });
    expect(r.log).toContain(`--cache-from","type=registry,ref=${cacheRef}:buildcache-linux-amd64-`);
    expect(r.log).not.toContain('--cache-to');
    expect(r.post.log).toContain('not saved (save-on: default-branch, and this run is for pull request #7, not a push to main)');
    expect(await registryTags(cacheRef)).toEqual([]);
  });

  it('k. cache-strict on the first build of a new cache-ref: a cold start, not a failure', async () => {
    const cacheRef = uniqueRepo('strict-cache');
    const r = await runAction(
      { tags: `${uniqueRepo('strict')}:1`, platforms: AMD64, 'cache-ref': cacheRef, 'cache-strict': 'true', 'smoke-test': 'false' },
      { workspace: exampleWorkspace() },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/No layer cache yet at .*strict-cache:buildcache-linux-amd64-[0-9a-f]{8}-main: a cold start/);
    expect(r.commands.filter((c) => c.name === 'warning' || c.name === 'error')).toEqual([]);
    expect((await registryTags(cacheRef)).some((t) => /^buildcache-linux-amd64-[0-9a-f]{8}-main$/.test(t))).toBe(true);
    // Strict mode exports the layer cache in the build itself, where a failure can still fail the step (post never fails).
    expect(r.log).toMatch(new RegExp(`"--cache-to","type=registry,ref=${cacheRef}:buildcache-linux-amd64-[0-9a-f]{8}-main,`));
    expect(r.post.log).not.toContain('Export the layer cache');
  });

  it('f. two services in a matrix on one cache-ref keep apart: after a prune each reads 100.0', async () => {
    const ws = workspace();
    copyInto(ws, 'example', 'a');
    copyInto(ws, 'example', 'b');
    const main = path.join(ws, 'b', 'main.go');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('"hello from %s\\n"', '"hello from service b, %s\\n"'));
    const cacheRef = uniqueRepo('matrix-cache');
    const build = (svc: string) =>
      runAction(
        { context: svc, tags: `${uniqueRepo(svc)}:1`, platforms: AMD64, 'cache-ref': cacheRef, 'smoke-test': 'false', 'go-cache': 'false' },
        { workspace: ws },
      );
    for (const svc of ['a', 'b']) expect((await build(svc)).exitCode).toBe(0);
    const refs = (await registryTags(cacheRef)).filter((t) => t.startsWith('buildcache-linux-amd64-'));
    expect(refs).toHaveLength(2);
    for (const svc of ['a', 'b']) {
      prune();
      const r = await build(svc);
      expect(r.exitCode, r.log).toBe(0);
      expect(r.outputs['cache-hit-rate'], svc).toBe('100.0');
    }
  });

  describe('with the local Go module proxy', () => {
    let proxy: GoProxy;
    beforeAll(async () => {
      proxy = await startGoProxy();
    });
    afterAll(() => proxy?.close());

    it('g, h. a monorepo built from the root (svc/go.sum, FROM an earlier stage): a go.sum change changes the module key', async () => {
      const sum = fs.readFileSync(path.join(ROOT, '__tests__', 'e2e', 'goservice', 'go.sum'), 'utf8').split('\n');
      const uuid = sum.filter((l) => l.startsWith('github.com/google/uuid v1.3.0')).join('\n') + '\n';
      const ws = workspace(undefined, {
        'svc/go.mod': 'module example.com/svc\n\ngo 1.24\n\nrequire github.com/google/uuid v1.3.0\n',
        'svc/go.sum': uuid,
        'svc/main.go':
          'package main\n\nimport (\n\t"fmt"\n\n\t"github.com/google/uuid"\n)\n\nfunc main() { fmt.Println(uuid.NewString()) }\n',
        'svc/Dockerfile': [
          'FROM --platform=$BUILDPLATFORM golang:1.24 AS base',
          'WORKDIR /src',
          'ENV CGO_ENABLED=0',
          'FROM base AS build',
          'ARG GOPROXY GOSUMDB',
          'COPY svc/go.mod svc/go.sum ./',
          'RUN --mount=type=cache,id=gomod,target=/go/pkg/mod go mod download',
          'COPY svc/ ./',
          'ARG TARGETOS TARGETARCH',
          'RUN --mount=type=cache,id=gomod,target=/go/pkg/mod --mount=type=cache,id=gobuild,target=/root/.cache/go-build \\',
          '    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w" -o /out/app .',
          'FROM scratch',
          'COPY --from=build /out/app /app',
          'USER 65532:65532',
          'ENTRYPOINT ["/app"]',
          '',
        ].join('\n'),
        '.dockerignore': '.git\n',
      });
      const cacheRef = uniqueRepo('mono-cache');
      const build = () =>
        runAction(
          {
            file: 'svc/Dockerfile',
            tags: `${uniqueRepo('mono')}:1`,
            platforms: AMD64,
            network: 'host',
            'build-args': `GOPROXY=${proxy.url}\nGOSUMDB=off`,
            'cache-ref': cacheRef,
            'smoke-test': 'false',
          },
          { workspace: ws },
        );
      prune();
      proxy.reset();
      const cold = await build();
      expect(cold.exitCode, cold.log).toBe(0);
      expect(proxy.stats().zipDownloads).toBe(1);
      // The helper builds run on the real image behind "FROM base AS build".
      expect(cold.post.log).toMatch(/GOMODCACHE: saved [\d.]+ [kM]B/);
      const modTags = async () => (await registryTags(cacheRef)).filter((t) => /^buildcache-gomod-[0-9a-f]{16}-main$/.test(t));
      expect(await modTags()).toHaveLength(1);

      // go.sum gains lines (of a module the build does not need): a new module set, a new key.
      fs.appendFileSync(path.join(ws, 'svc', 'go.sum'), sum.filter((l) => l.startsWith('github.com/beorn7/perks')).join('\n') + '\n');
      prune();
      proxy.reset();
      const changed = await build();
      expect(changed.exitCode, changed.log).toBe(0);
      const restored = JSON.parse(changed.outputs['go-cache-restored']);
      expect(restored.mod.match).toBe('branch');
      expect(changed.outputs['go-cache-hit']).toBe('false');
      expect(proxy.stats().zipDownloads).toBe(0);
      expect(changed.post.log).toMatch(/GOMODCACHE: saved [\d.]+ [kM]B/);
      expect(await modTags()).toHaveLength(2);
    });
  });

  it('e. an image that prints workflow commands, at build time and while failing its smoke test, steers nothing', async () => {
    const ws = workspace(undefined, {
      'go.mod': 'module example.com/hostile\n\ngo 1.24\n',
      'main.go': [
        'package main',
        '',
        'import (',
        '\t"fmt"',
        '\t"os"',
        ')',
        '',
        'func main() {',
        '\tfmt.Println("::error::INJECTED error from the container")',
        '\tfmt.Println("::add-mask::INJECTED-container-mask")',
        '\tfmt.Println("::set-output name=pushed::INJECTED")',
        '\tfmt.Println("::stop-commands::INJECTEDTOKEN")',
        '\tfmt.Println("::warning::INJECTED after a stop of its own")',
        '\tfmt.Print("partial\\r::error::INJECTED after a carriage return\\n")',
        '\tos.Exit(1)',
        '}',
        '',
      ].join('\n'),
      Dockerfile: [
        'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
        'WORKDIR /src',
        'COPY . .',
        'ARG NONCE',
        "RUN echo \"$NONCE\" && echo '::error::INJECTED by a RUN step' && echo '::add-mask::INJECTED-build-mask' && echo '::notice::INJECTED notice'",
        'ARG TARGETOS TARGETARCH',
        'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w" -o /out/app .',
        'FROM scratch',
        'COPY --from=build /out/app /app',
        'USER 65532:65532',
        'ENTRYPOINT ["/app"]',
        '',
      ].join('\n'),
      '.dockerignore': '.git\n',
    });
    const image = uniqueRepo('hostile');
    const r = await runAction(
      { tags: `${image}:1`, push: 'true', platforms: AMD64, 'build-args': `NONCE=${crypto.randomUUID()}` },
      { workspace: ws, allowUnintended: true },
    );
    expect(r.exitCode).toBe(1);
    // What the build and the container printed is in the log...
    expect(r.log).toContain('::error::INJECTED by a RUN step');
    expect(r.log).toContain('::error::INJECTED error from the container');
    // ...but the runner obeys none of it.
    expect(r.unintended).toEqual([]);
    // The only mask the action sends here is its own, of the job's token (the github-token input's default).
    const obeyed = [...r.commands, ...r.post.commands].filter(
      (c) => c.message.startsWith('INJECTED') || (c.name === 'add-mask' && !/^ghs_[a-z0-9]+$/.test(c.message)),
    );
    expect(obeyed).toEqual([]);
    // The action's own failure is still an error the runner sees, and nothing was pushed.
    expect(r.commands.some((c) => c.name === 'error' && c.message.startsWith('Smoke test failed, nothing was pushed.'))).toBe(true);
    expect(await registryTags(image)).toEqual([]);
  });

  it("l. a multi-line PEM secret in build-push-action's quoted form reaches the build whole, and shows nowhere", async () => {
    const pem = [
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
      'QyNTUxOQAAACDmvJbm2P2z8k4tGv0kXy9fQqXhGJm7ZKpE4eNx2h1uMwAAAJgtest0000',
      '-----END OPENSSH PRIVATE KEY-----',
    ].join('\n');
    const ws = workspace(undefined, {
      Dockerfile: [
        'FROM golang:1.24',
        'ARG NONCE',
        'RUN --mount=type=secret,id=ssh_key echo "$NONCE" && sha256sum /run/secrets/ssh_key',
        '',
      ].join('\n'),
      '.dockerignore': '*\n',
    });
    const r = await runAction(
      {
        secrets: `"ssh_key=${pem}"\nGIT_AUTH_TOKEN=abcdef123456`,
        platforms: AMD64,
        'smoke-test': 'false',
        'build-args': `NONCE=${crypto.randomUUID()}`,
        lint: 'off',
      },
      { workspace: ws },
    );
    expect(r.exitCode, r.log).toBe(0);
    const want = crypto.createHash('sha256').update(pem).digest('hex');
    expect(r.log).toContain(`${want}  /run/secrets/ssh_key`);
    // Masked before anything else: whole, and line by line.
    const masks = r.commands.filter((c) => c.name === 'add-mask').map((c) => c.message);
    expect(masks).toEqual(expect.arrayContaining([pem, 'abcdef123456', pem.split('\n')[1]]));
    for (const line of pem.split('\n').slice(1, 3)) expect(occurrences(r.log.replace(/^::add-mask::.*$/gm, ''), line)).toBe(0);
  });

  it('p. a backport release compares with the tags already in the registry: 1.2 moves, 1 and latest do not', async () => {
    const image = uniqueRepo('backport');
    const ws = exampleWorkspace();
    // An earlier release pipeline pushed 1.3.0, 1.3, 1 and latest.
    const first = await runAction(
      { image, push: 'true', platforms: AMD64, 'smoke-test': 'false' },
      { workspace: ws, event: { kind: 'tag', tag: 'v1.3.0' } },
    );
    expect(first.exitCode, first.log).toBe(0);
    expect((await registryTags(image)).sort()).toEqual(['1', '1.3', '1.3.0', 'latest', 'sha-6113728']);
    // The backport's shallow checkout has no git tags at all.
    const r = await runAction(
      { image, push: 'true', platforms: AMD64, 'smoke-test': 'false' },
      { workspace: ws, event: { kind: 'tag', tag: 'v1.2.5' } },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.tags.split('\n')).toEqual([`${image}:1.2.5`, `${image}:1.2`, `${image}:sha-6113728`]);
    const latest = await registryManifest(image, 'latest');
    const v130 = await registryManifest(image, '1.3.0');
    expect(latest!.digest).toBe(v130!.digest);
  });

  it('p. an image and no branch, tag or commit to name tags after: an error on image, before anything runs', async () => {
    const r = await runAction(
      { image: uniqueRepo('noref'), push: 'true' },
      { workspace: exampleWorkspace(), env: { GITHUB_REF: '', GITHUB_SHA: '' } },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/::error::Input "image" is invalid: ".*noref" gives no default tags: the run has no branch, tag or commit/);
    expect(r.log).not.toContain('--progress=rawjson');
  });

  it('r. the pushed digest is read from the registry itself', async () => {
    const image = uniqueRepo('digest');
    const r = await runAction(
      { tags: `${image}:1`, push: 'true', platforms: AMD64, 'smoke-test': 'false' },
      { workspace: exampleWorkspace() },
    );
    expect(r.exitCode, r.log).toBe(0);
    const { digestInRegistry } = await import('../../src/publish/push.js');
    expect(await digestInRegistry(`${image}:1`)).toBe(r.outputs.digest);
    expect(await digestInRegistry(`${image}:nope`)).toBeUndefined();
  });

  it('t. a builder whose create fails is recorded first, so the post step removes it', async () => {
    const r = await runAction(
      // A BuildKit image that is not there (on the loopback registry, so nothing leaves the machine).
      { driver: 'docker-container', 'buildkit-image': `${uniqueRepo('no-buildkit')}:1`, platforms: AMD64 },
      { workspace: exampleWorkspace() },
    );
    expect(r.exitCode).toBe(1);
    // It fails on the image, not on an argv buildx does not take (buildx create has no --label).
    expect(r.log).not.toMatch(/unknown flag/);
    const name = r.saved.createdBuilder;
    expect(name).toMatch(/^gba-/);
    expect(r.post.log).toContain(`Removing builder ${name}`);
    expect(sh('docker', ['buildx', 'ls'])).not.toContain(name);
  });

  it('o. a compile error is built once: no retry', async () => {
    const ws = workspace('example', { 'main.go': 'package main\n\nfunc main() {\n\tprintln("no closing brace")\n' });
    const r = await runAction({ platforms: AMD64, 'smoke-test': 'false' }, { workspace: ws });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/syntax error: unexpected EOF/);
    expect(r.log).toContain('Build attempt 1 failed: not a module download failure');
    expect(r.log).not.toContain('Retrying the build');
    expect(buildxExecs(r.log, 'build').filter((l) => l.includes('"build","--builder","default","--progress=rawjson"'))).toHaveLength(1);
  });
});
