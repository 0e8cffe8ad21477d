// Pushes the image the engine holds, so the pushed digest is the one built
// (and, later, smoke-tested). `docker push` of a multi-platform image from the
// containerd store pushes the whole index unchanged.
import * as core from '@actions/core';
import { failureTail, run } from '../exec.js';

/** The digest from `docker push` output: "TAG: digest: sha256:... size: N". */
export function parsePushDigest(stdout: string): string | undefined {
  const m = /digest:\s*(sha256:[a-f0-9]{64})/.exec(stdout);
  return m ? m[1] : undefined;
}

export async function pushTags(tags: string[], expectedDigest: string | undefined): Promise<void> {
  for (const tag of tags) {
    const res = await run('docker', ['push', tag], { allowFailure: true });
    if (res.exitCode !== 0) {
      const msg = failureTail(res);
      throw new Error(`Push of ${tag} failed: ${msg}`);
    }
    const digest = parsePushDigest(res.stdout);
    core.info(`Pushed ${tag}${digest ? ` (${digest})` : ''}`);
    if (expectedDigest && digest && digest !== expectedDigest) {
      throw new Error(`Push of ${tag} produced digest ${digest}, but the build produced ${expectedDigest}`);
    }
  }
}

/**
 * Tags a staged (pushed-by-digest) image. With a single source, imagetools
 * create writes the same manifest, so the tags get the tested digest.
 */
export async function tagStaged(
  buildx: { cmd: string; prefix: string[] },
  source: string,
  tags: string[],
  expectedDigest: string,
): Promise<void> {
  const argv = [...buildx.prefix, 'imagetools', 'create'];
  for (const t of tags) argv.push('--tag', t);
  argv.push(source);
  const res = await run(buildx.cmd, argv, { allowFailure: true });
  if (res.exitCode !== 0) throw new Error(`Tagging ${tags.join(', ')} failed: ${failureTail(res)}`);
  for (const tag of tags) {
    const got = await run(buildx.cmd, [...buildx.prefix, 'imagetools', 'inspect', '--format', '{{json .Manifest.Digest}}', tag], {
      allowFailure: true,
    });
    const digest = got.stdout.trim().replace(/"/g, '');
    if (got.exitCode === 0 && digest && digest !== expectedDigest) {
      throw new Error(`Tag ${tag} points at ${digest}, but the tested image is ${expectedDigest}`);
    }
    core.info(`Tagged ${tag} (${expectedDigest})`);
  }
}
