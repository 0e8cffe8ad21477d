// The Go cache phases as the pipeline sees them: plan (pure, from the
// settings and the files), restore before the build, decide what to save
// after it, save in the post step. Every failure here is a warning unless
// cache-strict asks otherwise.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import type { Settings } from '../settings/types.js';
import type { BuildxCommand } from '../buildx/command.js';
import { type InspectNode, nodeForPlatform } from '../buildx/builder.js';
import { copiedModuleFiles, findGoCacheMounts } from '../dockerfile/gomounts.js';
import { buildArgMap } from '../dockerfile/reader.js';
import { cacheKeys, ghaKeys, goCacheRefs, refScheme } from '../cacherefs/keys.js';
import { goDirective, moduleFiles } from '../gomod.js';
import { saveAllowed } from '../cacherefs/refs.js';
import { saveGoCacheState } from './saved.js';
import type { MergedVertex } from '../imagebuild/rawjson.js';
import {
  decideSaves,
  type GoCachePlan,
  type GoCacheStore,
  KIND_LABEL,
  type LookedUp,
  lookUpGoCaches,
  restoreGoCaches,
  type SaveReport,
  saveGoCache,
} from './transfer.js';
import { Inputs, Outputs } from '../constants.js';
import { formatBytes } from '../settings/values.js';
import { actionsCacheClient, GhaStore, RegistryStore } from './stores.js';
import { checkFingerprint, type FingerprintCheck } from '../layercache/skip.js';
import { computeStats, type GoCacheHistory, type GoCacheStats, goBuildSeconds, losingStreak, readHistory } from './stats.js';

export function planGoCache(
  settings: Pick<Settings, 'file' | 'context' | 'buildArgs' | 'platforms' | 'goCache' | 'cacheRef' | 'workflow' | 'buildId'>,
): { plan?: GoCachePlan; note: string } {
  if (!settings.goCache.enabled) return { note: `Go caches are not carried across runs: ${settings.goCache.offReason ?? 'off'}` };
  const dockerfile = fs.readFileSync(settings.file, 'utf8');
  const args = buildArgMap(settings.buildArgs);
  const found = findGoCacheMounts(dockerfile, args, settings.goCache.mounts);
  for (const s of found.skipped) out.warning(`The cache mount ${s.target} (line ${s.line}) is not carried across runs: ${s.reason}`);
  if (found.mounts.length === 0) {
    return { note: 'No Go cache mounts (RUN --mount=type=cache with GOMODCACHE or GOCACHE as target) in the Dockerfile' };
  }
  // The module files the Dockerfile copies decide the module set (svc/go.sum in a
  // monorepo built from the root); without such COPY lines, the context's own.
  const copied = copiedModuleFiles(dockerfile, args, (dir) => listDir(path.join(settings.context, dir)));
  const files: Record<string, string> = {};
  for (const f of copied.length > 0 ? copied : moduleFiles(settings.context))
    files[f] = fs.readFileSync(path.join(settings.context, f), 'utf8');
  const goModName = Object.keys(files).find((f) => path.basename(f) === 'go.mod') ?? 'go.mod';
  const goMod = path.join(settings.context, goModName);
  const keys = cacheKeys({
    goImage: found.mounts[0].stageBase,
    goDirective: fs.existsSync(goMod) ? goDirective(fs.readFileSync(goMod, 'utf8')) : '',
    platforms: settings.platforms,
    moduleFiles: files,
    buildId: settings.buildId,
  });
  out.debug(`Go cache keys from ${JSON.stringify(Object.keys(files))}: ${JSON.stringify(keys)}`);
  const helperImage = settings.goCache.image ?? found.mounts[0].stageBase;
  if (!helperImage || helperImage.includes('$') || helperImage === 'scratch') {
    return {
      note: `The Go stage's base image (${helperImage || 'none'}) cannot run the restore and save steps; name one with go-cache-image`,
    };
  }
  const scheme = refScheme(settings);
  const entries = found.mounts.map((mount) => {
    const refs =
      settings.goCache.backend === 'gha' || !scheme
        ? ghaKeys(mount.kind, keys[mount.kind], settings.workflow.runId)
        : goCacheRefs(scheme, mount.kind, keys[mount.kind]);
    return { kind: mount.kind, mount, key: keys[mount.kind], read: refs.read, write: refs.write, save: false };
  });
  const ns = settings.buildArgs.filter((a) => a.startsWith('BUILDKIT_CACHE_MOUNT_NS='));
  return {
    plan: {
      backend: settings.goCache.backend,
      helperImage,
      maxBytes: settings.goCache.maxBytes,
      buildArgs: ns,
      entries,
    },
    note: `${entries.map((e) => `${KIND_LABEL[e.kind]} at ${e.mount.target} (line ${e.mount.line})`).join(', ')}; helper image ${helperImage}`,
  };
}

