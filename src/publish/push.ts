// Pushes the image the engine holds, so the pushed digest is the one built
// (and, later, smoke-tested). `docker push` of a multi-platform image from the
// containerd store pushes the whole index unchanged.
import * as crypto from 'node:crypto';
import * as out from '../output.js';
import { failureTail, run } from '../exec.js';
import { args, type BuildxCommand } from '../buildx/command.js';
import { registryClient } from '../registry/client.js';
import { repositoryOf, splitRef } from '../ref.js';
import { Inputs } from '../constants.js';

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

/** The config digest (image ID) of a manifest in the registry; undefined for an index, or when it cannot be read. */
export async function configDigest(repository: string, digest: string): Promise<string | undefined> {
  try {
    const doc = (await (await registryClient(repository)).manifest(digest)) as { config?: { digest?: string } };
    return doc.config?.digest;
  } catch {
    return undefined;
  }
}

/**
 * `docker push` of each tag: each user tag is pointed at the image right before its push, by the image's
 * ID (or, when the build reported none, the run's own local tag), so a job sharing the engine that
 * re-tagged the name meanwhile cannot swap the image (trust, round 2, item 8). Returns the digest the
 * registry has.
 *
 * Like is compared with like: the containerd image store names the image by its manifest (or index)
 * digest, which the push must reproduce; the classic store names it by its image ID, the config digest,
 * and the push then creates a manifest whose config must be that image (trust, round 2, item 4).
 */
export async function pushTags(tags: string[], expectedDigest: string | undefined, localRef?: string): Promise<string | undefined> {
  // Each tag is made from the image's ID itself when the build named it: content-addressed, so no job sharing
  // the engine can swap what it names, and no `docker image inspect` of the run's own name is needed first.
  const source = localRef && expectedDigest ? expectedDigest : localRef;
  let pushed: string | undefined;
  for (const tag of tags) {
    if (source) {
      const tagged = await run('docker', ['tag', source, tag], { allowFailure: true });
      if (tagged.exitCode !== 0) {
        const why = failureTail(tagged);
        throw new Error(
          source === expectedDigest && /no such image|not found/i.test(why)
            ? `The engine no longer holds the image that was built and tested (${expectedDigest}); nothing was pushed`
            : `Tagging ${tag} failed: ${why}`,
        );
      }
    }
    const res = await pushWithRetries(tag);
    // The CLI's own line when it has one; the registry's answer when it does not (other CLI versions word it differently).
    const digest = parsePushDigest(res.stdout) ?? (await digestInRegistry(tag));
    if (!digest) throw new Error(`Pushed ${tag}, but neither docker push nor the registry tells its digest`);
    if (expectedDigest && digest !== expectedDigest) {
      const config = await configDigest(repositoryOf(tag), digest);
      if (config !== expectedDigest) {
        throw new Error(`Push of ${tag} produced digest ${digest}, but the build produced ${expectedDigest}`);
      }
      out.info(`Pushed ${tag} (${digest}, the manifest of image ${expectedDigest}: the classic image store names an image by its config)`);
    } else out.info(`Pushed ${tag} (${digest})`);
    if (pushed && pushed !== digest) throw new Error(`Push of ${tag} produced digest ${digest}, but ${tags[0]} got ${pushed}`);
    pushed = digest;
  }
  return pushed;
}

/** The argv that copies a staged image to tags in other repositories (imagetools). */
export function tagArgv(source: string, tags: string[], preferIndexFlag: boolean, dryRun = false): string[] {
  const argv = ['imagetools', 'create'];
  // From buildx 0.15 a single manifest is copied as it is only with --prefer-index=false (docker/buildx#2481);
  // 0.12-0.14 wrap it in a new index whatever is asked, which the dry run catches before any tag moves.
  if (preferIndexFlag) argv.push('--prefer-index=false');
  if (dryRun) argv.push('--dry-run');
  for (const t of tags) argv.push('--tag', t);
  return [...argv, source];
}

/** The digest of what `imagetools create --dry-run` prints: the exact bytes it would push, and a newline. */
export function dryRunDigest(stdout: string): string {
  return `sha256:${crypto.createHash('sha256').update(stdout.replace(/\n$/, ''), 'utf8').digest('hex')}`;
}

/**
 * Tags a staged (pushed-by-digest, tested) image with exactly its digest, and checks each tag in the
 * registry (trust, round 2, item 5). In the staged image's own repository a tag is a PUT of the manifest's
 * exact bytes through the registry API, which needs no buildx feature; a tag in another repository needs
 * the blobs copied, which imagetools does, after its dry run showed it keeps the digest. Every check comes
 * before the first tag moves.
 */
export async function tagStaged(buildx: BuildxCommand, source: string, tags: string[], expectedDigest: string): Promise<void> {
  const repository = repositoryOf(source);
  const here = tags.filter((t) => repositoryOf(t) === repository);
  const elsewhere = tags.filter((t) => repositoryOf(t) !== repository);
  let copy: string[] | undefined;
  if (elsewhere.length > 0) {
    const help = await run(...args(buildx, 'imagetools', 'create', '--help'), { allowFailure: true });
    const prefer = help.stdout.includes('--prefer-index');
    const dry = await run(...args(buildx, ...tagArgv(source, elsewhere, prefer, true)), { allowFailure: true });
    if (dry.exitCode !== 0) throw new Error(`Copying ${source} to ${elsewhere.join(', ')} failed: ${failureTail(dry)}; no tag was moved`);
    const would = dryRunDigest(dry.stdout);
    if (would !== expectedDigest) {
      throw new Error(
        `This buildx would tag ${elsewhere.join(', ')} with ${would}, a new index around the tested image ${expectedDigest} ` +
          `(docker/buildx#2481, buildx 0.12-0.14); no tag was moved. Use buildx 0.15 or newer (${Inputs.buildxVersion}), ` +
          `or tags in ${repository} only`,
      );
    }
    copy = tagArgv(source, elsewhere, prefer);
  }
  const client = await registryClient(repository);
  const manifest = await client.manifestRaw(expectedDigest);
  if (!manifest) throw new Error(`The staged image ${source} is not in the registry, so it cannot be tagged`);
  for (const t of here) await client.putManifest(splitRef(t).tag ?? 'latest', manifest.mediaType, manifest.body);
  if (copy) {
    out.debug(`tag argv: ${JSON.stringify(copy)}`);
    const res = await run(...args(buildx, ...copy), { allowFailure: true });
    if (res.exitCode !== 0) throw new Error(`Tagging ${elsewhere.join(', ')} failed: ${failureTail(res)}`);
  }
  for (const tag of tags) {
    const digest = await digestInRegistry(tag);
    if (digest !== expectedDigest)
      throw new Error(`Tag ${tag} points at ${digest ?? 'nothing'}, but the tested image is ${expectedDigest}`);
    out.info(`Tagged ${tag} (${expectedDigest})`);
  }
}
