import * as core from '@actions/core';
import { Outputs } from '../constants.js';
import type { CacheStats } from '../build/rawjson.js';
import { formatRate } from '../build/rawjson.js';
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
