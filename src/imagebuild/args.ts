// Pure argv builder for `buildx build`: inputs in, argv out.
import type { ConcreteDriver } from '../buildx/builder.js';
import type { Settings } from '../settings/types.js';
import { repositoryOf } from '../ref.js';
import type { CacheEntries } from '../cacherefs/refs.js';
import type { BuildFlags } from '../settings/types.js';

/**
 * Where the image goes.
 * - engine: into the engine's image store (docker driver), pushed afterwards
 *   with `docker push`, so the pushed digest is the digest that was built.
 * - registry: pushed by BuildKit itself (docker-container driver).
 * - oci: an OCI layout tarball (docker-container driver, no push), which
 *   still lets the action report sizes.
 * - engine with `load` (docker-container, `load: true`, no push): the docker
 *   exporter loads it into the engine, so it is tested there like the docker
 *   driver's.
 * - custom: the user's `outputs` decide; nothing is measured, tested or pushed.
 * - none: `call` (check, outline, …) builds no image at all.
 */
export type OutputMode =
  | { kind: 'engine'; load?: boolean }
  | { kind: 'registry' }
  | { kind: 'stage'; repository: string }
  | { kind: 'oci'; dest: string }
  | { kind: 'custom'; outputs: string[] }
  | { kind: 'none' };

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
  flags: Pick<BuildFlags, 'outputs' | 'call' | 'load'> = { outputs: [], load: false },
): OutputMode {
  if (flags.call) return { kind: 'none' };
  if (flags.outputs.length > 0) return { kind: 'custom', outputs: flags.outputs };
  if (byDigest && push && driver !== 'docker') return { kind: 'stage', repository: byDigest };
  // The docker driver builds into the engine anyway: load changes nothing there.
  if (driver === 'docker') return { kind: 'engine' };
  if (!push) return flags.load ? { kind: 'engine', load: true } : { kind: 'oci', dest: ociDest };
  if (gated && tags.length > 0) return { kind: 'stage', repository: repositoryOf(tags[0]) };
  return { kind: 'registry' };
}

export interface BuildPlan {
  builder: string;
  driver: string;
  settings: Pick<
    Settings,
    'file' | 'context' | 'platforms' | 'tags' | 'buildArgs' | 'labels' | 'target' | 'network' | 'provenance' | 'sbom' | 'flags'
  >;
  cache: CacheEntries;
  /** id → path of the file holding the value */
  secretFiles: { id: string; path: string }[];
  metadataFile: string;
  output: OutputMode;
  /**
   * The engine's own image (docker driver, load): a run-unique local tag besides the user's, which the
   * smoke test and the push go through, so a job sharing the engine that re-tags a user tag meanwhile
   * changes nothing of this run's (trust, round 2, item 8).
   */
  localTag?: string;
}

/** The `--output` values for where the image goes (none for `call`). */
export function outputArgs(o: OutputMode, load: boolean): string[] {
  if (o.kind === 'none') return [];
  if (o.kind === 'custom') return o.outputs;
  // docker-container with load and a push: the engine gets a copy too (buildx 0.13+ takes several exporters).
  const extra = load && o.kind !== 'engine' ? ['type=docker'] : [];
  return [outputArg(o), ...extra];
}

function outputArg(o: Exclude<OutputMode, { kind: 'none' } | { kind: 'custom' }>): string {
  switch (o.kind) {
    case 'engine':
      return o.load ? 'type=docker' : 'type=image,push=false';
    case 'registry':
      return 'type=image,push=true';
    case 'stage':
      return `type=image,name=${o.repository},push-by-digest=true,name-canonical=true,push=true`;
    case 'oci':
      return `type=oci,dest=${o.dest}`;
  }
}

/**
 * The build without the action's own layer cache export (the user's cache-to entries stay), for a run whose
 * fingerprint says that export already holds every step; and the build that exports it alone, should a step
 * run after all: every step is then in the builder's cache, so nothing runs, and it needs no tags, outputs,
 * attestations or secrets (the secret files are gone by then).
 */
