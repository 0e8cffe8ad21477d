// The only channel from the main step to the post step.
import * as core from '@actions/core';
import { State } from './constants.js';

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

export function loadState(): PostState {
  const buildx = core.getState(State.buildxCommand);
  return {
    isPost: core.getState(State.isPost) === 'true',
    createdBuilder: core.getState(State.createdBuilder) || undefined,
    buildx: buildx ? (JSON.parse(buildx) as BuildxCommand) : undefined,
    tempDir: core.getState(State.tempDir) || undefined,
    runKey: core.getState(State.runKey) || undefined,
  };
}
