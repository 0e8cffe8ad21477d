import { describe, expect, it } from 'vitest';
import {
  attestArgv,
  cosignDownloadUrl,
  cosignLine,
  cosignUsable,
  parseCosignVersion,
  signArgv,
  signatureRef,
  signingConfigArgv,
} from '../../src/sign/cosign.js';
import { isHttpRegistry, smokePredicate } from '../../src/sign/sign.js';
import { attestationUrl, provenanceSubjects } from '../../src/sign/provenance.js';
import { artifactManifest, fallbackIndex, fallbackTag } from '../../src/registry/referrer.js';
import { sha256 } from '../../src/registry/oci.js';
import { parseSettings } from '../../src/settings/parse.js';
import { fixture, runnerInputs } from './helpers.js';
import * as path from 'node:path';
import { FIXTURES } from './helpers.js';

describe('cosign 2 and cosign 3 (Debian trixie 2.5.0 and sid 3.1.1, both "devel": captured help)', () => {
  it('the release line comes from the flags when the version does not tell', () => {
    expect(cosignLine(fixture('cosign-version-debian.txt'), fixture('cosign-sign-help.txt'))).toEqual({
      major: 2,
      signingConfig: false,
      referrers: false,
    });
    expect(cosignLine(fixture('cosign-3.1-version-debian.txt'), fixture('cosign-3.1-sign-help.txt'))).toEqual({
      major: 3,
      signingConfig: true,
      referrers: true,
    });
    expect(cosignLine('GitVersion:    v3.0.2', '').major).toBe(3);
    expect(cosignLine('GitVersion:    v2.6.1', '--use-signing-config=true').major).toBe(2);
  });
  it('cosign 3 without a transparency log: a signing config that names none, instead of --tlog-upload=false (which it refuses)', () => {
    const t = { ref: 'r@sha256:1', keyFile: '/k', tlog: false, http: true };
    expect(signArgv({ ...t, signingConfig: '/sc.json' })).toEqual([
      'sign',
      '--yes',
      '--key',
      '/k',
      '--signing-config',
      '/sc.json',
      '--allow-http-registry',
      'r@sha256:1',
    ]);
    expect(signArgv(t)).toContain('--tlog-upload=false');
    expect(signingConfigArgv('/sc.json', false)).toEqual(['signing-config', 'create', '--out', '/sc.json']);
    expect(signingConfigArgv('/sc.json', true)).toEqual([
      'signing-config',
      'create',
      '--with-default-services',
      '--no-default-rekor',
      '--out',
      '/sc.json',
    ]);
  });
});

