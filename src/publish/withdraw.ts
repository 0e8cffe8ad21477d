// A gate that fails after BuildKit staged the image by digest (docker-container
// with a smoke test or a size budget) must not leave that image pullable: it is
// the one image that is known to be bad. So the staged manifests are deleted
// where the registry allows it, and where it does not, the log says exactly
// what is left behind. This never fails the step: the gate's own error does.
import * as out from '../output.js';
import type { OutputMode } from '../imagebuild/args.js';
import { registryClient } from '../registry/client.js';

/** Runs the gates; when one throws and the image was staged by digest, withdraws it, then rethrows. */
export async function withdrawOnFailure<T>(output: OutputMode, digest: string | undefined, gates: () => Promise<T>): Promise<T> {
  try {
    return await gates();
  } catch (err) {
    if (output.kind === 'stage' && digest) await withdrawStaged(output.repository, digest);
    throw err;
  }
}

/** Deletes a staged image (the index, then each manifest it lists); warns with what is left when it cannot. */
export async function withdrawStaged(repository: string, digest: string): Promise<'deleted' | 'left'> {
  const ref = `${repository}@${digest}`;
  try {
    const client = await registryClient(repository, 'pull,push,delete');
    const children = ((await client.manifest(digest)).manifests ?? []).map((m) => m.digest);
    // The index first: once it is gone nothing names the children, and a refusal there leaves the whole image as it was.
    const results = [];
    for (const d of [digest, ...children]) {
      const r = await client.deleteManifest(d);
      if (!r.deleted && r.status !== 404) {
        out.warning(
          `The image that failed its gate stays in the registry, untagged but pullable as ${ref}: ` +
            `the registry refused to delete ${d} (${r.status}${r.detail ? ` ${r.detail}` : ''}). ` +
            "Delete it with the registry's own tools (for ghcr.io, the package's versions page or GitHub's packages API).",
        );
        return 'left';
      }
      results.push(d);
    }
    out.info(`Deleted the staged image ${ref} (${results.length} manifest(s)), since a gate failed`);
    return 'deleted';
  } catch (err) {
    out.warning(`The image that failed its gate stays in the registry, untagged but pullable as ${ref}: ${(err as Error).message}`);
    return 'left';
  }
}
