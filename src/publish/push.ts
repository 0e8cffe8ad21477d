// Pushes the image the engine holds, so the pushed digest is the one built
// (and, later, smoke-tested). `docker push` of a multi-platform image from the
// containerd store pushes the whole index unchanged.
import * as out from '../output.js';
import { failureTail, run } from '../exec.js';
import { args, type BuildxCommand } from '../buildx/command.js';
import { registryClient } from './registry.js';
import { splitRef } from '../ref.js';

/** The digest from `docker push` output: "TAG: digest: sha256:... size: N". */
export function parsePushDigest(stdout: string): string | undefined {
  const m = /digest:\s*(sha256:[a-f0-9]{64})/.exec(stdout);
  return m ? m[1] : undefined;
}

/** What a tag points at in the registry now, asked of the registry itself. */
export async function digestInRegistry(tag: string): Promise<string | undefined> {
  const { repository, tag: name } = splitRef(tag);
  return (await registryClient(repository)).manifestDigest(name ?? 'latest');
}

/**
 * A registry's answer worth another try: a 5xx or a dropped connection. A 4xx (401, 403, 404,
 * a name the registry refuses) fails the same way every time, so it fails at once.
 */
export function isTransientPushError(text: string): boolean {
  if (/\b(401|403|404)\b|unauthorized|denied|forbidden|name invalid|manifest invalid/i.test(text)) return false;
  return /\b5\d\d\b|internal server error|bad gateway|service unavailable|gateway timeout|connection reset|broken pipe|\bEOF\b|i\/o timeout|TLS handshake timeout/i.test(
    text,
  );
}

const PUSH_ATTEMPTS = 3;

async function pushWithRetries(tag: string): Promise<{ stdout: string }> {
  for (let attempt = 1; ; attempt++) {
    const res = await run('docker', ['push', tag], { allowFailure: true });
    if (res.exitCode === 0) return res;
    const why = failureTail(res);
    if (attempt >= PUSH_ATTEMPTS || !isTransientPushError(why)) throw new Error(`Push of ${tag} failed: ${why}`);
    // Seen with distribution 2.8: a tag read while the pusher rewrites it answers 500.
    out.info(`Push of ${tag} failed on attempt ${attempt} (${why}); trying again in ${attempt}s`);
    await new Promise((r) => setTimeout(r, attempt * 1000));
  }
}

export async function pushTags(tags: string[], expectedDigest: string | undefined): Promise<void> {
  for (const tag of tags) {
    const res = await pushWithRetries(tag);
    // The CLI's own line when it has one; the registry's answer when it does not (other CLI versions word it differently).
    const digest = parsePushDigest(res.stdout) ?? (await digestInRegistry(tag));
    if (!digest) throw new Error(`Pushed ${tag}, but neither docker push nor the registry tells its digest`);
    out.info(`Pushed ${tag} (${digest})`);
    if (expectedDigest && digest !== expectedDigest) {
      throw new Error(`Push of ${tag} produced digest ${digest}, but the build produced ${expectedDigest}`);
    }
  }
}

/** The argv that tags a staged image: with a single source, the copy keeps its exact manifest (and digest). */
export function tagArgv(source: string, tags: string[], preferIndexFlag: boolean): string[] {
  const argv = ['imagetools', 'create'];
  // From buildx 0.14 a single manifest is wrapped in a new index unless --prefer-index=false; older
  // releases copy it as it is and do not know the flag.
  if (preferIndexFlag) argv.push('--prefer-index=false');
  for (const t of tags) argv.push('--tag', t);
  return [...argv, source];
}

/** Tags a staged (pushed-by-digest, tested) image with exactly its digest, and checks each tag in the registry. */
export async function tagStaged(buildx: BuildxCommand, source: string, tags: string[], expectedDigest: string): Promise<void> {
  const help = await run(...args(buildx, 'imagetools', 'create', '--help'), { allowFailure: true });
  const argv = tagArgv(source, tags, help.stdout.includes('--prefer-index'));
  out.debug(`tag argv: ${JSON.stringify(argv)}`);
  const res = await run(...args(buildx, ...argv), { allowFailure: true });
  if (res.exitCode !== 0) throw new Error(`Tagging ${tags.join(', ')} failed: ${failureTail(res)}`);
  for (const tag of tags) {
    const digest = await digestInRegistry(tag);
    if (digest !== expectedDigest)
      throw new Error(`Tag ${tag} points at ${digest ?? 'nothing'}, but the tested image is ${expectedDigest}`);
    out.info(`Tagged ${tag} (${expectedDigest})`);
  }
}
