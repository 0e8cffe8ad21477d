// A release binary is run only when it is the release: its sha256 matches the
// one embedded in the action (the pinned buildx and cosign), or, for a version
// the workflow chose, the release's own checksums file. That holds for a
// download and for a tool-cache hit alike: a persistent self-hosted runner's
// tool cache is a file anyone with access to the machine could have replaced,
// and cosign receives the signing key (trust, round 2, item 9).
import * as out from '../output.js';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as tc from '@actions/tool-cache';

/** The sha256 that a release's checksums file ("HEX  name" or "HEX *name" per line) gives for a file name. */
export function checksumFor(checksums: string, name: string): string | undefined {
  for (const line of checksums.split('\n')) {
    const m = /^([a-f0-9]{64})\s+\*?(\S+)\s*$/i.exec(line.trim());
    if (m && m[2] === name) return m[1].toLowerCase();
  }
  return undefined;
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface Release {
  /** What it is, for messages: "buildx", "cosign". */
  what: string;
  /** Where the release file is (or was) downloaded from; its last part is the name in the checksums file. */
  url: string;
  /** The sha256 embedded in the action for a pinned release on this platform. */
  pinned?: string;
  /** The release's checksums file, for a version with no embedded sha256. */
  sumsUrl: string;
}

/** The sha256 `file` must have: the embedded one, else the release checksums file's (a small download). */
async function expectedSha(r: Release): Promise<{ want: string; from: string }> {
  if (r.pinned) return { want: r.pinned, from: 'the sha256 pinned in the action' };
  const name = r.url.slice(r.url.lastIndexOf('/') + 1);
  let want: string | undefined;
  try {
    want = checksumFor(fs.readFileSync(await tc.downloadTool(r.sumsUrl), 'utf8'), name);
  } catch (err) {
    throw new Error(`${r.what} from ${r.url} cannot be verified: ${r.sumsUrl} could not be read (${(err as Error).message})`);
  }
  if (!want) throw new Error(`${r.what} from ${r.url} cannot be verified: ${r.sumsUrl} lists no ${name}`);
  return { want, from: r.sumsUrl };
}

/** Checks a downloaded release file; throws, naming what it was checked against, when it cannot or does not match. */
export async function verifyDownload(file: string, r: Release): Promise<void> {
  const { want, from } = await expectedSha(r);
  const got = sha256File(file);
  if (got !== want) throw new Error(`${r.what} from ${r.url} has sha256 ${got}, but ${from} says ${want}; it was not used`);
  out.info(`${r.what} ${r.url.slice(r.url.lastIndexOf('/') + 1)}: sha256 ${got} matches ${from}`);
}

/** Checks a tool-cache hit before it runs; a mismatch fails the step (the file is not run, and not replaced). */
export async function verifyCached(file: string, r: Release): Promise<void> {
  const { want, from } = await expectedSha(r);
  const got = sha256File(file);
  if (got !== want) {
    throw new Error(
      `The tool cache's ${r.what} at ${file} has sha256 ${got}, but ${from} says ${want}: it is not that release, and it was not run. ` +
        'Remove it from the runner and look into how it got there',
    );
  }
  out.debug(`${r.what} in the tool cache: sha256 ${got} matches ${from}`);
}
