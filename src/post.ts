// The post step: removes what main created. It never fails the job.
import * as out from './output.js';
import * as fs from 'node:fs';
import { loadState, type PostState, removeStateKey } from './state.js';
import { nextHistory, writeHistory } from './gocache/stats.js';
import type { SaveReport } from './gocache/transfer.js';
import { run } from './exec.js';
import { removeBuilder } from './buildx/builder.js';
import { sweepRunContainers } from './lifecycle.js';
import { describeSave, ghaRoot, saveGoCaches } from './gocache/phases.js';
import { formatBytes } from './settings/values.js';
import { githubApiFromInputs } from './settings/parse.js';
import { exportInPost, layerExportFromSaved } from './layercache/layerexport.js';
import { goCacheFromSaved, type GoCacheState } from './gocache/saved.js';
import { sizeMemoOf } from './layercache/marker.js';

export async function post(): Promise<void> {
  try {
    await cleanUp(loadState());
  } catch (err) {
    // Post never fails the job.
    out.warning(`The post step could not finish: ${(err as Error).message}`);
  } finally {
    removeStateKey();
  }
}

async function cleanUp(state: PostState): Promise<void> {
  for (const p of state.problems) out.warning(`Post step: ${p}; it is ignored, and what can be cleaned up still is`);
  for (const f of state.secretFiles) fs.rmSync(f, { force: true });
  try {
    if (state.runKey) {
      const n = await sweepRunContainers(state.runKey);
      if (n > 0) out.info(`Removed ${n} leftover container(s) of this run`);
    }
  } catch (err) {
    out.warning(`Cleanup of containers failed: ${(err as Error).message}`);
  }
  // Before the builder goes: the build's cache and the Go cache mounts live in it.
  if (state.layerExport) await exportInPost(layerExportFromSaved(state.layerExport), sizeMemoOf(state.sizeMemo));
  const goCache = state.goCache && goCacheFromSaved(state.goCache);
  if (goCache && goCache.plan.entries.some((e) => e.save)) {
    await out.group('Save Go caches', async () => {
      try {
        const { plan, builder, buildx } = goCache;
        const t0 = Date.now();
        // The token is read here, in the step that uses it, rather than carried in the saved state.
        const cleanup = plan.backend === 'gha' ? { api: githubApiFromInputs(), ref: process.env.GITHUB_REF ?? '' } : undefined;
        const reports = await saveGoCaches(buildx, builder, plan, state.tempDir ?? ghaRoot(), cleanup);
        for (const r of reports) {
          const line = describeSave(r, formatBytes);
          if (r.error) out.warning(line);
          else out.info(line);
        }
        await extendHistory(goCache, reports);
        out.info(`Go cache save took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      } catch (err) {
        out.warning(`Saving the Go caches failed: ${(err as Error).message}`);
      }
    });
  } else if (goCache) {
    for (const e of goCache.plan.entries) out.info(`Go cache ${e.kind}: not saved (${e.skipReason ?? 'nothing to save'})`);
  }
  try {
    if (state.createdBuilder && state.buildx) {
      out.info(`Removing builder ${state.createdBuilder}`);
      await removeBuilder(state.buildx, state.createdBuilder);
    }
  } catch (err) {
    out.warning(`Cleanup of builder ${state.createdBuilder} failed: ${(err as Error).message}`);
  }
  for (const ref of state.engineImages) await run('docker', ['image', 'rm', ref], { allowFailure: true }).catch(() => undefined);
  try {
    if (state.tempDir) fs.rmSync(state.tempDir, { recursive: true, force: true });
    if (goCache?.plan.backend === 'gha') fs.rmSync(ghaRoot(), { recursive: true, force: true });
  } catch (err) {
    out.warning(`Cleanup of ${state.tempDir} failed: ${(err as Error).message}`);
  }
}

/** After a GOCACHE save to the registry: the cold times and this run's cost, beside it. A failure is only logged. */
async function extendHistory(g: GoCacheState, reports: SaveReport[]): Promise<void> {
  const entry = g.plan.entries.find((e) => e.kind === 'build' && !e.node);
  const saved = reports.find((r) => r.kind === 'build' && !r.node && r.saved);
  if (!g.stats || !entry || !saved || g.plan.backend !== 'registry') return;
  try {
    await writeHistory(entry.write[0], nextHistory(g.history, g.stats, saved.seconds));
  } catch (err) {
    out.info(`The Go cache history was not stored: ${(err as Error).message}`);
  }
}
