// The only channel from the main step to the post step.
import * as core from '@actions/core';
import { State } from './constants.js';
import type { GoCachePlan } from './cache/gocache.js';

export interface BuildxCommand {
  /** "docker" for the CLI plugin, or the path of a standalone buildx binary */
  cmd: string;
  /** ["buildx"] for the plugin, [] for a standalone binary */
  prefix: string[];
}

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
  /** A tag that exists only in the engine (push-by-digest with the docker driver), removed in post. */
  localTag?: string;
}

export interface GoCacheState {
  plan: GoCachePlan;
  builder: string;
  driver: string;
  buildx: BuildxCommand;
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

export function saveLocalTag(tag: string): void {
  core.saveState(State.localTag, tag);
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
    localTag: core.getState(State.localTag) || undefined,
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