/**
 * The plan for a builder of several nodes: each node restores and saves the caches of the
 * platforms it builds (GOCACHE keyed by those platforms); the module cache is the same on every
 * node, so it is restored everywhere and saved from the first node only.
 */
export function planGoCacheForNodes(
  settings: Parameters<typeof planGoCache>[0],
  nodes: InspectNode[],
): { plan?: GoCachePlan; note: string } {
  const groups = nodes
    .map((n) => ({
      name: n.name,
      platforms: settings.platforms.filter((p) => nodeForPlatform(nodes, p, settings.platforms)?.name === n.name),
    }))
    .filter((g) => g.platforms.length > 0);
  if (groups.length < 2) return planGoCache(settings);
  const planned = groups.map((g) => ({ g, planned: planGoCache({ ...settings, platforms: g.platforms }) }));
  const first = planned[0].planned;
  if (!first.plan) return first;
  const entries = planned.flatMap(({ g, planned: p }, gi) =>
    (p.plan?.entries ?? []).map((e) => ({ ...e, node: g, follower: gi > 0 && e.kind === 'mod' })),
  );
  const where = groups.map((g) => `${g.name}: ${g.platforms.join(', ')}`).join('; ');
  return { plan: { ...first.plan, entries }, note: `${first.note}; per node (${where})` };
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Where the gha backend keeps its files; a fixed path, because actions/cache versions entries by path. */
export function ghaRoot(): string {
  return path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'go-buildx-gha-cache');
}

export async function storeFor(
  backend: GoCachePlan['backend'],
  tempDir: string,
  cleanup?: ConstructorParameters<typeof GhaStore>[2],
): Promise<GoCacheStore> {
  return backend === 'gha' ? new GhaStore(await actionsCacheClient(), ghaRoot(), cleanup) : new RegistryStore(tempDir);
}

export function describeSave(r: SaveReport, fmt: (n: number) => string): string {
  const what = `${KIND_LABEL[r.kind]}${r.node ? ` on node ${r.node}` : ''}`;
  if (r.error) return `${what}: save failed after ${r.seconds.toFixed(1)}s: ${r.error}`;
  if (!r.saved) return `${what}: not saved (${r.skipReason ?? 'nothing to save'})`;
  const used = r.used !== undefined && r.total !== undefined && r.used < r.total ? `; ${fmt(r.used)} used or created by this run` : '';
  const trimmed = r.total !== undefined && r.kept !== undefined && r.kept < r.total ? ` (of ${fmt(r.total)}${used})` : '';
  const size =
    r.mode === 'layered' && r.savedBytes !== undefined
      ? `${fmt(r.savedBytes)}: the restored copy plus a layer of what this run created (${fmt(r.used ?? 0)} used or created by this run)`
      : r.kept !== undefined
        ? `${fmt(r.kept)}${trimmed}`
        : 'size unknown';
  const sent = r.uploaded !== undefined && r.stored !== undefined && r.uploaded < r.stored ? ` (${fmt(r.uploaded)} uploaded)` : '';
  const stored = r.stored !== undefined ? `, ${fmt(r.stored)} stored${sent}` : '';
  const actions = r.actions ? `; ${r.actions.reused} build actions reused, ${r.actions.run} run anew` : '';
  return `${what}: saved ${size}${stored} in ${r.seconds.toFixed(1)}s to ${r.refs.join(', ')}${actions}`;
}

