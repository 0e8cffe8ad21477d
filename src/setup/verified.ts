// A downloaded release binary is used only when it matches the release's own
// checksums file: a mirror or a man in the middle cannot swap it.
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

/** Checks `file` (downloaded from `url`) against `sumsUrl`; throws, naming both, when it cannot or does not match. */
export async function verifyChecksum(file: string, url: string, sumsUrl: string, what: string): Promise<void> {
  const name = url.slice(url.lastIndexOf('/') + 1);
  let want: string | undefined;
  try {
    want = checksumFor(fs.readFileSync(await tc.downloadTool(sumsUrl), 'utf8'), name);
  } catch (err) {
    throw new Error(`${what} from ${url} cannot be verified: ${sumsUrl} could not be read (${(err as Error).message})`);
  }
  if (!want) throw new Error(`${what} from ${url} cannot be verified: ${sumsUrl} lists no ${name}`);
  const got = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (got !== want) throw new Error(`${what} from ${url} has sha256 ${got}, but ${sumsUrl} says ${want}; it was not used`);
  out.info(`${what} ${name}: sha256 ${got} matches ${sumsUrl}`);
}
