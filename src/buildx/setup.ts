// Phase 1: buildx found or installed, QEMU where a platform needs it, and the builder.
import * as out from '../output.js';
import * as semver from 'semver';
import { Inputs, PINNED_BUILDX_VERSION } from '../constants.js';
import { InputError } from '../settings/types.js';
import type { Settings } from '../settings/types.js';
import { saveCreatedBuilder } from '../state.js';
import { ensureQemu } from '../setup/qemu.js';
import type { BuildxCommand } from './command.js';
import { resolveBuildx } from './install.js';
import { type Builder, containerOnlyInputs, nodeForPlatform, prepareBuilder, startEngineProbe } from './builder.js';

export interface BuildxSetup {
  buildx: BuildxCommand;
  builder: Builder;
  /** Architectures of the built platforms that this runner can neither run nor emulate. */
  unemulated: string[];
}

/** `--call` came with buildx 0.15. */
const CALL_MIN_BUILDX = '0.15.0';

export async function setupBuildx(settings: Settings, tempDir: string): Promise<BuildxSetup> {
  // A failure here surfaces where prepareBuilder awaits it; until then it must not be an unhandled rejection.
  // The docker driver may be the one: no builder named, and nothing only a BuildKit container takes.
  const maybeDocker =
    settings.driver === 'docker' || (settings.driver === 'auto' && containerOnlyInputs(settings.builderOptions).length === 0);
  const probe = settings.builder ? undefined : startEngineProbe(maybeDocker);
  const bx = await resolveBuildx(settings);
  out.info(`buildx ${bx.version}${bx.installed ? ` (installed at ${bx.command.cmd})` : ''}`);
  requireBuildxFeatures(settings, bx.version);
  // Smoke-tested platforms are a subset of the built ones (settings check that).
  const unemulated = await ensureQemu(settings.platforms, settings.qemuImage);
  const builder = await prepareBuilder(
    settings,
    bx.command,
    (name) => saveCreatedBuilder(name, bx.command),
    tempDir,
    probe?.facts,
    probe?.engineBuilder,
  );
  out.info(
    `builder ${builder.name} (driver ${builder.driver}, BuildKit ${builder.buildkitVersion ?? 'unknown'}), platforms ${builder.platforms.join(', ')}`,
  );
  // With several nodes, say which one builds which platform (buildx sends each to the first node that lists it).
  if (builder.nodes.length > 1) {
    for (const p of settings.platforms) {
      const n = nodeForPlatform(builder.nodes, p, settings.platforms);
      out.info(`${p}: built on node ${n?.name ?? '?'}${n?.endpoint ? ` (${n.endpoint})` : ''}`);
    }
  }
  return { buildx: bx.command, builder, unemulated };
}

/** Inputs that need a newer buildx than the one the runner has: a clear error before anything runs. */
export function requireBuildxFeatures(settings: Pick<Settings, 'flags'>, version: string): void {
  const v = semver.coerce(version);
  if (settings.flags.call && v && semver.lt(v, CALL_MIN_BUILDX)) {
    throw new InputError(
      Inputs.call,
      settings.flags.call,
      `needs buildx ${CALL_MIN_BUILDX} or newer, and this runner has ${version}`,
      `${Inputs.buildxVersion}: ${PINNED_BUILDX_VERSION} (or any release from ${CALL_MIN_BUILDX}) together with call`,
    );
  }
}
