// After every gate passed and the push is done: the proofs a release carries.
// cosign signatures and the smoke attestation (sign.ts), and GitHub's build
// provenance attestation (provenance.ts). Asked for and not made fails the
// step: a release pipeline must not ship an image its policy will refuse.
import * as out from '../output.js';
import * as core from '@actions/core';
import { Outputs } from '../constants.js';
import type { Settings } from '../settings/types.js';
import type { SmokeReport } from '../smoke/test.js';
import { attestProvenanceOf } from './provenance.js';
import { signPublished } from './sign.js';

type ProofSettings = Pick<Settings, 'push' | 'pushByDigest' | 'signing' | 'tags'>;

export function wantsProofs(s: Pick<Settings, 'signing'>): boolean {
  return s.signing.sign || s.signing.attestSmoke || s.signing.attestProvenance;
}

/** Signs and attests `digest` under every repository of `tags`; the merge job calls this without smoke results. */
export async function publishProofs(
  s: Pick<Settings, 'signing' | 'tags'>,
  digest: string,
  smoke: SmokeReport | undefined,
  tempDir: string,
): Promise<void> {
  await out.group('Sign and attest', async () => {
    if (s.signing.sign || (s.signing.attestSmoke && smoke))
      await signPublished({ signing: s.signing, tags: s.tags, digest, smoke, tempDir });
    if (s.signing.attestProvenance) {
      // parseSigning refuses attest-provenance without a token, so it is here.
      const records = await attestProvenanceOf(s.tags, digest, s.signing.githubToken!);
      core.setOutput(Outputs.provenanceAttestations, JSON.stringify(records));
    }
  });
}

/** After the push: sign and attest what passed; push-by-digest leaves that to the merge job. */
export async function proveAfterPush(
  s: ProofSettings,
  digest: string | undefined,
  smoke: SmokeReport | undefined,
  tempDir: string,
): Promise<void> {
  if (!s.push || !wantsProofs(s)) return;
  if (s.pushByDigest) {
    out.info('Signing and attesting are left to the merge job, which covers the index and every manifest it lists');
    return;
  }
  if (!digest) throw new Error('The build reported no digest, so nothing can be signed or attested');
  await publishProofs(s, digest, smoke, tempDir);
}