/** The post step's save: every cache in parallel; each failure is a warning. */
export async function saveGoCaches(
  buildx: BuildxCommand,
  builder: string,
  plan: GoCachePlan,
  tempDir: string,
  cleanup?: ConstructorParameters<typeof GhaStore>[2],
) {
  const store = await storeFor(plan.backend, tempDir, cleanup);
  return Promise.all(plan.entries.map((e) => saveGoCache(buildx, builder, plan, e, store, tempDir)));
}

/** What the restore leaves for the rest of the run: the plan for the save, and the build's fingerprint. */
export interface GoRestore {
  plan?: GoCachePlan;
  fingerprint?: FingerprintCheck;
}

/** Restores the Go caches, unless the layer cache this run imports was exported with the same inputs. */
export async function restoreGoStep(
  settings: Settings,
  buildx: BuildxCommand,
  builder: { name: string; driver: string; nodes?: InspectNode[] },
  tempDir: string,
  /** The fingerprint check, when it was started earlier (startFingerprintCheck). */
  early?: Promise<FingerprintCheck | Error | undefined>,
): Promise<GoRestore> {
  let planned: ReturnType<typeof planGoCache>;
  try {
    planned = planGoCacheForNodes(settings, builder.nodes ?? []);
  } catch (err) {
    return { plan: goCacheProblem(settings, `Planning the Go caches failed: ${(err as Error).message}`) };
  }
  // The note quotes the Dockerfile (mount targets, the base image), which a pull request may have written.
  out.info(planned.note);
  if (!planned.plan) return {};
  for (const e of planned.plan.entries) out.debug(`${KIND_LABEL[e.kind]} key ${e.key}, writes ${JSON.stringify(e.write)}`);
  const t0 = Date.now();
  // Registry lookups are a few small requests: they run beside the fingerprint check, and are
  // dropped when it matches. An actions/cache lookup downloads the cache, so it waits.
  const looked = planned.plan.backend === 'registry' ? lookUpGoCaches(planned.plan, new RegistryStore(tempDir)) : undefined;
  const checked = await (early ?? checkFingerprint(settings).catch((err: Error) => err));
  if (checked instanceof Error) out.warning(`Could not compute the build's fingerprint: ${checked.message}. The Go caches are restored.`);
  const fingerprint = checked instanceof Error ? undefined : checked;
  for (const d of fingerprint?.details ?? []) out.debug(d);
  if (fingerprint?.matched) {
    out.info(`Go caches not restored: ${fingerprint.reason} (fingerprint ${fingerprint.fingerprint}), so no step that mounts them runs`);
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    // Nothing needed restoring: as good as an exact hit for a workflow that asks.
    core.setOutput(Outputs.goCacheHit, 'true');
    core.setOutput(Outputs.goCacheRestored, JSON.stringify({ mod: null, build: null, seconds, skipped: 'fingerprint' }));
    return { plan: { ...planned.plan, restoreSeconds: seconds, skipped: 'fingerprint' }, fingerprint };
  }
  // Why the caches are restored, in the log: the reason quotes refs and registry answers, untrusted text.
  if (fingerprint) out.info(`Go caches restored: ${fingerprint.reason} (fingerprint ${fingerprint.fingerprint})`);
  return { plan: await restorePlanned(settings, buildx, builder, planned.plan, tempDir, looked), fingerprint };
}

