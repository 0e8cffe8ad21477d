// Go module and build caches live in `RUN --mount=type=cache` mounts, which
// BuildKit never exports with cache-to (moby/buildkit#1512). They are carried
// across runs here with two throwaway builds on the same builder:
// - restore: before the build, a RUN that mounts the same cache (same id,
//   target, sharing, uid/gid) untars the saved copy into it;
// - save: after the build (in the post step), a RUN that mounts it tars its
//   contents into a one-layer image that goes to the registry (or to
//   actions/cache).
// Both are ordinary builds, so they work with the docker and docker-container
// drivers alike and need no access to the builder's filesystem (no sudo).
//
// Never pass --no-cache to these builds: BuildKit then hands out fresh, empty
// cache mounts, and the next build loses the real ones. A nonce build arg
// makes the RUN execute every time instead.
import * as out from '../output.js';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failureTail, run } from '../exec.js';
import { args, type BuildxCommand } from '../buildx/command.js';
import { type MergedVertex, parseStepName, stepPlatform } from '../imagebuild/rawjson.js';
import { type CacheMount, type GoCacheKind } from '../dockerfile/gomounts.js';
import { ageRestored, extractSaved, saveScript, writebackBeside } from './scripts.js';
import type { Candidate, Match } from '../cacherefs/keys.js';

export const KIND_LABEL: Record<GoCacheKind, string> = { mod: 'GOMODCACHE', build: 'GOCACHE' };

export interface Restored {
  ref: string;
  match: Match;
  /** Compressed bytes transferred. */
  bytes: number;
  /** The registry backend: the image manifest restored (a later save can stack a layer on it). */
  digest?: string;
}

export interface PlanEntry {
  kind: GoCacheKind;
  mount: CacheMount;
  key: string;
  read: Candidate[];
  write: string[];
  restored?: Restored;
  save: boolean;
  skipReason?: string;
  /**
   * A builder of several nodes: every node has its own cache mounts, so each cache is restored and
   * saved on every node that builds, by a helper build for one of that node's platforms (buildx sends
   * it there). `node` names it; `platforms` are the ones it builds. Absent with one node.
   */
  node?: { name: string; platforms: string[] };
  /** The module cache of a node after the first: the same content, so only the first node saves it. */
  follower?: boolean;
}

export interface GoCachePlan {
  backend: 'registry' | 'gha';
  helperImage: string;
  maxBytes: number;
  /** Build args the helper builds need to address the same mounts (BUILDKIT_CACHE_MOUNT_NS). */
  buildArgs: string[];
  entries: PlanEntry[];
  /** Seconds the restore took; `skipped` says why it did not run. */
  restoreSeconds?: number;
  skipped?: string;
}

/** Where the restore build mounts a saved copy from: an image ref, or a named build context (a local directory). */
export interface Source {
  entry: PlanEntry;
  from: string;
  buildContext?: { name: string; dir: string };
}

/** The restore Dockerfile: one RUN that mounts every cache and its saved copy, and untars. */
export function restoreDockerfile(helperImage: string, sources: Source[]): string {
  const mounts: string[] = [];
  const cmds: string[] = [];
  for (const s of sources) {
    const src = `/.go-buildx-restore/${s.entry.kind}`;
    mounts.push(`--mount=${s.entry.mount.options}`, `--mount=type=bind,from=${s.from},target=${src}`);
    cmds.push(extractSaved(s.entry.kind, src, s.entry.mount.target));
    if (s.entry.kind === 'build') cmds.push(ageRestored(s.entry.mount.target, src));
  }
  return [
    `FROM --platform=$BUILDPLATFORM ${helperImage}`,
    'ARG GO_BUILDX_NONCE',
    `RUN ${mounts.join(' \\\n    ')} \\\n    : "$GO_BUILDX_NONCE" && ${writebackBeside(sources[0].entry.mount.target, cmds.join(' && '))}`,
    '',
  ].join('\n');
}

/**
 * The save Dockerfile for one cache: tar what is kept (GOCACHE: what this run
 * used or created; then, over the cap, the newest files first) into a
 * one-layer image. The mount itself is never changed.
 */
