// The layer cache of a run whose fingerprint matched the very ref it writes: that ref already holds every
// step this build takes from it, so the build runs without exporting it again. Measured on Docker 26.1
// (BuildKit 0.13): re-exporting a build that took every step from the imported cache left one layer of the
// Go stage out of the new cache image (9 layers, then 8), and the next code change ran `go mod download`
// and the steps before it again (1.3-1.5 s, and its module downloads where the Go caches were not restored).
// Should a step run all the same (a base image tag moved, the layer cache lacked a step), the cache is
// exported right after, by a build that takes every step from the builder's own cache.
import * as core from '@actions/core';
import { Inputs } from '../constants.js';
import type { BuildxCommand } from '../buildx/command.js';
import { cacheStats, type MergedVertex } from '../build/rawjson.js';
import { reportCacheProblems } from '../report/outputs.js';
import { runBuild } from '../build/runner.js';
import type { ResolvedBuild } from '../build/resolve.js';
import { phase } from '../lifecycle.js';
import type { FingerprintCheck } from './skip.js';

/** The argv the build runs with, and whether it leaves the action's own layer cache export out. */
export function buildArgvFor(
  build: Pick<ResolvedBuild, 'argv' | 'ownCache'>,
  check: FingerprintCheck | undefined,
): { argv: string[]; kept: boolean } {
  const own = build.ownCache;
  if (own && check?.matched === own.ref) return { argv: own.argvKeeping, kept: true };
  return { argv: build.argv, kept: false };
}

/**
 * After a build that left the own export out: nothing to do when every step came from the cache; else the
 * export, whose vertices say whether it worked. `failed`: it did not run to the end (a warning, or in strict
 * mode an error), so the fingerprint must not be written for it.
 */
export async function exportIfStepsRan(
  buildx: BuildxCommand,
  build: Pick<ResolvedBuild, 'ownCache'>,
  vertices: MergedVertex[],
  cacheStrict: boolean,
): Promise<{ vertices?: MergedVertex[]; failed?: boolean }> {
  const own = build.ownCache;
  if (!own) return {};
  const stats = cacheStats(vertices);
  if (stats.hits === stats.steps) {
    core.info(`Layer cache: every step came from ${own.ref}, whose fingerprint matched, so it is not exported again`);
    return {};
  }
  return phase('Export the layer cache', async () => {
    core.info(`${stats.steps - stats.hits} step(s) ran although the fingerprint matched: exporting ${own.ref}`);
    core.debug(`layer cache export argv: ${JSON.stringify(own.exportArgv)}`);
    let exported: MergedVertex[];
    try {
      exported = (await runBuild(buildx, own.exportArgv, own.exportMetadataFile)).vertices;
    } catch (err) {
      const msg = `Exporting the layer cache to ${own.ref} failed: ${(err as Error).message}`;
      if (cacheStrict) throw new Error(`${msg} (${Inputs.cacheStrict}: true)`);
      core.warning(`${msg}. The build went on; the next run will start colder.`);
      return { failed: true };
    }
    // Outside strict mode BuildKit only marks a failed export on its vertex (the import was reported with the build).
    reportCacheProblems(exported, cacheStrict, 'export');
    return { vertices: exported };
  });
}