async function restorePlanned(
  settings: Settings,
  buildx: BuildxCommand,
  builder: { name: string; driver: string },
  plan: GoCachePlan,
  tempDir: string,
  looked?: Promise<LookedUp>,
): Promise<GoCachePlan> {
  let report: Awaited<ReturnType<typeof restoreGoCaches>>;
  try {
    const store = await storeFor(plan.backend, tempDir);
    report = await restoreGoCaches(buildx, builder.name, plan, store, tempDir, looked);
  } catch (err) {
    goCacheProblem(settings, `Restoring the Go caches failed: ${(err as Error).message}`);
    return plan;
  }
  for (const w of report.warnings) goCacheProblem(settings, w);
  const restored: Record<string, unknown> = {};
  for (const e of report.entries) {
    const r = e.restored;
    const what = `${KIND_LABEL[e.kind]}${e.node ? ` on node ${e.node.name}` : ''}`;
    out.info(
      r
        ? `${what}: restored ${formatBytes(r.bytes)} from ${r.ref} (${r.match} match)`
        : `${what}: no saved cache found (tried ${e.read.map((c) => c.ref).join(', ')})`,
    );
    // The output keeps its shape: per kind, the first node's (with one node, the only one).
    if (!(e.kind in restored)) restored[e.kind] = r ? { ref: r.ref, match: r.match, bytes: r.bytes } : null;
  }
  out.info(`Go cache restore took ${report.seconds.toFixed(1)}s`);
  const hit = report.entries.every((e) => e.restored?.match === 'exact');
  core.setOutput(Outputs.goCacheHit, String(hit));
  core.setOutput(Outputs.goCacheRestored, JSON.stringify({ ...restored, seconds: Math.round(report.seconds * 10) / 10 }));
  return { ...plan, entries: report.entries, restoreSeconds: report.seconds };
}

/** After the build: which caches the post step saves (only what a step of this build used), recorded for it. */
export async function recordGoSaves(
  plan: GoCachePlan,
  vertices: MergedVertex[],
  settings: Pick<Settings, 'saveOn' | 'workflow' | 'platforms'>,
  builder: { name: string; driver: string },
  buildx: BuildxCommand,
): Promise<GoCacheStats | undefined> {
  const decided = decideSaves(plan, vertices, saveAllowed(settings));
  for (const e of decided.entries) {
    const what = `${KIND_LABEL[e.kind]}${e.node ? ` on node ${e.node.name}` : ''}`;
    out.info(`${what}: ${e.save ? `will be saved in the post step to ${e.write.join(', ')}` : `no save (${e.skipReason})`}`);
  }
  const explained = await explainGoCache(plan, vertices, settings.platforms).catch((err: Error) => {
    out.warning(`Could not work out what the Go caches saved: ${err.message}`);
    return undefined;
  });
  saveGoCacheState({ plan: decided, builder: builder.name, buildx, ...explained });
  return explained?.stats;
}

/** What the Go caches did for this build, against the cold times kept beside the saved GOCACHE. */
async function explainGoCache(
  plan: GoCachePlan,
  vertices: MergedVertex[],
  platforms: string[],
): Promise<{ stats: GoCacheStats; history?: GoCacheHistory } | undefined> {
  // With several nodes each has its own GOCACHE; the figures follow the first one's.
  const build = plan.entries.find((e) => e.kind === 'build');
  if (!build) return undefined;
  const history = plan.backend === 'registry' && build.restored ? await readHistory(build.restored.ref).catch(() => undefined) : undefined;
  const bytes = plan.entries.reduce((n, e) => n + (e.restored?.bytes ?? 0), 0);
  const restore = { seconds: Math.round((plan.restoreSeconds ?? 0) * 10) / 10, bytes, ...(plan.skipped ? { skipped: plan.skipped } : {}) };
  const stats = computeStats(goBuildSeconds(vertices, build.mount, platforms), history, restore, build.restored !== undefined);
  core.setOutput(Outputs.goCacheStats, JSON.stringify(stats));
  core.setOutput(Outputs.goCacheSavedSeconds, String(stats.savedSeconds ?? 0));
  for (const [p, x] of Object.entries(stats.platforms)) {
    if (x.goBuildSeconds === null) out.info(`${p}: go build came from the layer cache`);
    else
      out.info(
        `${p}: go build ${x.goBuildSeconds}s${x.coldSeconds !== null ? `, cold ${x.coldSeconds}s, saved ${x.savedSeconds}s` : ' (no cold time to compare with)'}`,
      );
  }
  const streak = losingStreak(history);
  if (streak) out.warning(streak);
  return { stats, history };
}

/** A Go cache failure is a warning, unless cache-strict makes it an error. */
function goCacheProblem(settings: Settings, msg: string): undefined {
  if (settings.cacheStrict) throw new Error(`${msg} (${Inputs.cacheStrict}: true)`);
  out.warning(`${msg}. The build goes on without it.`);
  return undefined;
}