export function extractDockerfile(helperImage: string, entry: PlanEntry, maxBytes: number, layered = false): string {
  return [
    `FROM --platform=$BUILDPLATFORM ${helperImage} AS extract`,
    'ARG GO_BUILDX_NONCE',
    `RUN --mount=${entry.mount.options} <<'GO_BUILDX_EOF'`,
    `: "$GO_BUILDX_NONCE"`,
    saveScript(entry.kind, entry.mount.target, maxBytes, '/.go-buildx-out', '/tmp', layered),
    'GO_BUILDX_EOF',
    'FROM scratch',
    `COPY --from=extract /.go-buildx-out/ /`,
    '',
  ].join('\n');
}

export function helperBuildArgv(o: {
  builder: string;
  dockerfile: string;
  contextDir: string;
  buildArgs: string[];
  buildContexts?: { name: string; dir: string }[];
  output: string;
  nonce: string;
  /** With several nodes: a platform of the node this must run on. */
  platform?: string;
}): string[] {
  const argv = ['build', '--builder', o.builder, '--progress=plain', '--provenance=false', '--file', o.dockerfile];
  if (o.platform) argv.push('--platform', o.platform);
  argv.push('--build-arg', `GO_BUILDX_NONCE=${o.nonce}`);
  for (const a of o.buildArgs) argv.push('--build-arg', a);
  for (const c of o.buildContexts ?? []) argv.push('--build-context', `${c.name}=${c.dir}`);
  argv.push('--output', o.output, o.contextDir);
  return argv;
}

/**
 * The output of a registry save: an OCI layout on the runner, which the store pushes itself. A
 * `type=image,push=true` output would also store the image in the engine with the docker driver, unpack
 * it, and leave it to be removed, which costs more than the whole save (7 s for a 325 MB GOCACHE here).
 * zstd: fast to write and to unpack.
 */
export function ociOutput(dir: string): string {
  return `type=oci,dest=${dir},tar=false,compression=zstd,force-compression=true,oci-mediatypes=true`;
}

export interface SaveStats {
  /** Bytes in the cache, of them used or created by this run (GOCACHE), and kept in the saved copy. */
  total: number;
  used?: number;
  kept: number;
  /** GOCACHE: the build actions this run reused from the restored cache, and those it ran anew. */
  actions?: { reused: number; run: number };
  /** `layered`: the tarball holds only what this run created, for a layer on the restored copy. */
  mode?: 'full' | 'layered';
  /** Bytes a restore of what is saved now gets (with a layer: the restored copy and the layer). */
  savedBytes?: number;
}

/** "go-buildx-stats kind=build total=123 used=110 kept=100 …" lines from a save build's plain progress. */
export function parseStats(log: string): SaveStats | undefined {
  const m =
    /go-buildx-stats kind=\w+ total=(\d+)(?: used=(\d+))? kept=(\d+)(?: files=\d+ reused_actions=(\d+) run_actions=(\d+))?(?: mode=(full|layered) saved=(\d+))?/.exec(
      log,
    );
  if (!m) return undefined;
  return {
    total: Number(m[1]),
    kept: Number(m[3]),
    ...(m[2] !== undefined ? { used: Number(m[2]) } : {}),
    ...(m[4] !== undefined ? { actions: { reused: Number(m[4]), run: Number(m[5]) } } : {}),
    ...(m[6] !== undefined ? { mode: m[6] as 'full' | 'layered', savedBytes: Number(m[7]) } : {}),
  };
}

/**
 * Which caches to save. Only a cache that a step of this build used can hold
 * anything new: when every step that mounts it came from the layer cache, the
 * mount is what was restored (or, on a fresh builder with nothing restored,
 * empty, and saving that would plant an empty cache under a real key). The
 * module cache restored from its exact key is never saved again: the key
 * pins its content.
 */
