// attest-provenance at our boundary: the real bundle, run as a runner runs it
// with `permissions: id-token: write`, makes a GitHub artifact attestation
// through @actions/attest. GitHub's services are stand-ins on 127.0.0.1
// (sigstore-standin.ts) whose captured requests the test reads; the registry
// and the engine are real. On GitHub itself, e2e.yml's attest-provenance job
// checks the same with `gh attestation verify`.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { eventOf } from '../../scripts/runner-events.mjs';
import { engineUp, failingSmokeInputs, occurrences, registryBlob, registryManifest, uniqueRepo, workspace } from './engine.js';
import { HOSTS, type StandIn, startStandIn } from './sigstore-standin.js';

/** DSSE's pre-authentication encoding, which is what the signature covers. */
const pae = (type: string, body: Buffer) => Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

describe.runIf(engineUp)('attest-provenance (real engine and registry; GitHub and Sigstore as captured stand-ins)', () => {
  let standIn: StandIn;
  const push = eventOf({ kind: 'push' }).env;
  beforeAll(async () => {
    standIn = await startStandIn(fs.mkdtempSync(path.join(os.tmpdir(), 'gba-sigstore-')), {
      ...push,
      GITHUB_WORKFLOW_REF: 'acme/hello/.github/workflows/build.yml@refs/heads/main',
      GITHUB_RUN_ID: String(process.pid),
    });
  });
  afterAll(() => standIn?.close());

  it('attests the index and each platform manifest, stores the bundle through the API and as a referrer of the index', async () => {
    const repo = uniqueRepo('attested');
    const from = standIn.captured.length;
    const r = await runAction(
      { tags: `${repo}:1`, push: 'true', 'health-path': '/healthz', 'attest-provenance': 'true' },
      { workspace: workspace('example'), env: standIn.env, issuedSecrets: () => standIn.tokens },
    );
    expect(r.exitCode, r.log).toBe(0);
    const seen = standIn.captured.slice(from);
    expect(standIn.refused, 'a host the stand-ins do not serve').toEqual([]);

    // What GitHub's API received: the bundle, under the job's token.
    const api = seen.filter((c) => c.host === 'api' && c.path === '/repos/acme/hello/attestations');
    expect(api).toHaveLength(1);
    expect(api[0].headers.authorization).toMatch(/^token ghs_/);
    const bundle = JSON.parse(api[0].body).bundle;
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');

    // The statement: SLSA v1 provenance of exactly the pushed index and its two platform manifests.
    const index = await registryManifest(repo, '1');
    const platforms = (index!.body.manifests as any[]).filter(
      (m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
    );
    expect(platforms).toHaveLength(2);
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const statement = JSON.parse(payload.toString('utf8'));
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject.map((s: any) => `sha256:${s.digest.sha256}`).sort()).toEqual(
      [index!.digest, ...platforms.map((p) => p.digest)].sort(),
    );
    expect(new Set(statement.subject.map((s: any) => s.name))).toEqual(new Set([repo]));
    const build = statement.predicate.buildDefinition;
    expect(build.externalParameters.workflow).toEqual({
      ref: 'refs/heads/main',
      repository: 'https://github.com/acme/hello',
      path: '.github/workflows/build.yml',
    });
    expect(build.resolvedDependencies[0].digest.gitCommit).toBe(push.GITHUB_SHA);

    // The signature verifies with the certificate in the bundle, which the (stand-in) CA issued for the workflow.
    const cert = new crypto.X509Certificate(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
    expect(cert.verify(new crypto.X509Certificate(standIn.caPem).publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('https://github.com/acme/hello/.github/workflows/build.yml@refs/heads/main');
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    expect(crypto.verify('sha256', pae(bundle.dsseEnvelope.payloadType, payload), cert.publicKey, sig)).toBe(true);
    const tampered = Buffer.from(payload.toString('utf8').replace(platforms[0].digest.slice(7), platforms[1].digest.slice(7)));
    expect(crypto.verify('sha256', pae(bundle.dsseEnvelope.payloadType, tampered), cert.publicKey, sig)).toBe(false);
    // Logged in (stand-in) Rekor as a dsse entry.
    expect(seen.filter((c) => c.host === 'rekor.sigstore.dev').map((c) => JSON.parse(c.body).kind)).toEqual(['dsse']);
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);

    // The outputs, and the same bundle in the registry as a referrer of the index.
    const out = JSON.parse(r.outputs['provenance-attestations'])[repo];
    expect(out).toMatchObject({ id: '4242', url: 'https://github.com/acme/hello/attestations/4242' });
    expect(out.subjects.sort()).toEqual(statement.subject.map((s: any) => `sha256:${s.digest.sha256}`).sort());
    const referrer = await registryManifest(repo, out.referrer.split('@')[1]);
    expect(referrer!.body).toMatchObject({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      subject: { digest: index!.digest },
      annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
    });
    expect(JSON.parse((await registryBlob(repo, referrer!.body.layers[0].digest)).toString('utf8'))).toEqual(bundle);
    // distribution 2.8 has no referrers API: the fallback tag lists the referrer.
    const fallback = await registryManifest(repo, index!.digest.replace(':', '-'));
    expect(fallback!.body.manifests.map((m: any) => m.digest)).toEqual([referrer!.digest]);

    // The OIDC tokens the action was issued (one for the provenance claims, one for Fulcio) are in no log.
    // @actions/core masks the one it fetches; Sigstore's own fetch of the other does not, and prints nothing.
    expect(standIn.tokens.map((t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString('utf8')).aud).sort()).toEqual([
      'nobody',
      'sigstore',
    ]);
    const visible = r.rawLog.replace(/^::add-mask::.*$/gm, '') + r.post.log;
    for (const t of standIn.tokens) expect(occurrences(visible, t.split('.')[2])).toBe(0);
    // Only the hosts attestation needs were reached through the proxy.
    expect(new Set(seen.map((c) => c.host))).toEqual(new Set(['api', ...HOSTS]));
  });

  it('with push-by-digest the platform jobs attest nothing; the merge job attests the merged index and both platforms', async () => {
    const repo = uniqueRepo('attested-matrix');
    const ws = workspace('example');
    const from = standIn.captured.length;
    const digests: string[] = [];
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const leg = await runAction(
        { image: repo, platforms: platform, push: 'true', 'push-by-digest': 'true', 'attest-provenance': 'true' },
        { workspace: ws, env: standIn.env, issuedSecrets: () => standIn.tokens },
      );
      expect(leg.exitCode, leg.log).toBe(0);
      expect(leg.log).toContain('left to the merge job');
      digests.push(leg.outputs.digest);
    }
    expect(standIn.captured.slice(from), 'a platform job reached GitHub or Sigstore').toEqual([]);
    const merged = await runAction(
      { merge: 'true', tags: `${repo}:1`, digests: digests.join('\n'), 'attest-provenance': 'true' },
      { workspace: ws, env: standIn.env, issuedSecrets: () => standIn.tokens },
    );
    expect(merged.exitCode, merged.log).toBe(0);
    const api = standIn.captured.slice(from).filter((c) => c.path === '/repos/acme/hello/attestations');
    expect(api).toHaveLength(1);
    const bundle = JSON.parse(api[0].body).bundle;
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    const index = await registryManifest(repo, '1');
    const platforms = (index!.body.manifests as any[]).filter(
      (m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
    );
    expect(statement.subject.map((x: any) => `sha256:${x.digest.sha256}`).sort()).toEqual(
      [index!.digest, ...platforms.map((m) => m.digest)].sort(),
    );
    expect(JSON.parse(merged.outputs['provenance-attestations'])[repo].referrer).toMatch(new RegExp(`^${repo}@sha256:`));
  });

  it('an image that fails its smoke test is not attested, and nothing reaches GitHub or Sigstore', async () => {
    const repo = uniqueRepo('unattested');
    const from = standIn.captured.length;
    const r = await runAction(
      { ...failingSmokeInputs(repo), 'attest-provenance': 'true' },
      { workspace: workspace('__tests__/e2e/smoke-fixture'), env: standIn.env, issuedSecrets: () => standIn.tokens },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/::error::Smoke test failed, nothing was pushed/);
    expect(standIn.captured.slice(from)).toEqual([]);
    expect(r.outputs['provenance-attestations'] ?? '').toBe('');
  });
});
