// The only channel from the main step to the post step.
import * as core from '@actions/core';
import { State } from './constants.js';
import type { GoCachePlan } from './cache/transfer.js';
import type { GoCacheHistory, GoCacheStats } from './cache/stats.js';
import type { BuildxCommand } from './buildx/command.js';
import type { FingerprintRecord, FingerprintSource } from './cache/skip.js';

export interface PostState {
  isPost: boolean;
  /** A builder this action created, to be removed in post. */
  createdBuilder?: string;
  buildx?: BuildxCommand;
  /** A temporary directory this action created (secrets, metadata), to be removed in post. */
  tempDir?: string;
  /** Label value on every container this run started; post removes strays by it. */
  runKey?: string;
  /** The Go caches to save, and the builder that holds them. */
  goCache?: GoCacheState;
  /** The action's own layer cache export, left to the post step. */
  layerExport?: LayerExportState;
  /** Images the action put into the engine (a local tag for push-by-digest, a staged image pulled for the smoke test); post removes them. */
  engineImages: string[];
}

export interface GoCacheState {
  plan: GoCachePlan;
  builder: string;
  buildx: BuildxCommand;
  /** What the caches did in this build, and the history the post step extends after its save. */
  stats?: GoCacheStats;
  history?: GoCacheHistory;
}

export interface LayerExportState {
  buildx: BuildxCommand;
  /** The layer cache ref it writes. */
  ref: string;
  /** `buildx build` argv of the export alone (cacheonly output, no secrets), and its metadata file. */
  argv: string[];
  metadataFile: string;
  /** Stored beside the ref once the export worked. */
  record?: FingerprintRecord;
  /** The build's fingerprint, and what it was computed from: post exports only while the context still gives it. */
  fingerprint: string;
  source: FingerprintSource;
}

export function markMain(): void {
  core.saveState(State.isPost, 'true');
}

export function saveCreatedBuilder(name: string, buildx: BuildxCommand): void {
  core.saveState(State.createdBuilder, name);
  core.saveState(State.buildxCommand, JSON.stringify(buildx));
}

export function saveTempDir(dir: string): void {
  core.saveState(State.tempDir, dir);
}

export function saveRunKey(key: string): void {
  core.saveState(State.runKey, key);
}

export function saveGoCacheState(s: GoCacheState): void {
  core.saveState(State.goCachePlan, JSON.stringify(s));
}

export function saveLayerExport(s: LayerExportState): void {
  core.saveState(State.layerExport, JSON.stringify(s));
}

const engineImages: string[] = [];

/** Records an image the action is about to put into the engine, before it does, so post removes it whatever happens. */
export function saveEngineImage(ref: string): void {
  if (!engineImages.includes(ref)) engineImages.push(ref);
  core.saveState(State.engineImages, JSON.stringify(engineImages));
}

export function loadState(): PostState {
  const buildx = core.getState(State.buildxCommand);
  return {
    isPost: core.getState(State.isPost) === 'true',
    createdBuilder: core.getState(State.createdBuilder) || undefined,
    buildx: buildx ? (JSON.parse(buildx) as BuildxCommand) : undefined,
    tempDir: core.getState(State.tempDir) || undefined,
    runKey: core.getState(State.runKey) || undefined,
    goCache: parseJson<GoCacheState>(core.getState(State.goCachePlan)),
    layerExport: parseJson<LayerExportState>(core.getState(State.layerExport)),
    engineImages: parseJson<string[]>(core.getState(State.engineImages)) ?? [],
  };
}

function parseJson<T>(raw: string): T | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