export function ownExportSplit(p: BuildPlan, exportMetadataFile: string): { keep: BuildPlan; exportOnly: BuildPlan } | undefined {
  const own = p.cache.own;
  if (!own) return undefined;
  const keep: BuildPlan = { ...p, cache: { from: p.cache.from, to: p.cache.to.filter((c) => c !== own.entry) } };
  const s = p.settings;
  const exportOnly: BuildPlan = {
    ...p,
    settings: {
      ...s,
      tags: [],
      labels: [],
      provenance: 'false',
      sbom: undefined,
      flags: { ...s.flags, attests: [], annotations: [], secretRefs: [], ssh: [], load: false, outputs: [] },
    },
    cache: { from: p.cache.from, to: [own.entry] },
    secretFiles: [],
    localTag: undefined,
    metadataFile: exportMetadataFile,
    output: { kind: 'custom', outputs: ['type=cacheonly'] },
  };
  return { keep, exportOnly };
}

export function buildArgs(p: BuildPlan): string[] {
  const s = p.settings;
  const argv = ['build', '--builder', p.builder, '--progress=rawjson', '--metadata-file', p.metadataFile, '--file', s.file];
  argv.push('--platform', s.platforms.join(','));
  // A staged image is named by the output, and tagged only after the smoke test.
  if (p.output.kind !== 'stage') for (const t of s.tags) argv.push('--tag', t);
  if (p.localTag && p.output.kind === 'engine') argv.push('--tag', p.localTag);
  for (const a of s.buildArgs) argv.push('--build-arg', a);
  for (const l of s.labels) argv.push('--label', l);
  for (const sec of p.secretFiles) argv.push('--secret', `id=${sec.id},src=${sec.path}`);
  for (const ref of s.flags.secretRefs) argv.push('--secret', ref);
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
  argv.push(...flagArgs(s.flags, p.driver, s.network));
  for (const o of outputArgs(p.output, s.flags.load)) argv.push('--output', o);
  argv.push(s.context);
  return argv;
}

/** docker/build-push-action's pass-through inputs, as it passes them. */
function flagArgs(f: BuildFlags, driver: string, network: string | undefined): string[] {
  const argv: string[] = [];
  for (const h of f.addHosts) argv.push('--add-host', h);
  // network: host already asked for its entitlement on docker-container.
  for (const a of f.allow) if (!(a === 'network.host' && network === 'host' && driver !== 'docker')) argv.push('--allow', a);
  for (const a of f.annotations) argv.push('--annotation', a);
  for (const a of f.attests) argv.push('--attest', a);
  for (const c of f.buildContexts) argv.push('--build-context', c);
  if (f.call) argv.push('--call', f.call);
  if (f.cgroupParent) argv.push('--cgroup-parent', f.cgroupParent);
  if (f.noCache) argv.push('--no-cache');
  for (const n of f.noCacheFilters) argv.push('--no-cache-filter', n);
  if (f.pull) argv.push('--pull');
  if (f.shmSize) argv.push('--shm-size', f.shmSize);
  for (const x of f.ssh) argv.push('--ssh', x);
  for (const u of f.ulimit) argv.push('--ulimit', u);
  return argv;
}

/**
 * The provenance when the input is empty, as docker/build-push-action sets it (src/context.ts getAttestArgs):
 * `mode=max` for a public repository, `mode=min,inline-only=true` for a private one (buildx's own default),
 * each with `builder-id` set to the run's URL. None when `attests` names provenance, with `call` (no image), when the image goes to
 * the docker exporter (`load`, or an `outputs` of type docker), or on a builder that cannot attach
 * attestations (the docker driver on the classic image store).
 */
export function defaultProvenance(s: Pick<Settings, 'provenance' | 'flags' | 'workflow'>, canAttest: boolean): string | undefined {
  if (s.provenance !== undefined) return s.provenance;
  const f = s.flags;
  if (!canAttest || f.call || f.load || f.outputs.some((o) => /(^|,)type=docker(,|$)/.test(o))) return undefined;
  if (f.attests.some((a) => /(^|,)type=provenance(,|$)/.test(a))) return undefined;
  const mode = s.workflow.payload.repository?.private ? 'mode=min,inline-only=true' : 'mode=max';
  return s.workflow.runUrl ? `${mode},builder-id=${s.workflow.runUrl}` : mode;
}
