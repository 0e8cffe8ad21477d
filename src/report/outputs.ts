import * as out from '../output.js';
import * as core from '@actions/core';
import { Outputs } from '../constants.js';
import { type CacheStats, cacheStats, formatRate, type MergedVertex } from '../imagebuild/rawjson.js';
import { reportCacheProblems } from '../layercache/problems.js';
import type { BuildMetadata } from '../imagebuild/metadata.js';
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
