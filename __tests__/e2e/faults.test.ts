// Issue 6: faults are survived (or fail clearly), secrets never leak, and a
// cancelled run leaves nothing behind. Real engine, real registry, real Go
// module proxy with injected faults.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, savedValue } from '../../scripts/run-action.mjs';
import { type GoProxy, startGoProxy } from '../../scripts/goproxy.mjs';
import {
  engineUp,
  exampleWorkspace,
  leftoverContainers,
  prune,
  registryBlob,
  registryManifest,
  registryTags,
  secretScan,
  startRegistry,
  stopRegistry,
  uniqueRepo,
  workspace,
} from './engine.js';

describe.runIf(engineUp)('faults, private modules and cancellation (real engine)', () => {
  let proxy: GoProxy;
  let ws: string;
  const repo = uniqueRepo('faults');

  beforeAll(async () => {
    proxy = await startGoProxy();
    ws = workspace('__tests__/e2e/goservice');
  });
  afterAll(() => proxy?.close());

  const goservice = (extra: Record<string, string>, via: GoProxy = proxy) => ({
    platforms: 'linux/amd64',
    network: 'host',
    'build-args': `GOPROXY=${via.url}\nGOSUMDB=off`,
    'smoke-test': 'false',
    ...extra,
  });

  it('a GOPROXY failing the first 3 requests with 503 is retried with backoff, and the retry reuses the cached steps', async () => {
    prune();
    proxy.reset();
    Object.assign(proxy.faults, { remaining: 3, status: 503, auth: undefined });
    const r = await runAction(goservice({ tags: `${repo}:retry` }), { workspace: ws });
    expect(r.exitCode, r.log).toBe(0);
    expect(proxy.stats().failed).toBe(3);
    expect(r.log).toMatch(/Build attempt 1 failed: transient: 503 Service Unavailable \(go: .*503 Service Unavailable\)/);
    expect(r.log).toMatch(/::warning::Retrying the build \(attempt 2 of 3\) in 1s after a transient: 503 Service Unavailable/);
    // In the second attempt everything before the failed step comes from cache.
    const second = r.log.slice(r.log.indexOf('::warning::Retrying'));
    expect(second).toMatch(/#\d+ \[builder 3\/6\] COPY go\.mod go\.sum \.\/\n#\d+ CACHED/);
    expect(proxy.stats().zipDownloads).toBe(28);
  });

  it('a permanent failure (410 Gone) is not retried', async () => {
    prune();
    proxy.reset();
    Object.assign(proxy.faults, { remaining: 1, status: 410, auth: undefined });
    const r = await runAction(goservice({ tags: `${repo}:gone`, push: 'true' }), { workspace: ws });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('Build attempt 1 failed: permanent: a module is gone (410)');
    expect(r.log).not.toContain('Retrying the build');
    expect(r.log).toMatch(/::error::Build failed: process "\/bin\/sh -c go mod download" did not complete successfully/);
    expect(await registryTags(repo)).not.toContain('gone');
  });

  // The go command sends netrc credentials only over HTTPS (GOAUTH, Go 1.24),
  // so this proxy serves TLS with the test CA that the golang stand-in trusts.
  describe('private modules behind basic auth, over HTTPS', () => {
    const secret = `gba-s3cr3t-${Math.random().toString(36).slice(2, 10)}`;
    const cacheRef = uniqueRepo('faults-cache');
    let tlsProxy: GoProxy;
    beforeAll(async () => {
      tlsProxy = await startGoProxy({ tls: true, auth: `ci:${secret}` });
    });
    afterAll(() => tlsProxy?.close());

    it('without the credential the build fails clearly and is not retried', async () => {
      prune();
      const r = await runAction(goservice({ tags: `${repo}:noauth` }, tlsProxy), { workspace: ws });
      expect(r.exitCode).toBe(1);
      expect(r.log).toMatch(/#\d+ go: .*: reading https:\/\/127\.0\.0\.1:\d+\/.*: 401 Unauthorized/);
      expect(r.log).toContain('Build attempt 1 failed: permanent: the module proxy refused the credentials (401)');
    });

    it('with go-netrc it builds, and the secret appears nowhere: layers, config, history, cache image, log', async () => {
      prune();
      tlsProxy.reset();
      const tag = `${repo}:private`;
      const r = await runAction(
        goservice(
          {
            tags: tag,
            push: 'true',
            'cache-ref': cacheRef,
            'go-private': 'example.com/private/*',
            // Go 1.24 matches netrc machines against host:port (cmd/go/internal/auth
            // loadCredential), so a proxy on a non-default port is named with it.
            'go-netrc': `machine 127.0.0.1:${tlsProxy.port} login ci password ${secret}`,
          },
          tlsProxy,
        ),
        { workspace: ws },
      );
      expect(r.exitCode, r.log).toBe(0);
      expect(tlsProxy.stats().unauthorized).toBe(0);
      expect(tlsProxy.stats().zipDownloads).toBe(28);

      // It went in as a BuildKit secret and GOPRIVATE as a build arg.
      expect(r.log).toMatch(/"--secret","id=netrc,src=[^"]+\/secrets\/secret-0"/);
      expect(r.log).toContain('"--build-arg","GOPRIVATE=example.com/private/*"');
      // The runner hides these commands and masks the values from then on.
      const masks = r.log.split('\n').filter((l) => l.startsWith('::add-mask::'));
      expect(masks.some((l) => l === `::add-mask::${secret}`)).toBe(true);

      // Every image under the cache ref: the layer cache and the Go module and build caches.
      const cacheTags = await registryTags(cacheRef);
      expect(
        cacheTags.some((t) => t.startsWith('buildcache-linux-amd64-')),
        'the layer cache was exported',
      ).toBe(true);
      expect(
        cacheTags.some((t) => t.startsWith('buildcache-gomod-')),
        'the module cache was saved',
      ).toBe(true);
      expect(
        cacheTags.some((t) => t.startsWith('buildcache-gobuild-')),
        'the build cache was saved',
      ).toBe(true);
      const { found, control, cacheControl } = await secretScan({
        secret,
        logs: { main: r.log, post: r.post.log },
        repo,
        tag: 'private',
        cacheRepo: cacheRef,
        // Positive controls: the same scan must find what is known to be there.
        control: 'nonroot:x:65532',
        cacheControl: { tagPrefix: 'buildcache-gomod-', needle: '.zip' },
      });
      expect(cacheControl, 'the scan reads the module cache: it finds module zips in it').toBeGreaterThan(0);
      expect(control, 'the scan finds the /etc/passwd entry it knows is in a layer').toBeGreaterThan(0);
      const total = Object.values(found).reduce((a, b) => a + b, 0);
      console.log(`secret scan: ${Object.keys(found).length} places, ${total} occurrence(s)`, found);
      expect(Object.keys(found).length).toBeGreaterThan(8);
      expect(total).toBe(0);
    });
  });

  it('a registry that rejects the push (401) fails the step with its message and leaves no tag', async () => {
    const port = 5002;
    const dir = `/tmp/gba-registry-auth-${process.pid}`;
    const htpasswd = `${dir}.htpasswd`;
    const hash = execFileSync('python3', ['-c', 'import crypt;print(crypt.crypt("right", crypt.mksalt(crypt.METHOD_BLOWFISH)))'], {
      encoding: 'utf8',
    }).trim();
    fs.writeFileSync(htpasswd, `ci:${hash}\n`);
    startRegistry(port, dir, htpasswd);
    try {
      const r = await runAction(
        { tags: `localhost:${port}/e2e/hello:1`, push: 'true', platforms: 'linux/amd64', 'smoke-test': 'false' },
        { workspace: exampleWorkspace() },
      );
      expect(r.exitCode).toBe(1);
      expect(r.log).toMatch(
        /::error::Push of localhost:5002\/e2e\/hello:1 failed: .*(no basic auth credentials|unauthorized|authentication required)/,
      );
      const catalog = execFileSync('curl', ['-s', '-u', 'ci:right', `http://127.0.0.1:${port}/v2/_catalog`], { encoding: 'utf8' });
      expect(JSON.parse(catalog).repositories).toEqual([]);
    } finally {
      stopRegistry(port, dir);
    }
  });

  it('with the cache registry down at import, the build runs cold: hit rate 0.0, with a warning', async () => {
    // Nothing listens on 5001 here (a registry that is down looks the same).
    expect(spawnSync('curl', ['-s', 'http://127.0.0.1:5001/v2/']).status).not.toBe(0);
    prune();
    const r = await runAction(
      { platforms: 'linux/amd64', 'cache-ref': 'localhost:5001/down/cache', 'smoke-test': 'false' },
      { workspace: exampleWorkspace() },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs['cache-hit-rate']).toBe('0.0');
    expect(r.log).toMatch(/::warning::Cache import failed .*connection refused/);
    // The layer cache is exported by the post step, which warns in turn.
    expect(r.post.log).toMatch(/::warning::Cache export failed/);
    expect(r.post.exitCode).toBe(0);
  });

  it('two runs at once with the same cache-ref both succeed, and the cache they leave serves a third run fully', async () => {
    const cacheRef = uniqueRepo('shared-cache');
    const image = uniqueRepo('hello');
    // Each run pushes to its own repository: the local registry (distribution 2.8, filesystem storage)
    // can answer "blob unknown" to one manifest PUT while another client commits the same blob to the
    // same repository at that moment (seen once here). What is under test is the shared cache-ref.
    const other = uniqueRepo('hello-b');
    prune();
    const [a, b] = await Promise.all([
      runAction({ tags: `${image}:a`, push: 'true', 'cache-ref': cacheRef }, { workspace: exampleWorkspace() }),
      runAction({ tags: `${other}:b`, push: 'true', 'cache-ref': cacheRef }, { workspace: exampleWorkspace() }),
    ]);
    expect(a.exitCode, a.log).toBe(0);
    expect(b.exitCode, b.log).toBe(0);
    expect(await registryTags(image)).toEqual(['a']);
    expect(await registryTags(other)).toEqual(['b']);
    prune();
    const c = await runAction({ tags: `${image}:c`, 'cache-ref': cacheRef }, { workspace: exampleWorkspace() });
    expect(c.exitCode, c.log).toBe(0);
    expect(c.outputs['cache-hit-rate']).toBe('100.0');
  });

  it('SIGTERM mid-build stops the build; the post step removes the temp files, and nothing is left running', async () => {
    prune();
    proxy.reset();
    let tempDir = '';
    let tempDuringCancel = false;
    const r = await runAction(goservice({ tags: `${repo}:cancel`, 'smoke-test': 'true', 'health-path': '/healthz' }), {
      workspace: ws,
      signal: 'SIGTERM',
      // Once `go build` runs, which takes tens of seconds cold.
      signalWhen: (log) => /#\d+ \[builder 6\/6\] RUN/.test(log),
      beforePost: (main) => {
        tempDir = savedValue(main.state.tempDir);
        tempDuringCancel = fs.existsSync(tempDir);
      },
    });
    expect(r.exitCode).toBe(143);
    expect(r.log).toMatch(/::error::Cancelled by SIGTERM; stopped 1 running command\(s\)/);
    expect(tempDuringCancel, 'the temp dir survives main and is left to post').toBe(true);
    expect(fs.existsSync(path.join(tempDir, 'secrets'))).toBe(false);
    expect(r.post.exitCode).toBe(0);
    expect(fs.existsSync(tempDir)).toBe(false);
    // The buildx client was stopped with the action, so its build is gone too.
    expect(spawnSync('pgrep', ['-f', tempDir]).status).not.toBe(0);
    expect(leftoverContainers()).toEqual([]);
    expect(await registryTags(repo)).not.toContain('cancel');
  });

  it('provenance passes through as in docker/build-push-action', async () => {
    const image = uniqueRepo('hello');
    const ex = exampleWorkspace();
    const off = await runAction(
      { tags: `${image}:noprov`, push: 'true', platforms: 'linux/amd64', provenance: 'false', 'smoke-test': 'false' },
      { workspace: ex },
    );
    expect(off.exitCode, off.log).toBe(0);
    expect(off.log).toContain('"--provenance=false"');
    const plain = await registryManifest(image, 'noprov');
    const entries = plain!.body.manifests ?? [];
    expect(entries.filter((m: any) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest')).toEqual([]);

    const max = await runAction(
      { tags: `${image}:maxprov`, push: 'true', platforms: 'linux/amd64', provenance: 'mode=max', 'smoke-test': 'false' },
      { workspace: ex },
    );
    expect(max.exitCode, max.log).toBe(0);
    const idx = await registryManifest(image, 'maxprov');
    const att = (idx!.body.manifests as any[]).find((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest');
    expect(att).toBeDefined();
    const attManifest = await registryManifest(image, att.digest);
    expect(attManifest!.body.layers.map((l: any) => l.annotations?.['in-toto.io/predicate-type'])).toContain(
      'https://slsa.dev/provenance/v0.2',
    );

    // Empty, in a public repository (the captured payload says so): build-push-action's default, mode=max
    // with the run as builder-id.
    const dflt = await runAction(
      { tags: `${image}:default`, push: 'true', platforms: 'linux/amd64', 'smoke-test': 'false' },
      { workspace: ex },
    );
    expect(dflt.exitCode, dflt.log).toBe(0);
    const runUrl = /"--provenance=mode=max,builder-id=(https:\/\/github\.com\/[^/]+\/[^/]+\/actions\/runs\/\d+\/attempts\/\d+)"/.exec(
      dflt.log,
    )?.[1];
    expect(runUrl, dflt.log).toBeDefined();
    const dIdx = await registryManifest(image, 'default');
    const dAtt = (dIdx!.body.manifests as any[]).find((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest');
    const dAttManifest = await registryManifest(image, dAtt.digest);
    const layer = dAttManifest!.body.layers.find(
      (l: any) => l.annotations?.['in-toto.io/predicate-type'] === 'https://slsa.dev/provenance/v0.2',
    );
    const statement = JSON.parse((await registryBlob(image, layer.digest)).toString('utf8'));
    expect(statement.predicate.builder.id).toBe(runUrl);
    // mode=max records the build's definition; mode=min does not.
    expect(statement.predicate.buildConfig).toBeDefined();
  });
});
