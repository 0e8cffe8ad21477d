// attest-provenance: a GitHub artifact attestation of build provenance (SLSA
// v1, GitHub's workflow build type) for what was pushed, signed by Sigstore
// under the calling workflow's identity and stored through GitHub's
// attestations API, so `gh attestation verify oci://…` finds it; the same
// bundle is attached to the index in the registry as an OCI referrer, so
// `--bundle-from-oci` (and air-gapped admission controllers) find it there.
import * as out from '../output.js';
import type { Subject } from '@actions/attest';
import { repositoryOf } from '../ref.js';
import { indexAndImages, registryClient } from '../registry/client.js';
import { attachReferrer } from '../registry/referrer.js';

const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** What actions/attest-build-provenance names a bundle layer when it pushes one; gh looks for this prefix. */
const BUNDLE_FALLBACK_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface ProvenanceRecord {
  /** The attestation's id in GitHub's attestations API, when stored there. */
  id?: string;
  /** Where the attestation shows on GitHub. */
  url?: string;
  /** The referrer in the registry that carries the same bundle. */
  referrer: string;
  subjects: string[];
}

/** One subject per digest, all named after the repository, the way gh attestation verify looks them up. */
export function provenanceSubjects(repository: string, digests: string[]): Subject[] {
  return digests.map((d) => {
    const [algorithm, hex] = d.split(':');
    return { name: repository, digest: { [algorithm]: hex } };
  });
}

/** The attestation's page, from the id the API returned. */
export function attestationUrl(env: NodeJS.ProcessEnv, id: string | undefined): string | undefined {
  if (!id || !env.GITHUB_REPOSITORY) return undefined;
  return `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}/attestations/${id}`;
}

/** Attests the provenance of the index and each platform manifest, per repository the tags went to. */
export async function attestProvenanceOf(tags: string[], digest: string, token: string): Promise<Record<string, ProvenanceRecord>> {
  // Loaded only when asked for: Sigstore, Octokit and jose are most of the bundle's weight.
  const { attestProvenance } = await import('@actions/attest');
  const records: Record<string, ProvenanceRecord> = {};
  for (const repository of [...new Set(tags.map(repositoryOf))]) {
    const digests = await indexAndImages(repository, digest);
    const subjects = provenanceSubjects(repository, digests);
    out.debug(`provenance subjects: ${JSON.stringify(subjects)}`);
    const attestation = await attestProvenance({ subjects, token });
    const bundle = Buffer.from(JSON.stringify(attestation.bundle));
    const client = await registryClient(repository);
    const referrer = await attachReferrer(client, digest, attestation.bundle.mediaType || BUNDLE_FALLBACK_TYPE, bundle, {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': SLSA_PROVENANCE_V1,
    });
    // The API answers a number although @actions/attest types it a string.
    const id = attestation.attestationID === undefined ? undefined : String(attestation.attestationID);
    const url = attestationUrl(process.env, id);
    records[repository] = { id, url, referrer: `${repository}@${referrer}`, subjects: digests };
    out.info(`Attested the provenance of ${digests.length} digest(s) in ${repository}${url ? ` (${url})` : ''}; bundle at ${referrer}`);
  }
  return records;
}
