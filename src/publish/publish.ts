// The push phase, after every gate passed. Four ways, by where the image is:
// - in the engine, pushed by digest (docker driver, push-by-digest): uploaded
//   through the registry API, no tag;
// - in the engine: `docker push` of each tag, the digest checked;
// - staged by digest (docker-container) for a merge: already pushed, no tag;
// - staged by digest with tags: tagged now, with exactly the tested digest.
import * as out from '../output.js';
import * as path from 'node:path';
import * as core from '@actions/core';
import { Outputs } from '../constants.js';
import { run } from '../exec.js';
import type { BuildxCommand } from '../buildx/command.js';
import type { ResolvedBuild } from '../imagebuild/resolve.js';
import { configDigest, pushTags, tagStaged } from './push.js';
import { pushEngineImageByDigest } from './bydigest.js';
import { phase, removeDoneContainers } from '../lifecycle.js';

/** Pushes what passed the gates; returns the digest the registry holds (the build's own, but for the classic store's image ID). */
export async function publish(
  build: ResolvedBuild,
  buildx: BuildxCommand,
  digest: string | undefined,
  tempDir: string,
): Promise<string | undefined> {
  const { output, byDigest, settings } = build;
  // The smoke test's and the size probe's containers are still there (removing one costs the engine
  // 0.2-0.3 s here): the pushes below leave the image alone. Only untagging it must wait for their removal.
  const ref = build.refToTest(digest);
  if (output.kind === 'engine' && byDigest && ref) {
    const pushed = await phase(`Push ${byDigest} by digest`, async () => {
      try {
        return await pushEngineImageByDigest(ref, byDigest, path.join(tempDir, 'push'));
      } finally {
        // The run's name is the image's only one here: a container still using it would keep it.
        await removeDoneContainers();
        await run('docker', ['image', 'rm', ref], { allowFailure: true });
      }
    });
    if (digest && pushed !== digest && (await configDigest(byDigest, pushed)) !== digest) {
      throw new Error(`Pushed ${pushed}, but the build produced ${digest}`);
    }
    core.setOutput(Outputs.digest, pushed);
    out.info(`Pushed ${byDigest}@${pushed} by digest, with no tag; pass the digest output to the merge job`);
    return pushed;
  }
  if (output.kind === 'engine') {
    const pushed = await phase(`Push ${settings.tags.join(', ')}`, () => pushTags(settings.tags, digest, build.localTag));
    // The classic image store's build names the image ID; the registry, and whoever signs or deploys, its manifest.
    if (pushed && pushed !== digest) core.setOutput(Outputs.digest, pushed);
    return pushed;
  }
  if (output.kind === 'stage' && settings.pushByDigest) {
    if (!digest) throw new Error('The build reported no digest for the image pushed by digest');
    out.info(`Pushed ${output.repository}@${digest} by digest, with no tag; pass the digest output to the merge job`);
    return digest;
  }
  if (output.kind === 'stage') {
    if (!digest || !ref) throw new Error('The build reported no digest for the staged image, so it cannot be tagged');
    await phase(`Tag ${settings.tags.join(', ')}`, () => tagStaged(buildx, ref, settings.tags, digest));
    return digest;
  }
  return digest;
}
