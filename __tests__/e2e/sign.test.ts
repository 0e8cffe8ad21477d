// Signing what passed, with Debian's cosign (scripts/engine.sh installs it) and
// a key (keyless needs GitHub's OIDC token: e2e.yml sign-keyless): the index and
// each platform manifest verify with the public key, the smoke attestation
// verifies and says both platforms passed, an image that fails its smoke test
// is neither signed nor attested, and the key is in no log.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { SMOKE_PREDICATE_TYPE } from '../../src/constants.js';
import { engineUp, failingSmokeInputs, occurrences, registryManifest, registryTags, uniqueRepo, workspace } from './engine.js';

const PASSWORD = `gba-${Math.random().toString(36).slice(2)}`;
/** The cosign on PATH writes bundles as OCI referrers (cosign 3) rather than `.sig` tags (cosign 2). */
const cosign3 = /--use-signing-config=true/.test(spawnSync('cosign', ['sign', '--help'], { encoding: 'utf8' }).stdout ?? '');

function cosign(args: string[], env: Record<string, string> = {}): string {
  return execFileSync('cosign', args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe.runIf(engineUp)('sign and attest-smoke with a key (real engine, registry and cosign)', () => {
  let dir = '';
  let key = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-cosign-'));
    cosign(['generate-key-pair', '--output-key-prefix', path.join(dir, 'cosign')], { COSIGN_PASSWORD: PASSWORD });
    key = fs.readFileSync(path.join(dir, 'cosign.key'), 'utf8');
  });
  const verify = (args: string[]) =>
    spawnSync('cosign', [...args, '--key', path.join(dir, 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-http-registry'], {
      encoding: 'utf8',
    });

  it('signs the index and each platform manifest, and attests the smoke test of both platforms', async () => {
    const repo = uniqueRepo('signed');
    const r = await runAction(
      {
        tags: `${repo}:1`,
        push: 'true',
        'health-path': '/healthz',
        sign: 'true',
        'sign-key': key,
        'sign-key-password': PASSWORD,
        'sign-tlog': 'false',
        'attest-smoke': 'true',
      },
      { workspace: workspace('example') },
    );
    expect(r.exitCode, r.log).toBe(0);
    // The insecure registries come from the engine's info that setup asked for: no `docker info` to sign.
    expect(r.log).not.toMatch(/^::debug::exec: \["docker","info"/m);
    const index = await registryManifest(repo, '1');
    const platforms = (index!.body.manifests as any[]).filter(
      (m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
    );
    expect(platforms).toHaveLength(2);
    const signed = JSON.parse(r.outputs.signatures) as Record<string, string>;
    expect(Object.keys(signed).sort()).toEqual([index!.digest, ...platforms.map((m) => m.digest)].sort());
    for (const d of Object.keys(signed)) {
      const v = verify(['verify', `${repo}@${d}`]);
      expect(v.status, `${d}: ${v.stderr}`).toBe(0);
      if (cosign3) {
        // cosign 3 stores a Sigstore bundle as an OCI referrer of the digest: the output names that manifest.
        expect(signed[d]).toMatch(new RegExp(`^${repo.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`));
        const bundle = await registryManifest(repo, signed[d].split('@')[1]);
        expect(bundle!.body.subject.digest).toBe(d);
        expect(bundle!.body.layers[0].mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.bundle/);
      } else expect(signed[d]).toBe(`${repo}:${d.replace(':', '-')}.sig`);
    }
    const att = verify(['verify-attestation', '--type', SMOKE_PREDICATE_TYPE, `${repo}@${index!.digest}`]);
    expect(att.status, att.stderr).toBe(0);
    const statement = JSON.parse(Buffer.from(JSON.parse(att.stdout.trim().split('\n')[0]).payload, 'base64').toString('utf8'));
    expect(statement.predicateType).toBe(SMOKE_PREDICATE_TYPE);
    expect(statement.predicate.passed).toBe(true);
    expect(Object.keys(statement.predicate.platforms).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    for (const p of Object.values(statement.predicate.platforms) as any[])
      expect(p).toMatchObject({ passed: true, probe: 'http GET /healthz on port 8080' });
    expect(statement.predicate.engine).toMatch(/^\d+\.\d+/);
    // A verification that must fail does: another key.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-cosign-other-'));
    cosign(['generate-key-pair', '--output-key-prefix', path.join(other, 'cosign')], { COSIGN_PASSWORD: 'x' });
    const wrong = spawnSync('cosign', [
      'verify',
      '--key',
      path.join(other, 'cosign.pub'),
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      `${repo}@${index!.digest}`,
    ]);
    expect(wrong.status).not.toBe(0);
    // The key and its password: masked first, and in no log.
    const masks = r.commands.filter((c) => c.name === 'add-mask').map((c) => c.message);
    expect(masks).toEqual(expect.arrayContaining([PASSWORD]));
    const visible = (log: string) => log.replace(/^::add-mask::.*$/gm, '');
    for (const secret of [PASSWORD, ...key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))]) {
      expect(occurrences(visible(r.rawLog), secret) + occurrences(visible(r.post.log), secret), 'a key line or the password in a log').toBe(
        0,
      );
    }
  });

  it('a signing failure after the push fails the step and says the tags have moved', async () => {
    const repo = uniqueRepo('sign-fails');
    const r = await runAction(
      {
        tags: `${repo}:1`,
        push: 'true',
        platforms: 'linux/amd64',
        sign: 'true',
        'sign-key': key,
        'sign-key-password': 'not the password',
        'sign-tlog': 'false',
      },
      { workspace: workspace('example') },
    );
    expect(r.exitCode).toBe(1);
    const pushed = await registryManifest(repo, '1');
    expect(pushed).toBeDefined();
    expect(r.log).toMatch(
      new RegExp(
        `::error::${pushed!.digest} is pushed and its tags \\(${repo.replace(/[.]/g, '\\.')}:1\\) have moved, but signing or attesting it failed: cosign sign`,
      ),
    );
    expect(r.post.exitCode).toBe(0);
  });

  it('an image that fails its smoke test is neither signed nor attested (nor pushed)', async () => {
    const repo = uniqueRepo('unsigned');
    const r = await runAction(
      {
        ...failingSmokeInputs(repo),
        sign: 'true',
        'sign-key': key,
        'sign-key-password': PASSWORD,
        'sign-tlog': 'false',
        'attest-smoke': 'true',
      },
      { workspace: workspace('__tests__/e2e/smoke-fixture') },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/::error::Smoke test failed, nothing was pushed/);
    expect(r.log).not.toMatch(/Signed |Attested /);
    expect(await registryTags(repo)).toEqual([]);
    expect(r.outputs.signatures ?? '').toBe('');
  });
});
