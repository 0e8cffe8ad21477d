// After every gate passed and the push is done: the proofs a release carries.
// cosign signatures and the smoke attestation (sign.ts), and GitHub's build
// provenance attestation (provenance.ts). Asked for and not made fails the
// step: a release pipeline must not ship an image its policy will refuse.
import * as out from '../output.js';
import * as core from '@actions/core';
import { Inputs, Outputs } from '../constants.js';
import type { Settings } from '../settings/types.js';
import type { SmokeReport } from '../smoke/test.js';
import { attestProvenanceOf } from './provenance.js';
import { signPublished } from './sign.js';

type ProofSettings = Pick<Settings, 'push' | 'pushByDigest' | 'signing' | 'tags' | 'platforms'>;

export function wantsProofs(s: Pick<Settings, 'signing'>): boolean {
  return s.signing.sign || s.signing.attestSmoke || s.signing.attestProvenance;
}

/**
 * Signs and attests `digest` under every repository of `tags`; the merge job calls this without smoke
 * results (settings refuse attest-smoke there). attest-smoke without a smoke result fails: it is never
 * silently left out (trust, round 2, item 6).
 */
export async function publishProofs(
  s: Pick<Settings, 'signing' | 'tags' | 'platforms'>,
  digest: string,
  smoke: SmokeReport | undefined,
  tempDir: string,
): Promise<void> {
  await out.group('Sign and attest', async () => {
    if (s.signing.attestSmoke && !smoke) {
      throw new Error(
        `${Inputs.attestSmoke}: true, but the smoke test did not run, so there is no result to attest (the image was pushed, and is not signed)`,
      );
    }
    try {
      if (s.signing.sign || s.signing.attestSmoke)
        await signPublished({ signing: s.signing, tags: s.tags, platforms: s.platforms, digest, smoke, tempDir });
      if (s.signing.attestProvenance) {
        // parseSigning refuses attest-provenance without a token, so it is here.
        const records = await attestProvenanceOf(s.tags, digest, s.signing.githubToken!);
        core.setOutput(Outputs.provenanceAttestations, JSON.stringify(records));
      }
    } catch (err) {
      // Signing needs the digest in the registry, so it comes after the push: say plainly what has moved.
      throw new Error(
        `${digest} is pushed and its tags (${s.tags.join(', ')}) have moved, but signing or attesting it failed: ${(err as Error).message}`,
      );
    }
  });
}

/**
 * After the push: sign and attest what passed. A push-by-digest leg attests its smoke result on the digest
 * it pushed (the leg is where both exist); signing and provenance are left to the merge job, which covers
 * the index and every manifest it lists.
 */
export async function proveAfterPush(
  s: ProofSettings,
  digest: string | undefined,
  smoke: SmokeReport | undefined,
  tempDir: string,
  byDigest?: string,
): Promise<void> {
  if (!s.push || !wantsProofs(s)) return;
  if (!digest) throw new Error('The build reported no digest, so nothing can be signed or attested');
  if (s.pushByDigest) {
    if (s.signing.attestSmoke && byDigest) {
      const signing = { ...s.signing, sign: false, attestProvenance: false };
      await publishProofs({ signing, tags: [byDigest], platforms: s.platforms }, digest, smoke, tempDir);
    }
    if (s.signing.sign || s.signing.attestProvenance)
      out.info('Signing and provenance are left to the merge job, which covers the index and every manifest it lists');
    return;
  }
  await publishProofs(s, digest, smoke, tempDir);
}
