// Release and matrix pipelines (issue 5) against the real engine and registry:
// push-by-digest then merge, the built-in Dockerfile, default tags and labels,
// the lint's annotations, and the job summary rendered by headless Chromium.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runAction } from '../../scripts/run-action.mjs';
import { chromiumPath, render } from '../../scripts/render-summary.mjs';
import { engineUp, exampleWorkspace, registryBlob, registryManifest, registryTags, sh, uniqueRepo } from './engine.js';

describe.runIf(engineUp)('matrix: push by digest, then merge (real engine)', () => {
  const repo = uniqueRepo('matrix-app');
  it('two platform jobs push untagged digests; the merge job makes one index of exactly those, attestations kept', async () => {
    const ws = exampleWorkspace();
    const digests: Record<string, string> = {};
    const platformManifests: Record<string, string> = {};
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const r = await runAction({ image: repo, platforms: platform, push: 'true', 'push-by-digest': 'true' }, { workspace: ws });
      expect(r.exitCode, r.log).toBe(0);
      expect(r.outputs['smoke-passed'], `${platform} was smoke-tested before its digest was output`).toBe('true');
      expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      // provenance is buildx's default here too: the job's digest is a one-platform index
      // holding the platform manifest and its provenance attestation.
      const m = await registryManifest(repo, r.outputs.digest);
      expect(m!.body.mediaType).toMatch(/index/);
      const [image, ...attestations] = m!.body.manifests as any[];
      expect(`${image.platform.os}/${image.platform.architecture}`).toBe(platform);
      expect(attestations.map((a) => a.annotations['vnd.docker.reference.digest'])).toEqual([image.digest]);
      digests[platform] = r.outputs.digest;
      platformManifests[platform] = image.digest;
    }
    expect(await registryTags(repo), 'nothing is tagged before the merge').toEqual([]);
    // The docker driver kept each image under a local tag until the upload; none is left.
    expect(sh('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', repo]).trim()).toBe('');

    const merged = await runAction(
      { merge: 'true', tags: `${repo}:1.0.0,${repo}:latest`, digests: `${digests['linux/amd64']}\n${digests['linux/arm64']}` },
      { workspace: ws },
    );
    expect(merged.exitCode, merged.log).toBe(0);
    const index = await registryManifest(repo, '1.0.0');
    expect(index!.body.mediaType).toMatch(/index|manifest\.list/);
    const entries = index!.body.manifests as any[];
    const isAttestation = (m: any) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
    const listed = Object.fromEntries(
      entries.filter((m) => !isAttestation(m)).map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]),
    );
    expect(listed).toEqual(platformManifests);
    // imagetools create carried each job's attestation into the merged index, still pointing at its platform.
    const attested = entries.filter(isAttestation).map((m) => m.annotations['vnd.docker.reference.digest']);
    expect(attested.sort()).toEqual(Object.values(platformManifests).sort());
    expect(merged.outputs.digest).toBe(index!.digest);
    expect((await registryManifest(repo, 'latest'))!.digest).toBe(index!.digest);
    expect(Object.keys(JSON.parse(merged.outputs['image-sizes'])).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(merged.summary).toContain('merged index');
  });

  it('contradictory inputs fail before anything runs', async () => {
    const ws = exampleWorkspace();
    const a = await runAction({ image: repo, 'push-by-digest': 'true' }, { workspace: ws });
    expect(a.exitCode).toBe(1);
    expect(a.log).toMatch(/::error::Input "push-by-digest" is invalid: "true" needs push: true/);
    const b = await runAction(
      { image: repo, push: 'true', 'push-by-digest': 'true', merge: 'true', digests: `sha256:${'a'.repeat(64)}` },
      { workspace: ws },
    );
    expect(b.exitCode).toBe(1);
    expect(b.log).toMatch(/::error::Input "push-by-digest" is invalid: "true" cannot be combined with merge: true/);
  });
});

