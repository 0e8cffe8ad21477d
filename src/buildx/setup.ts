// Phase 1: buildx found or installed, QEMU where a platform needs it, and the builder.
import * as core from '@actions/core';
import type { Settings } from '../settings/types.js';
import { saveCreatedBuilder } from '../state.js';
import { ensureQemu } from '../setup/qemu.js';
import type { BuildxCommand } from './command.js';
import { resolveBuildx } from './install.js';
import { type Builder, prepareBuilder } from './builder.js';

export interface BuildxSetup {
  buildx: BuildxCommand;
  builder: Builder;
  /** Architectures of the built platforms that this runner can neither run nor emulate. */
  unemulated: string[];
}

export async function setupBuildx(settings: Settings): Promise<BuildxSetup> {
  const bx = await resolveBuildx(settings);
  core.info(`buildx ${bx.version}${bx.installed ? ` (installed at ${bx.command.cmd})` : ''}`);
  // Smoke-tested platforms are a subset of the built ones (settings check that).
  const unemulated = await ensureQemu(settings.platforms, settings.qemuImage);
  const builder = await prepareBuilder(settings, bx.command, (name) => saveCreatedBuilder(name, bx.command));
  core.info(
    `builder ${builder.name} (driver ${builder.driver}, BuildKit ${builder.buildkitVersion ?? 'unknown'}), platforms ${builder.platforms.join(', ')}`,
  );
  return { buildx: bx.command, builder, unemulated };
}
