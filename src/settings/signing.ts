// sign, attest-smoke and their options. The key and its password are masked
// before anything is checked, and an error never shows any part of them.
import { DEFAULT_COSIGN_DOWNLOAD_URL, Inputs } from '../constants.js';
import { InputError, type Mask, type Reader, type SigningSettings } from './types.js';
import { maskValue, parseBool } from './values.js';
import { parseDownloadUrl } from './inputs.js';

export function parseSigning(read: Reader, mask: Mask): SigningSettings {
  const key = read(Inputs.signKey).trim() || undefined;
  const keyPassword = read(Inputs.signKeyPassword) || undefined;
  if (key) maskValue(mask, key);
  if (keyPassword) maskValue(mask, keyPassword);
  if (key && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new InputError(
      Inputs.signKey,
      '<hidden>',
      'is not a PEM private key',
      'the contents of cosign.key (-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----…)',
    );
  }
  const sign = parseBool(read, Inputs.sign, false);
  const attestSmoke = parseBool(read, Inputs.attestSmoke, false);
  const cosignDownloadUrl = parseDownloadUrl(
    read,
    Inputs.cosignDownloadUrl,
    DEFAULT_COSIGN_DOWNLOAD_URL,
    'v<version>/cosign-linux-<arch> and v<version>/cosign_checksums.txt',
  );
  const attestProvenance = parseBool(read, Inputs.attestProvenance, false);
  // Already masked by parseGitHubApi, which parseSettings runs first.
  const githubToken = read(Inputs.githubToken).trim() || undefined;
  if (attestProvenance && !githubToken) {
    throw new InputError(
      Inputs.githubToken,
      '',
      'is empty, and attest-provenance stores the attestation through the GitHub API with it',
      '${{ github.token }} (the default) with permissions: attestations: write',
    );
  }
  const tlog = parseBool(read, Inputs.signTlog, true);
  return { sign, attestSmoke, attestProvenance, key, keyPassword, tlog, cosignDownloadUrl, githubToken };
}