describe('cosign', () => {
  it("takes Debian's cosign (captured: its version says devel) by what its sign command can do", () => {
    expect(parseCosignVersion(fixture('cosign-version-debian.txt'))).toBeUndefined();
    expect(cosignUsable(fixture('cosign-version-debian.txt'), fixture('cosign-sign-help.txt'))).toBe(true);
    expect(cosignUsable(fixture('cosign-version-debian.txt'), 'Usage: cosign sign [flags]')).toBe(false);
  });
  it.each([
    ['GitVersion:    v2.5.0\n', true],
    ['GitVersion:    v2.2.0\n', true],
    ['GitVersion:    v1.13.1\n', false],
  ])('a release build: %j is usable: %s', (text, want) => {
    expect(cosignUsable(text, '')).toBe(want);
  });
  it('downloads the pinned release for the runner', () => {
    expect(cosignDownloadUrl('https://github.com/sigstore/cosign/releases/download', '2.5.0', 'x64')).toBe(
      'https://github.com/sigstore/cosign/releases/download/v2.5.0/cosign-linux-amd64',
    );
    expect(cosignDownloadUrl('https://m.local', '2.5.0', 'arm64')).toBe('https://m.local/v2.5.0/cosign-linux-arm64');
  });
  it.each([
    ['keyless, public log', { ref: 'ghcr.io/a/b@sha256:1', tlog: true, http: false }, ['sign', '--yes', 'ghcr.io/a/b@sha256:1']],
    [
      'a key, no log, a loopback registry',
      { ref: 'localhost:5000/a@sha256:1', keyFile: '/t/k', tlog: false, http: true },
      ['sign', '--yes', '--key', '/t/k', '--tlog-upload=false', '--allow-http-registry', 'localhost:5000/a@sha256:1'],
    ],
  ])('sign argv: %s', (_n, t, want) => {
    expect(signArgv(t)).toEqual(want);
  });
  it('attest argv and the signature tag scheme', () => {
    expect(attestArgv({ ref: 'r@sha256:1', keyFile: '/k', tlog: false, http: false }, '/p.json', 'https://x/v1')).toEqual([
      'attest',
      '--yes',
      '--key',
      '/k',
      '--tlog-upload=false',
      '--predicate',
      '/p.json',
      '--type',
      'https://x/v1',
      'r@sha256:1',
    ]);
    expect(signatureRef('ghcr.io/a/b', `sha256:${'a'.repeat(64)}`)).toBe(`ghcr.io/a/b:sha256-${'a'.repeat(64)}.sig`);
  });
  it.each([
    ['localhost:5000/acme/api', [], true],
    ['127.0.0.1:5000/acme/api', [], true],
    ['registry.internal:5000/acme/api', ['registry.internal:5000'], true],
    ['ghcr.io/acme/api', [], false],
  ])('%s is reached over http: %s', (repo, insecure, want) => {
    expect(isHttpRegistry(repo, insecure as string[])).toBe(want);
  });
  it('the smoke predicate: per platform the probe, the verdict, the attempts and the time to healthy', () => {
    const smoke = {
      passed: true,
      results: {
        'linux/amd64': {
          platform: 'linux/amd64',
          passed: true,
          probe: 'http GET /healthz on port 8080',
          attempts: 1,
          ms: 74,
          elapsedMs: 80,
        },
      },
    };
    expect(smokePredicate(smoke, ['linux/amd64'], '26.1.5', undefined)).toEqual({
      tool: 'go-buildx-action',
      passed: true,
      platforms: { 'linux/amd64': { probe: 'http GET /healthz on port 8080', passed: true, skipped: false, attempts: 1, msToHealthy: 74 } },
      engine: '26.1.5',
      qemu: null,
    });
  });
  it('a platform skipped for want of an emulator, or never tested, makes passed false (trust, round 2, item 6)', () => {
    const amd64 = { platform: 'linux/amd64', passed: true, probe: 'tcp', attempts: 1, ms: 9, elapsedMs: 10 };
    // What smokeTest reports for a platform with no emulator and smoke-strict: false: the run itself "passed".
    const skipped = { platform: 'linux/s390x', passed: false, skipped: true, probe: 'none', attempts: 0, ms: null, elapsedMs: 0 };
    const smoke = { passed: true, results: { 'linux/amd64': amd64, 'linux/s390x': skipped } };
    const p = smokePredicate(smoke, ['linux/amd64', 'linux/s390x'], '26.1.5', undefined) as any;
    expect(p.passed).toBe(false);
    expect(p.platforms['linux/s390x']).toMatchObject({ passed: false, skipped: true });
    expect(p.platforms['linux/amd64']).toMatchObject({ passed: true, skipped: false });
    // smoke-platforms left arm64 out: it was built, never run.
    const partial = smokePredicate(
      { passed: true, results: { 'linux/amd64': amd64 } },
      ['linux/amd64', 'linux/arm64'],
      undefined,
      undefined,
    ) as any;
    expect(partial.passed).toBe(false);
    expect(partial.platforms['linux/arm64']).toEqual({ probe: 'none', passed: false, skipped: true, attempts: 0, msToHealthy: null });
  });
});