export function decideSaves(plan: GoCachePlan, vertices: MergedVertex[], saveAllowed: { ok: boolean; why?: string }): GoCachePlan {
  const entries = plan.entries.map((e) => {
    if (!saveAllowed.ok) return { ...e, save: false, skipReason: saveAllowed.why };
    if (e.kind === 'mod' && e.restored?.match === 'exact') return { ...e, save: false, skipReason: 'restored from its exact key' };
    if (e.follower) return { ...e, save: false, skipReason: 'the same modules are saved from the first node' };
    const ran = vertices.some(
      (v) =>
        !v.cached &&
        v.completed &&
        mountsCache(v.name, e.mount) &&
        (!e.node || e.node.platforms.includes(stepPlatform(parseStepName(v.name)?.label ?? '') ?? '')),
    );
    if (!ran) return { ...e, save: false, skipReason: 'no step that uses it ran' };
    if (e.kind === 'mod' && !wholeModuleSet(vertices, e.mount)) {
      // Its exact key promises the whole module set, and only the download step fetches that: what go build
      // fetched alone goes under the build's tag, never the exact key (an actions/cache entry has only that).
      const partial = e.write.slice(1);
      if (partial.length === 0)
        return { ...e, save: false, skipReason: 'go mod download came from the layer cache: go build fetched only part of the module set' };
      return { ...e, write: partial, save: true, skipReason: undefined };
    }
    return { ...e, save: true, skipReason: undefined };
  });
  return { ...plan, entries };
}

/**
 * Whether this build filled the module cache with the whole module set: its `go mod download` step ran, or
 * it has none (then the steps that mount the cache fetch what the build needs, every time alike).
 */
export function wholeModuleSet(vertices: MergedVertex[], mount: CacheMount): boolean {
  const downloads = vertices.filter((v) => mountsCache(v.name, mount) && /\bgo\s+mod\s+download\b/.test(v.name ?? ''));
  return downloads.length === 0 || downloads.some((v) => !v.cached && v.completed);
}

/** True for a RUN step whose name shows this cache mount. */
export function mountsCache(name: string | undefined, mount: CacheMount): boolean {
  if (!name || !/\]\s+RUN\s/.test(name)) return false;
  for (const m of name.matchAll(/--mount=(\S+)/g)) {
    const o = m[1];
    if (!/type=cache/.test(o)) continue;
    const id = /(?:^|,)id=([^,]+)/.exec(o)?.[1];
    const target = /(?:^|,)(?:target|dst|destination)=([^,]+)/.exec(o)?.[1];
    if ((id ?? target) === mount.id || (!id && target === mount.target)) return true;
  }
  return false;
}

export interface GoCacheStore {
  /** The first candidate that exists, as a source the restore build can mount. */
  find(entry: PlanEntry): Promise<{ restored: Restored; source: Source } | undefined>;
  /** The --output of the save build for this entry. */
  output(entry: PlanEntry): string;
  /** Whether this save may stack a layer on the restored copy instead of storing the whole cache again. */
  canLayer(entry: PlanEntry): Promise<boolean>;
  /** Called after the save build: stores what it wrote; returns the compressed bytes stored and uploaded, when known. */
  finish(entry: PlanEntry, stats: SaveStats | undefined): Promise<{ stored?: number; uploaded?: number }>;
}

export interface RestoreReport {
  entries: PlanEntry[];
  seconds: number;
  warnings: string[];
}

export interface LookedUp {
  /** When the lookup began: the restore's seconds count from there. */
  started: number;
  entries: PlanEntry[];
  sources: Source[];
  warnings: string[];
}

/** Finds each cache's saved copy, all caches at once; a failed lookup is a warning. */
export async function lookUpGoCaches(plan: GoCachePlan, store: GoCacheStore): Promise<LookedUp> {
  const started = Date.now();
  const warnings: string[] = [];
  const found = await Promise.all(
    plan.entries.map(async (e) => {
      out.debug(`${KIND_LABEL[e.kind]} key ${e.key}; candidates ${JSON.stringify(e.read)}`);
      try {
        return await store.find(e);
      } catch (err) {
        warnings.push(`Looking up the ${KIND_LABEL[e.kind]} cache failed: ${(err as Error).message}`);
        return undefined;
      }
    }),
  );
  const entries = plan.entries.map((e, i) => (found[i] ? { ...e, restored: found[i].restored } : e));
  const sources = found.flatMap((f, i) => (f ? [{ ...f.source, entry: entries[i] }] : []));
  return { started, entries, sources, warnings };
}

