import * as out from '../output.js';
import * as core from '@actions/core';
import { Inputs, Outputs } from '../constants.js';
import { type CacheProblemKind, cacheProblems, type CacheStats, cacheStats, formatRate, type MergedVertex } from '../build/rawjson.js';
import type { BuildMetadata } from '../build/metadata.js';
import type { ImageSizes } from './sizes.js';

export function setBuildOutputs(builder: { name: string; driver: string }, stats: CacheStats, metadata?: BuildMetadata): void {
  core.setOutput(Outputs.builder, builder.name);
  core.setOutput(Outputs.driver, builder.driver);
  core.setOutput(Outputs.cacheHitRate, formatRate(stats.rate));
  core.setOutput(Outputs.cacheHits, String(stats.hits));
  core.setOutput(Outputs.cacheSteps, String(stats.steps));
  if (metadata) {
    core.setOutput(Outputs.metadata, JSON.stringify(metadata.raw));
    if (metadata.digest) core.setOutput(Outputs.digest, metadata.digest);
    if (metadata.imageId) core.setOutput(Outputs.imageid, metadata.imageId);
  }
}

export function setSizeOutputs(sizes: ImageSizes, headline: string | undefined): void {
  core.setOutput(Outputs.imageSizes, JSON.stringify(sizes));
  if (headline && sizes[headline]) core.setOutput(Outputs.imageSize, String(sizes[headline].compressed));
}

export function formatBytes(n: number | null): string {
  if (n === null) return 'n/a';
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)} ${units[i]}`;
}

/**
 * The build's outputs and its cache problems. A ref that does not exist yet
 * is a cold start (info); an import or export that failed is a warning, or an
 * error with cache-strict.
 */
export function reportBuild(
  builder: { name: string; driver: string },
  result: { vertices: MergedVertex[]; seconds: number; metadata?: BuildMetadata },
  cacheStrict: boolean,
): CacheStats {
  const stats = cacheStats(result.vertices);
  out.info(`Built in ${result.seconds.toFixed(1)}s; cache: ${stats.hits}/${stats.steps} Dockerfile steps (${formatRate(stats.rate)}%)`);
  setBuildOutputs(builder, stats, result.metadata);
  reportCacheProblems(result.vertices, cacheStrict);
  return stats;
}

/** The layer cache imports and exports that failed on a build's vertices (or only `kind`): warnings, or in strict mode an error. */
export function reportCacheProblems(vertices: MergedVertex[], cacheStrict: boolean, kind?: CacheProblemKind): void {
  for (const p of cacheProblems(vertices).filter((x) => !kind || x.kind === kind)) {
    if (p.missing) {
      out.info(`No layer cache yet at ${p.vertex.replace(/^importing cache manifest from /, '')}: a cold start`);
      continue;
    }
    const msg = `Cache ${p.kind} failed (${p.vertex}): ${p.error}`;
    if (cacheStrict) throw new Error(`${msg} (${Inputs.cacheStrict}: true)`);
    out.warning(`${msg}. The build went on${p.kind === 'import' ? ' without that cache' : '; the next run will start colder'}.`);
  }
}