describe('signing inputs', () => {
  const env = { GITHUB_WORKSPACE: path.join(FIXTURES, '..', '..', 'example') };
  const parse = (inputs: Record<string, string>, mask?: (v: string) => void) => parseSettings(runnerInputs(inputs), env, mask);
  it.each([
    [{ sign: 'true' }, /"sign" is invalid: "true" needs push: true/],
    [{ 'attest-smoke': 'true' }, /"attest-smoke" is invalid: "true" needs push: true/],
    [
      { 'attest-smoke': 'true', push: 'true', tags: 'r/a:1', 'smoke-test': 'false' },
      /"attest-smoke" is invalid: "true" needs a smoke result/,
    ],
    [
      { 'attest-smoke': 'true', merge: 'true', tags: 'r/a:1', digests: `sha256:${'a'.repeat(64)}` },
      /"attest-smoke" is invalid: "true" has no smoke result to attest in the merge job/,
    ],
    [{ sign: 'true', push: 'true', tags: 'r/a:1', 'sign-key': 'not a key' }, /"sign-key" is invalid: "<hidden>" is not a PEM private key/],
    [{ 'cosign-download-url': 'http://example.com/cosign' }, /"cosign-download-url" is invalid/],
    [{ 'attest-provenance': 'true' }, /"attest-provenance" is invalid: "true" needs push: true .*push: true with attest-provenance/],
    [
      { 'attest-provenance': 'true', push: 'true', tags: 'r/a:1', 'github-token': '' },
      /"github-token" is invalid: "" is empty, and attest-provenance stores the attestation through the GitHub API/,
    ],
  ])('%j is rejected', (inputs, message) => {
    expect(() => parse(inputs)).toThrow(message);
  });
  it('masks github-token once, with or without GITHUB_REPOSITORY, and attest-provenance reads it', () => {
    for (const extra of [{}, { GITHUB_REPOSITORY: 'acme/hello' }]) {
      const masked: string[] = [];
      const s = parseSettings(
        runnerInputs({ 'attest-provenance': 'true', push: 'true', tags: 'r/a:1', 'github-token': 'ghs_abc123' }),
        { ...env, ...extra },
        (v) => masked.push(v),
      );
      expect(masked.filter((m) => m === 'ghs_abc123')).toHaveLength(1);
      expect(s.signing).toMatchObject({ attestProvenance: true, githubToken: 'ghs_abc123' });
    }
  });
  it('masks the key (and each line) and the password before anything is checked', () => {
    const masked: string[] = [];
    const key =
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabcdefghijklmnopqrstuvwxyz0123456789\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';
    const s = parse({ sign: 'true', push: 'true', tags: 'r/a:1', 'sign-key': key, 'sign-key-password': 'pw-s3cret' }, (v) =>
      masked.push(v),
    );
    expect(masked).toEqual(expect.arrayContaining([key, 'abcdefghijklmnopqrstuvwxyz0123456789', 'pw-s3cret']));
    expect(s.signing).toMatchObject({ sign: true, tlog: true, key, keyPassword: 'pw-s3cret' });
  });
});

describe('attest-provenance', () => {
  const d1 = `sha256:${'a'.repeat(64)}`;
  const d2 = `sha256:${'b'.repeat(64)}`;
  it('one subject per digest, named after the repository', () => {
    expect(provenanceSubjects('ghcr.io/acme/api', [d1, d2])).toEqual([
      { name: 'ghcr.io/acme/api', digest: { sha256: 'a'.repeat(64) } },
      { name: 'ghcr.io/acme/api', digest: { sha256: 'b'.repeat(64) } },
    ]);
  });
  it.each([
    [{ GITHUB_REPOSITORY: 'acme/api' }, '12', 'https://github.com/acme/api/attestations/12'],
    [{ GITHUB_REPOSITORY: 'acme/api', GITHUB_SERVER_URL: 'https://acme.ghe.com' }, '12', 'https://acme.ghe.com/acme/api/attestations/12'],
    [{ GITHUB_REPOSITORY: 'acme/api' }, undefined, undefined],
  ])('the attestation page in %j for id %s', (env, id, want) => {
    expect(attestationUrl(env, id)).toBe(want);
  });
  it('the referrer manifest: empty config, the bundle as its one layer, the index as subject', () => {
    const bundle = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    const type = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    const { manifest, descriptor } = artifactManifest(
      type,
      bundle,
      { 'dev.sigstore.bundle.content': 'dsse-envelope' },
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: d1,
        size: 855,
      },
    );
    const m = JSON.parse(manifest.toString('utf8'));
    expect(m).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: type,
      // sha256 of `{}`, the empty descriptor the image spec fixes.
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
      },
      layers: [{ mediaType: type, digest: sha256(bundle), size: bundle.length }],
      subject: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: d1, size: 855 },
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
    });
    expect(descriptor).toEqual({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256(manifest),
      size: manifest.length,
      artifactType: type,
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
    });
  });
  it('the fallback tag index keeps other referrers and lists a new one once', () => {
    expect(fallbackTag(d1)).toBe(`sha256-${'a'.repeat(64)}`);
    const other = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d2, size: 10, artifactType: 'x' };
    const added = { ...other, digest: `sha256:${'c'.repeat(64)}` };
    const first = JSON.parse(fallbackIndex(undefined, added).toString('utf8'));
    expect(first).toEqual({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [added] });
    const again = JSON.parse(fallbackIndex({ manifests: [other, added] }, added).toString('utf8'));
    expect(again.manifests).toEqual([other, added]);
  });
});