/** Restores what `looked` found (looked up here when not given): one restore build per node. */
export async function restoreGoCaches(
  buildx: BuildxCommand,
  builder: string,
  plan: GoCachePlan,
  store: GoCacheStore,
  tempDir: string,
  looked?: Promise<LookedUp>,
): Promise<RestoreReport> {
  const { started, entries, sources, warnings } = await (looked ?? lookUpGoCaches(plan, store));
  // One restore build per node (one in all with a single node): each node has its own cache mounts.
  const groups = [...new Set(sources.map((src) => src.entry.node?.name ?? ''))];
  for (const [gi, group] of groups.entries()) {
    const mine = sources.filter((src) => (src.entry.node?.name ?? '') === group);
    const dir = path.join(tempDir, 'go-cache', `restore-${gi}`);
    fs.mkdirSync(dir, { recursive: true });
    const dockerfile = path.join(dir, 'Dockerfile');
    fs.writeFileSync(dockerfile, restoreDockerfile(plan.helperImage, mine));
    const argv = helperBuildArgv({
      builder,
      dockerfile,
      contextDir: dir,
      buildArgs: plan.buildArgs,
      buildContexts: mine.flatMap((src) => (src.buildContext ? [src.buildContext] : [])),
      output: 'type=cacheonly',
      nonce: crypto.randomUUID(),
      platform: mine[0].entry.node?.platforms[0],
    });
    out.debug(`restore argv${group ? ` (node ${group})` : ''}: ${JSON.stringify(argv)}`);
    const res = await run(...args(buildx, ...argv), { allowFailure: true });
    if (res.exitCode !== 0) {
      warnings.push(`Restoring the Go caches${group ? ` on node ${group}` : ''} failed: ${failureTail(res, 1)}`);
      for (let i = 0; i < entries.length; i++) {
        if ((entries[i].node?.name ?? '') === group) entries[i] = { ...entries[i], restored: undefined };
      }
    }
  }
  return { entries, seconds: (Date.now() - started) / 1000, warnings };
}

/** A save, with what its build counted (SaveStats) when it got that far. */
export interface SaveReport extends Partial<SaveStats> {
  kind: GoCacheKind;
  node?: string;
  saved: boolean;
  refs: string[];
  /** Compressed bytes stored, and of them uploaded by this save (less than stored with a layer). */
  stored?: number;
  uploaded?: number;
  seconds: number;
  skipReason?: string;
  error?: string;
}

export async function saveGoCache(
  buildx: BuildxCommand,
  builder: string,
  plan: GoCachePlan,
  entry: PlanEntry,
  store: GoCacheStore,
  tempDir: string,
): Promise<SaveReport> {
  const t0 = Date.now();
  const base = { kind: entry.kind, node: entry.node?.name, refs: entry.write };
  if (!entry.save) return { ...base, saved: false, seconds: 0, skipReason: entry.skipReason };
  const dir = path.join(tempDir, 'go-cache', `save-${entry.kind}${entry.node ? `-${entry.node.name}` : ''}`);
  fs.mkdirSync(dir, { recursive: true });
  const dockerfile = path.join(dir, 'Dockerfile');
  const layered = entry.kind === 'build' && (await store.canLayer(entry).catch(() => false));
  fs.writeFileSync(dockerfile, extractDockerfile(plan.helperImage, entry, plan.maxBytes, layered));
  const ctx = path.join(dir, 'context');
  fs.mkdirSync(ctx, { recursive: true });
  const argv = helperBuildArgv({
    builder,
    dockerfile,
    contextDir: ctx,
    buildArgs: plan.buildArgs,
    output: store.output(entry),
    nonce: crypto.randomUUID(),
    platform: entry.node?.platforms[0],
  });
  out.debug(`save ${entry.kind}${entry.node ? ` (node ${entry.node.name})` : ''} argv: ${JSON.stringify(argv)}`);
  const res = await run(...args(buildx, ...argv), { allowFailure: true });
  if (res.exitCode !== 0) {
    return { ...base, saved: false, seconds: (Date.now() - t0) / 1000, error: failureTail(res, 1) };
  }
  const stats = parseStats(res.stderr + res.stdout);
  try {
    const done = await store.finish(entry, stats);
    return { ...base, saved: true, seconds: (Date.now() - t0) / 1000, ...stats, ...done };
  } catch (err) {
    return { ...base, saved: false, seconds: (Date.now() - t0) / 1000, error: (err as Error).message, ...stats };
  }
}
