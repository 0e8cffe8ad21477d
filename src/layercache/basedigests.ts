// What each image the Dockerfile builds from is right now, for the build fingerprint: the digest its
// registry gives for the tag (one HEAD each; Docker Hub names through the engine's registry mirrors first,
// as the engine pulls them), and the engine's own image ID when it holds that tag (the docker driver builds
// from its own copy). An image whose digest cannot be read makes the fingerprint unknown: no skip, which is
// slower and never wrong.
import { run } from '../exec.js';
import { engineInfo } from '../engine.js';
import { DOCKER_HUB_HOST, registryOf, splitRef } from '../ref.js';
import { credentialsFor } from '../registry/auth.js';
import { RegistryClient } from '../registry/client.js';

export interface BaseDigest {
  ref: string;
  /** The registry's digest for the reference now. */
  digest?: string;
  /** The engine's image ID for it, when the engine holds the tag. */
  local?: string;
  /** Why no digest could be read. */
  problem?: string;
}

/** A probe only saves time: it gives up long before a push would. */
const PROBE_TIMEOUT_MS = 10_000;

/** The engine's docker.io mirrors (`registry-mirrors` in daemon.json), as registry bases; none when it cannot tell. */
export async function engineMirrors(): Promise<string[]> {
  return (await engineInfo().catch(() => ({ mirrors: [] as string[] }))).mirrors;
}

async function registryDigest(ref: string, mirrors: string[]): Promise<string> {
  const { repository, tag } = splitRef(ref);
  const reg = registryOf(repository);
  const candidates =
    reg.host === DOCKER_HUB_HOST
      ? [...mirrors.map((m) => ({ ...reg, host: new URL(m).host, base: m, authKey: new URL(m).host })), reg]
      : [reg];
  const why: string[] = [];
  for (const r of candidates) {
    try {
      const client = new RegistryClient(r, await credentialsFor(r), 'pull', PROBE_TIMEOUT_MS);
      const digest = await client.manifestDigest(tag ?? 'latest');
      if (digest) return digest;
      why.push(`${r.host}: not found`);
    } catch (err) {
      why.push((err as Error).message);
    }
  }
  throw new Error(why.join('; '));
}

async function localId(ref: string): Promise<string | undefined> {
  const res = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { allowFailure: true });
  return res.exitCode === 0 ? res.stdout.trim() || undefined : undefined;
}

/** Each image's digest and local ID, side by side. A reference pinned by digest is its own answer. */
export async function baseDigests(images: string[], mirrors: Promise<string[]> = engineMirrors()): Promise<BaseDigest[]> {
  return Promise.all(
    images.map(async (ref): Promise<BaseDigest> => {
      const pinned = /@(sha256:[a-f0-9]{64})$/.exec(ref)?.[1];
      if (pinned) return { ref, digest: pinned };
      const [digest, local] = await Promise.all([
        mirrors
          .then((m) => registryDigest(ref, m))
          .then(
            (d) => ({ d }),
            (err: Error) => ({ problem: err.message }),
          ),
        localId(ref),
      ]);
      return { ref, local, ...('d' in digest ? { digest: digest.d } : { problem: digest.problem }) };
    }),
  );
}

/** The lines the fingerprint takes in: what each image is, or that it is unknown. */
export function baseLines(bases: BaseDigest[]): string[] {
  return bases.map((b) => `${b.ref} ${b.digest ?? '?'} ${b.local ?? '-'}`).sort();
}
