// Pure argv builder for `buildx build`: inputs in, argv out.
import type { ConcreteDriver } from '../buildx/builder.js';
import type { Settings } from '../settings/types.js';
import { repositoryOf } from '../ref.js';
import type { CacheEntries } from '../cache/refs.js';

/**
 * Where the image goes.
 * - engine: into the engine's image store (docker driver), pushed afterwards
 *   with `docker push`, so the pushed digest is the digest that was built.
 * - registry: pushed by BuildKit itself (docker-container driver).
 * - oci: an OCI layout tarball (docker-container driver, no push), which
 *   still lets the action report sizes.
 */
export type OutputMode = { kind: 'engine' } | { kind: 'registry' } | { kind: 'stage'; repository: string } | { kind: 'oci'; dest: string };

/** Whether a gate (the smoke test, a size budget) must pass before any tag may move. */
export function hasGate(s: { smoke: { enabled: boolean }; maxImageSize?: number }): boolean {
  return s.smoke.enabled || s.maxImageSize !== undefined;
}

/**
 * - stage: (docker-container, push, and a gate: the smoke test or a size
 *   budget) pushed by digest only, with no tag, checked from there, and
 *   tagged only when every gate passed, so no tag moves before that and the
 *   tags point at exactly the digest that was checked.
 */
export function chooseOutput(
  driver: ConcreteDriver | string,
  push: boolean,
  /** A gate (smoke test, size budget) must pass before any tag moves. */
  gated: boolean,
  tags: string[],
  ociDest: string,
  /** push-by-digest: the repository. docker-container pushes by digest itself; the docker driver cannot, so the image goes to the engine first. */
  byDigest?: string,
): OutputMode {
  if (byDigest && push && driver !== 'docker') return { kind: 'stage', repository: byDigest };
  if (driver === 'docker') return { kind: 'engine' };
  if (!push) return { kind: 'oci', dest: ociDest };
  if (gated && tags.length > 0) return { kind: 'stage', repository: repositoryOf(tags[0]) };
  return { kind: 'registry' };
}

export interface BuildPlan {
  builder: string;
  driver: string;
  settings: Pick<
    Settings,
    'file' | 'context' | 'platforms' | 'tags' | 'buildArgs' | 'labels' | 'target' | 'network' | 'provenance' | 'sbom'
  >;
  cache: CacheEntries;
  /** id → path of the file holding the value */
  secretFiles: { id: string; path: string }[];
  metadataFile: string;
  output: OutputMode;
}

export function outputArg(o: OutputMode): string {
  switch (o.kind) {
    case 'engine':
      return 'type=image,push=false';
    case 'registry':
      return 'type=image,push=true';
    case 'stage':
      return `type=image,name=${o.repository},push-by-digest=true,name-canonical=true,push=true`;
    case 'oci':
      return `type=oci,dest=${o.dest}`;
  }
}

export function buildArgs(p: BuildPlan): string[] {
  const s = p.settings;
  const argv = ['build', '--builder', p.builder, '--progress=rawjson', '--metadata-file', p.metadataFile, '--file', s.file];
  argv.push('--platform', s.platforms.join(','));
  // A staged image is named by the output, and tagged only after the smoke test.
  if (p.output.kind !== 'stage') for (const t of s.tags) argv.push('--tag', t);
  for (const a of s.buildArgs) argv.push('--build-arg', a);
  for (const l of s.labels) argv.push('--label', l);
  for (const sec of p.secretFiles) argv.push('--secret', `id=${sec.id},src=${sec.path}`);
  if (s.target) argv.push('--target', s.target);
  if (s.network) {
    argv.push('--network', s.network);
    // The docker driver grants host networking itself; BuildKit in a container
    // needs the entitlement asked for explicitly.
    if (s.network === 'host' && p.driver !== 'docker') argv.push('--allow', 'network.host');
  }
  for (const c of p.cache.from) argv.push('--cache-from', c);
  for (const c of p.cache.to) argv.push('--cache-to', c);
  if (s.provenance !== undefined) argv.push(`--provenance=${s.provenance}`);
  if (s.sbom !== undefined) argv.push(`--sbom=${s.sbom}`);
  argv.push('--output', outputArg(p.output));
  argv.push(s.context);
  return argv;
}
