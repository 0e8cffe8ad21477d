// Chooses and prepares the builder. With the containerd image store the
// engine's own builder (docker driver) can build multi-platform images, keep
// them in the engine for the smoke test, and export registry cache, so `auto`
// uses it. Otherwise it creates a docker-container builder.
import * as core from '@actions/core';
import { run } from '../exec.js';
import { OWNER_LABEL } from '../constants.js';
import type { Settings } from '../settings/types.js';
import { args, type BuildxCommand } from './command.js';

export type ConcreteDriver = 'docker' | 'docker-container';

export interface Builder {
  name: string;
  driver: string;
  platforms: string[];
  buildkitVersion?: string;
  /** True when this action created it, so the post step removes it. */
  created: boolean;
}

/** `docker info --format '{{json .DriverStatus}}'` → is this the containerd image store? */
export function isContainerdStore(driverStatusJson: string): boolean {
  const pairs = JSON.parse(driverStatusJson || 'null') as [string, string][] | null;
  return (pairs ?? []).some(([k, v]) => k === 'driver-type' && v === 'io.containerd.snapshotter.v1');
}

export function chooseDriver(requested: Settings['driver'], containerdStore: boolean): ConcreteDriver {
  if (requested !== 'auto') return requested;
  return containerdStore ? 'docker' : 'docker-container';
}

export interface InspectResult {
  name: string;
  driver: string;
  platforms: string[];
  buildkitVersion?: string;
}

/** Parses the text of `buildx inspect NAME`. */
export function parseInspect(text: string): InspectResult {
  const field = (key: string): string | undefined => {
    const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text);
    return m ? m[1].trim() : undefined;
  };
  const platforms = (field('Platforms') ?? '')
    .split(',')
    .map((p) => p.trim().replace(/\*$/, ''))
    .filter(Boolean);
  return {
    name: field('Name') ?? '',
    driver: field('Driver') ?? '',
    platforms,
    buildkitVersion: field('BuildKit version') ?? field('Buildkit'),
  };
}

export interface CreateOptions {
  name: string;
  buildkitImage: string;
  /** Host networking for the BuildKit container, so RUN steps can reach loopback services. */
  hostNetwork: boolean;
}

export function createBuilderArgs(o: CreateOptions): string[] {
  const argv = ['create', '--name', o.name, '--driver', 'docker-container', '--driver-opt', `image=${o.buildkitImage}`];
  if (o.hostNetwork) argv.push('--driver-opt', 'network=host');
  // The same entitlements docker/setup-buildx-action allows, so that
  // `network: host` and insecure steps behave as they do on the docker driver.
  argv.push(
    '--buildkitd-flags',
    '--allow-insecure-entitlement network.host --allow-insecure-entitlement security.insecure',
    '--label',
    `${OWNER_LABEL}=builder`,
    '--bootstrap',
  );
  return argv;
}

/** A builder name unique to this run attempt (run id and attempt, from the workflow context) and this step. */
export function builderName(runId: string): string {
  return `gba-${runId}-${Math.random().toString(36).slice(2, 8)}`;
}

async function inspect(buildx: BuildxCommand, name: string): Promise<InspectResult> {
  const res = await run(...args(buildx, 'inspect', '--bootstrap', name));
  return parseInspect(res.stdout);
}

/**
 * record: called with the name of a builder this action is about to create,
 * before `buildx create` runs, so the post step removes it even when create
 * or bootstrap fails half-way.
 */
export async function prepareBuilder(settings: Settings, buildx: BuildxCommand, record: (name: string) => void): Promise<Builder> {
  if (settings.builder) {
    const info = await inspect(buildx, settings.builder);
    return {
      name: info.name || settings.builder,
      driver: info.driver,
      platforms: info.platforms,
      buildkitVersion: info.buildkitVersion,
      created: false,
    };
  }
  const status = await run('docker', ['info', '--format', '{{json .DriverStatus}}']);
  const containerd = isContainerdStore(status.stdout.trim());
  const driver = chooseDriver(settings.driver, containerd);
  core.info(
    `Engine image store: ${containerd ? 'containerd' : 'classic'}; driver: ${driver}${settings.driver === 'auto' ? ' (auto)' : ''}`,
  );
  if (driver === 'docker') {
    if (!containerd) {
      core.warning(
        'driver: docker without the containerd image store cannot export registry cache or keep multi-platform images; consider driver: docker-container',
      );
    }
    const ctx = (await run('docker', ['context', 'show'])).stdout.trim() || 'default';
    const info = await inspect(buildx, ctx);
    return { name: ctx, driver: info.driver, platforms: info.platforms, buildkitVersion: info.buildkitVersion, created: false };
  }
  const name = builderName(settings.workflow.runId);
  const argv = createBuilderArgs({ name, buildkitImage: settings.buildkitImage, hostNetwork: settings.network === 'host' });
  core.debug(`buildx create argv: ${JSON.stringify(argv)}`);
  record(name);
  await run(...args(buildx, ...argv), { echo: true });
  const info = await inspect(buildx, name);
  return { name, driver: info.driver, platforms: info.platforms, buildkitVersion: info.buildkitVersion, created: true };
}

export async function removeBuilder(buildx: BuildxCommand, name: string): Promise<void> {
  await run(...args(buildx, 'rm', '--force', name), { allowFailure: true });
}
