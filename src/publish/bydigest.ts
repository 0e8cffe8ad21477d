// push-by-digest for the docker driver. Moby's BuildKit refuses it ("push-by-
// digest is currently not implemented for docker driver"), and `docker push`
// always pushes a tag. So the image the engine holds, once smoke-tested, is
// uploaded here through the registry API: every blob, then the manifests by
// digest, children first, and no tag. The pushed digest is the engine's own,
// so it is exactly the image that was tested.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../exec.js';
import { isAttestation, type OciIndex, type OciManifest } from '../registry/oci.js';
import { registryClient } from '../registry/client.js';

/** Everything under a root descriptor, in upload order: blobs, then manifests children-first, the root last. */
export function uploadPlan(
  rootDigest: string,
  read: (digest: string) => OciIndex | OciManifest,
): { blobs: string[]; manifests: { digest: string; mediaType: string }[] } {
  const blobs = new Set<string>();
  const manifests: { digest: string; mediaType: string }[] = [];
  const visit = (digest: string, mediaType: string) => {
    const doc = read(digest);
    if ('manifests' in doc && Array.isArray(doc.manifests)) {
      for (const d of doc.manifests) visit(d.digest, d.mediaType ?? '');
    } else {
      const m = doc as OciManifest;
      blobs.add(m.config.digest);
      for (const l of m.layers ?? []) blobs.add(l.digest);
    }
    if (!manifests.some((x) => x.digest === digest))
      manifests.push({ digest, mediaType: (doc as { mediaType?: string }).mediaType ?? mediaType });
  };
  visit(rootDigest, '');
  return { blobs: [...blobs], manifests };
}

/** Uploads the engine's image `ref` to `repository` by digest; returns the root digest. */
export async function pushEngineImageByDigest(ref: string, repository: string, workDir: string): Promise<string> {
  fs.mkdirSync(workDir, { recursive: true });
  const tar = path.join(workDir, 'image.tar');
  const dir = path.join(workDir, 'layout');
  fs.mkdirSync(dir, { recursive: true });
  try {
    await run('docker', ['save', '-o', tar, ref]);
    await run('tar', ['-xf', tar, '-C', dir]);
  } finally {
    fs.rmSync(tar, { force: true });
  }
  const blobPath = (d: string) => path.join(dir, 'blobs', ...d.split(':'));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as OciIndex;
  const root = index.manifests.find((d) => !isAttestation(d));
  if (!root) throw new Error(`docker save ${ref} holds no image`);
  const plan = uploadPlan(root.digest, (d) => JSON.parse(fs.readFileSync(blobPath(d), 'utf8')) as OciIndex | OciManifest);
  const client = await registryClient(repository);
  let uploaded = 0;
  for (const b of plan.blobs) {
    if (await client.hasBlob(b)) continue;
    // A platform the engine does not hold (docker save skips it) cannot be pushed.
    if (!fs.existsSync(blobPath(b))) throw new Error(`blob ${b} is not in the engine's copy of ${ref}`);
    await client.putBlobFile(b, blobPath(b));
    uploaded++;
  }
  for (const m of plan.manifests) {
    const got = await client.putManifest(m.digest, m.mediaType, fs.readFileSync(blobPath(m.digest)));
    if (got && got !== m.digest) throw new Error(`the registry stored manifest ${m.digest} as ${got}`);
  }
  out.info(`Uploaded ${uploaded} of ${plan.blobs.length} blob(s) and ${plan.manifests.length} manifest(s) to ${repository} by digest`);
  fs.rmSync(dir, { recursive: true, force: true });
  return root.digest;
}