describe.runIf(engineUp)('no Dockerfile: the built-in one (real engine)', () => {
  it('builds a Go module for both platforms, passes the smoke test, runs as non-root, and is the binary plus certificates and zoneinfo', async () => {
    const ws = exampleWorkspace();
    fs.rmSync(path.join(ws, 'Dockerfile'));
    fs.rmSync(path.join(ws, '.dockerignore'));
    const image = uniqueRepo('zeroconfig');
    const r = await runAction(
      { tags: `${image}:t`, push: 'true', 'health-path': '/healthz', 'print-dockerfile': 'true' },
      { workspace: ws },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain('using the built-in one for Go 1.24');
    expect(r.log).toContain('FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build');
    expect(JSON.parse(r.outputs['lint-findings'])).toEqual([]);
    expect(r.outputs['smoke-passed']).toBe('true');
    const smoke = JSON.parse(r.outputs['smoke-result']);
    expect(Object.keys(smoke).sort()).toEqual(['linux/amd64', 'linux/arm64']);

    const index = await registryManifest(image, 't');
    const sizes = JSON.parse(r.outputs['image-sizes']);
    for (const d of index!.body.manifests.filter((m: any) => m.platform.os === 'linux')) {
      const platform = `${d.platform.os}/${d.platform.architecture}`;
      const m = await registryManifest(image, d.digest);
      const config = JSON.parse((await registryBlob(image, m!.body.config.digest)).toString());
      expect(config.config.User, platform).toBe('65532:65532');
      expect(config.config.Env).toContain('ZONEINFO=/zoneinfo.zip');
      // The files, as the image holds them.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-zc-'));
      const cid = sh('docker', ['create', '--platform', platform, `${image}:t`]).trim();
      try {
        for (const f of ['/app', '/etc/ssl/certs/ca-certificates.crt', '/zoneinfo.zip']) sh('docker', ['cp', `${cid}:${f}`, dir]);
      } finally {
        sh('docker', ['rm', cid]);
      }
      const size = (f: string) => fs.statSync(path.join(dir, f)).size;
      const budget = 1.05 * size('app') + size('ca-certificates.crt') + size('zoneinfo.zip');
      console.log(
        `${platform}: unpacked ${sizes[platform].uncompressed} B; binary ${size('app')}, certificates ${size('ca-certificates.crt')}, zoneinfo ${size('zoneinfo.zip')}; limit ${Math.round(budget)}`,
      );
      expect(sizes[platform].uncompressed).toBeLessThanOrEqual(budget);
    }
  });
});

describe.runIf(engineUp)('default tags and OCI labels (real engine)', () => {
  it('a v1.2.3 tag push gets 1.2.3, 1.2, 1, latest and sha-<7>, and the labels', async () => {
    const image = uniqueRepo('tagged');
    const event = path.join(ROOT, '__tests__/fixtures/events/push.payload.json');
    const r = await runAction(
      { image, push: 'true', platforms: 'linux/amd64', 'smoke-test': 'false', labels: 'org.opencontainers.image.title=Greeter' },
      {
        workspace: exampleWorkspace(),
        env: {
          GITHUB_EVENT_NAME: 'push',
          GITHUB_EVENT_PATH: event,
          GITHUB_REF: 'refs/tags/v1.2.3',
          GITHUB_SHA: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
          GITHUB_REPOSITORY: 'Codertocat/Hello-World',
        },
      },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect((await registryTags(image)).sort()).toEqual(['1', '1.2', '1.2.3', 'latest', 'sha-6113728']);
    expect(r.outputs.tags.split('\n')).toHaveLength(5);
    const index = await registryManifest(image, '1.2.3');
    const m = index!.body.config ? index! : await registryManifest(image, index!.body.manifests[0].digest);
    const labels = JSON.parse((await registryBlob(image, m!.body.config.digest)).toString()).config.Labels;
    expect(labels).toMatchObject({
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.revision': '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      'org.opencontainers.image.source': 'https://github.com/Codertocat/Hello-World',
      'org.opencontainers.image.title': 'Greeter',
    });
  });
});

describe.runIf(engineUp)('lint annotations (real engine)', () => {
  it('warnings on the Dockerfile lines; lint: strict stops before the build', async () => {
    const ws = exampleWorkspace();
    fs.rmSync(path.join(ws, '.dockerignore'));
    const warn = await runAction({ platforms: 'linux/amd64', 'smoke-test': 'false' }, { workspace: ws });
    expect(warn.exitCode, warn.log).toBe(0);
    expect(warn.log).toMatch(/^::warning title=Dockerfile lint no-dockerignore,file=Dockerfile,line=1::No \.dockerignore/m);

    fs.copyFileSync(path.join(ROOT, '__tests__/fixtures/dockerfiles/pitfalls.Dockerfile'), path.join(ws, 'Dockerfile'));
    const image = uniqueRepo('lint');
    const strict = await runAction({ tags: `${image}:t`, push: 'true', lint: 'strict' }, { workspace: ws });
    expect(strict.exitCode).toBe(1);
    expect(strict.log).toMatch(
      /^::error title=Dockerfile lint copy-before-download,file=Dockerfile,line=3::COPY \. \. before go mod download/m,
    );
    expect(strict.log).toMatch(/^::error::12 Dockerfile lint finding\(s\) with lint: strict; nothing was built or pushed/m);
    expect(strict.log).not.toContain('buildx build argv');
    expect(await registryTags(image)).toEqual([]);
  });
});

describe.runIf(engineUp)('job summary rendered by headless Chromium (real build)', () => {
  it('has the table, the size change and a valid mermaid timeline', async () => {
    if (!chromiumPath()) {
      if (process.env.CI === 'true') throw new Error('chromium is missing: npm test installs it when run as root');
      console.warn('!!! chromium missing: summary rendering not checked');
      return;
    }
    const ws = exampleWorkspace();
    const image = uniqueRepo('summary');
    expect((await runAction({ tags: `${image}:main`, push: 'true' }, { workspace: ws })).exitCode).toBe(0);
    fs.appendFileSync(path.join(ws, 'main.go'), '\nfunc init() { version += "+changed" }\n');
    const r = await runAction({ tags: `${image}:main`, push: 'true' }, { workspace: ws });
    expect(r.exitCode, r.log).toBe(0);
    const md = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gba-summary-')), 'summary.md');
    fs.writeFileSync(md, r.summary);
    expect(r.summary).toContain('<th>change</th>');
    // The code change grows each platform's image a little; the summary says by how much.
    expect(r.summary).toMatch(/<td>linux\/amd64<\/td><td>[\d.]+ MB<\/td><td>\+[\d.]+ k?B \(\+[\d.]+%\)<\/td>/);
    expect(r.summary).toContain('```mermaid\ngantt');
    const out = process.env.GBA_SUMMARY_OUT ?? path.dirname(md);
    const rendered = render(md, out);
    console.log(`summary rendered: ${JSON.stringify(rendered)}`);
    expect(rendered.mermaid).toBe('ok');
    expect(rendered.diagrams).toBe(1);
    expect(rendered.svgs).toBe(1);
    expect(rendered.tables).toBe(1);
    expect(fs.statSync(rendered.png).size).toBeGreaterThan(10_000);
  });
});
