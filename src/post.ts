// The post step: removes what main created. It never fails the job.
import * as fs from 'node:fs';
import * as core from '@actions/core';
import { loadState } from './state.js';
import { removeBuilder } from './setup/builder.js';
import { removeRunContainers } from './smoke/run.js';

export async function post(): Promise<void> {
  const state = loadState();
  try {
    if (state.runKey) {
      const n = await removeRunContainers(state.runKey);
      if (n > 0) core.info(`Removed ${n} leftover container(s) of this run`);
    }
  } catch (err) {
    core.warning(`Cleanup of containers failed: ${(err as Error).message}`);
  }
  try {
    if (state.createdBuilder && state.buildx) {
      core.info(`Removing builder ${state.createdBuilder}`);
      await removeBuilder(state.buildx, state.createdBuilder);
    }
  } catch (err) {
    core.warning(`Cleanup of builder ${state.createdBuilder} failed: ${(err as Error).message}`);
  }
  try {
    if (state.tempDir) fs.rmSync(state.tempDir, { recursive: true, force: true });
  } catch (err) {
    core.warning(`Cleanup of ${state.tempDir} failed: ${(err as Error).message}`);
  }
}
