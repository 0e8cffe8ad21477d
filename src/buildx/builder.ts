// Chooses and prepares the builder. With the containerd image store the
// engine's own builder (docker driver) can build multi-platform images, keep
// them in the engine for the smoke test, and export registry cache, so `auto`
// uses it. Otherwise it creates a docker-container builder.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inputs } from '../constants.js';
import { run } from '../exec.js';
import { currentContext, engineInfo } from '../engine.js';
import type { BuilderNode, Settings } from '../settings/types.js';
import { args, type BuildxCommand, installedPlugin } from './command.js';

export type ConcreteDriver = Exclude<Settings['driver'], 'auto'>;

export interface Builder {
  name: string;
  driver: string;
  platforms: string[];
  buildkitVersion?: string;
  /** Every node, with the platforms it builds; one for the docker driver. */
  nodes: InspectNode[];
  /** True when this action created it, so the post step removes it. */
  created: boolean;
  /**
   * False for the docker driver on the classic image store: buildx refuses any cache export and OCI output
   * there ("Cache export is not supported for the docker driver"), so the action exports no layer cache
   * and carries no Go caches on it, rather than fail the build.
   */
  exportsCache?: boolean;
}

/** The engine's `.DriverStatus` (engine.ts), as JSON → is this the containerd image store? */
export function isContainerdStore(driverStatusJson: string): boolean {
  const pairs = JSON.parse(driverStatusJson || 'null') as [string, string][] | null;
  return (pairs ?? []).some(([k, v]) => k === 'driver-type' && v === 'io.containerd.snapshotter.v1');
}

/**
 * The inputs given that only a BuildKit the action creates can take (setup-buildx's driver-opts, buildkitd
 * config and appended nodes). The engine's own BuildKit (driver: docker) takes none of them: with driver:
 * docker the settings refuse them (settings/nodes.ts).
 */
export function containerOnlyInputs(
  o: Pick<Settings['builderOptions'], 'driverOpts' | 'buildkitdConfig' | 'buildkitdConfigInline'> &
    Partial<Pick<Settings['builderOptions'], 'append'>>,
): string[] {
  return [
    ...((o.append?.length ?? 0) > 0 ? [Inputs.append] : []),
    ...(o.driverOpts.length > 0 ? [Inputs.driverOpts] : []),
    ...(o.buildkitdConfig ? [Inputs.buildkitdConfig] : []),
    ...(o.buildkitdConfigInline ? [Inputs.buildkitdConfigInline] : []),
  ];
}

/**
 * driver: auto is docker on a containerd-store engine, else docker-container, and docker-container whenever
 * an input only a BuildKit container takes is given (setup-buildx's default driver, which those who move
 * from it configure).
 */
export function chooseDriver(requested: Settings['driver'], containerdStore: boolean, containerOnly: string[] = []): ConcreteDriver {
  if (requested !== 'auto') return requested;
  if (containerOnly.length > 0) return 'docker-container';
  return containerdStore ? 'docker' : 'docker-container';
}

export interface InspectNode {
  name: string;
  endpoint?: string;
  status?: string;
  buildkitVersion?: string;
  platforms: string[];
  /** The platforms fixed for the node at create time (`--platform`; `*` in inspect's list). */
  fixed?: string[];
}

export interface InspectResult {
  name: string;
  driver: string;
  /** Every node's platforms, first node first, each once. */
  platforms: string[];
  buildkitVersion?: string;
  nodes: InspectNode[];
}

function fields(block: string): (key: string) => string | undefined {
  return (key) => {
    const m = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(block);
    return m ? m[1].trim() : undefined;
  };
}

/** Parses the text of `buildx inspect NAME`: the builder, then one block per node after "Nodes:". */
export function parseInspect(text: string): InspectResult {
  const at = text.search(/^Nodes:\s*$/m);
  const head = fields(at === -1 ? text : text.slice(0, at));
  const blocks =
    at === -1
      ? [text]
      : text
          .slice(at)
          .replace(/^Nodes:\s*\n/, '')
          .split(/\n\s*\n/);
  const nodes: InspectNode[] = blocks
    .map((b) => {
      const f = fields(b);
      const listed = (f('Platforms') ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      return {
        name: f('Name') ?? '',
        endpoint: f('Endpoint'),
        status: f('Status'),
        buildkitVersion: f('BuildKit version') ?? f('Buildkit'),
        platforms: listed.map((p) => p.replace(/\*$/, '')),
        fixed: listed.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1)),
      };
    })
    .filter((n) => n.name !== '');
  return {
    name: head('Name') ?? '',
    driver: head('Driver') ?? '',
    platforms: [...new Set(nodes.flatMap((n) => n.platforms))],
    buildkitVersion: nodes[0]?.buildkitVersion,
    nodes,
  };
}

/**
 * Which node builds which platform, as buildx decides it (build/driver.go, nodeResolver): when every platform
 * of the build is fixed on some node, the first node that fixes it; otherwise the first node that lists it
 * (a node lists the platforms it can emulate, too), else the first node.
 */
export function nodeForPlatform(nodes: InspectNode[], platform: string, built: string[] = [platform]): InspectNode | undefined {
  const fixedOn = (p: string) => nodes.find((n) => n.fixed?.includes(p));
  if (built.every((p) => fixedOn(p))) return fixedOn(platform);
  return nodes.find((n) => n.platforms.includes(platform)) ?? nodes[0];
}

/** With several nodes: which one builds each platform (for the job summary); undefined with one. */
export function platformNodes(builder: Pick<Builder, 'nodes'>, platforms: string[]): { platform: string; node: string }[] | undefined {
  if (builder.nodes.length < 2) return undefined;
  return platforms.map((p) => ({ platform: p, node: nodeForPlatform(builder.nodes, p, platforms)?.name ?? '?' }));
}

export interface CreateOptions {
  name: string;
  driver: Exclude<ConcreteDriver, 'docker'>;
  /**
   * Platforms fixed for the first node: with appended nodes, the built platforms none of them fixes. Without
   * it buildx sends an appended node's platform to the first node whenever that one can emulate it.
   */
  platforms?: string[];
  buildkitImage: string;
  /** Host networking for the BuildKit container, so RUN steps can reach loopback services. */
  hostNetwork: boolean;
  driverOpts: string[];
  configFile?: string;
  endpoint?: string;
}

// The same entitlements docker/setup-buildx-action allows, so that `network: host` and insecure
// steps behave as they do on the docker driver. A remote daemon runs with its own flags.
const ENTITLEMENTS = '--allow-insecure-entitlement network.host --allow-insecure-entitlement security.insecure';

/** `buildx create` for the builder's first node. Booting is left to `inspect --bootstrap`, once every node is there. */
export function createBuilderArgs(o: CreateOptions): string[] {
  const argv = ['create', '--name', o.name, '--driver', o.driver];
  if (o.platforms?.length) argv.push('--platform', o.platforms.join(','));
  const opts = [...o.driverOpts];
  if (o.driver !== 'remote' && !opts.some((x) => x.startsWith('image='))) opts.unshift(`image=${o.buildkitImage}`);
  if (o.driver === 'docker-container' && o.hostNetwork && !opts.some((x) => x.startsWith('network='))) opts.push('network=host');
  for (const x of opts) argv.push('--driver-opt', x);
  if (o.configFile) argv.push('--buildkitd-config', o.configFile);
  if (o.driver !== 'remote') argv.push('--buildkitd-flags', ENTITLEMENTS);
  if (o.endpoint) argv.push(o.endpoint);
  return argv;
}

/** `buildx create --append` for one more node (setup-buildx's `append`). */
export function appendNodeArgs(builder: string, driver: CreateOptions['driver'], node: BuilderNode, configFile?: string): string[] {
  const argv = ['create', '--append', '--name', builder];
  if (node.name) argv.push('--node', node.name);
  for (const p of node.platforms) argv.push('--platform', p);
  for (const x of node.driverOpts) argv.push('--driver-opt', x);
  if (configFile) argv.push('--buildkitd-config', configFile);
  if (driver !== 'remote') argv.push('--buildkitd-flags', ENTITLEMENTS);
  if (node.endpoint) argv.push(node.endpoint);
  return argv;
}

/** A builder name unique to this run attempt (run id and attempt, from the workflow context) and this step. */
export function builderName(runId: string): string {
  return `gba-${runId}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Boots every node (a created builder is booted here, once all its nodes are there) and reads what they build. */
async function inspect(buildx: BuildxCommand, name: string): Promise<InspectResult> {
  const res = await run(...args(buildx, 'inspect', '--bootstrap', name));
  return parseInspect(res.stdout);
}

/** What the engine says of itself: the image store, and the current context (the docker driver's builder). */
export interface EngineFacts {
  driverStatus: string;
  context: string;
}

/** Asked before buildx is resolved, so that both run at once. */
export function engineFacts(): Promise<EngineFacts> {
  return startEngineProbe(false).facts;
}

/**
 * The engine's facts, and, when the docker driver may be the one (`earlyInspect`), the inspect of the
 * context's builder started as soon as the context is known: beside the engine's info and the buildx lookup
 * rather than after them (0.2 s of a no-change run here). Unused when another driver is chosen.
 */
export function startEngineProbe(earlyInspect: boolean): { facts: Promise<EngineFacts>; engineBuilder?: Promise<InspectResult> } {
  const context = currentContext();
  const facts = Promise.all([engineInfo(), context]).then(([info, ctx]) => ({ driverStatus: info.driverStatus, context: ctx }));
  const plugin = installedPlugin();
  const engineBuilder = earlyInspect ? context.then((ctx) => inspect(plugin, ctx)) : undefined;
  // Awaited (or dropped) later: until then a failure must not be an unhandled rejection.
  facts.catch(() => undefined);
  engineBuilder?.catch(() => undefined);
  return { facts, engineBuilder };
}

/**
 * record: called with the name of a builder this action is about to create,
 * before `buildx create` runs, so the post step removes it even when create
 * or bootstrap fails half-way.
 */
export async function prepareBuilder(
  settings: Settings,
  buildx: BuildxCommand,
  record: (name: string) => void,
  tempDir: string,
  facts: Promise<EngineFacts> = engineFacts(),
  /** The context's builder, inspected early through the docker CLI plugin (startEngineProbe). */
  engineBuilder?: Promise<InspectResult>,
): Promise<Builder> {
  if (settings.builder) {
    const info = await inspect(buildx, settings.builder);
    return { ...info, name: info.name || settings.builder, created: false };
  }
  const engine = await facts;
  const containerd = isContainerdStore(engine.driverStatus);
  const containerOnly = containerOnlyInputs(settings.builderOptions);
  const driver = chooseDriver(settings.driver, containerd, containerOnly);
  // The inputs are named only where they changed the choice: on the classic store auto is docker-container anyway.
  const why =
    settings.driver !== 'auto'
      ? ''
      : containerOnly.length > 0 && containerd
        ? ` (auto: ${containerOnly.join(', ')} given, which only a BuildKit container takes)`
        : ' (auto)';
  out.info(`Engine image store: ${containerd ? 'containerd' : 'classic'}; driver: ${driver}${why}`);
  if (driver === 'docker') {
    if (!containerd) {
      out.warning(
        'driver: docker without the containerd image store cannot export caches or keep multi-platform images: no layer cache is exported and the Go caches are not carried; consider driver: docker-container',
      );
    }
    const plugin = installedPlugin();
    const early = engineBuilder && buildx.cmd === plugin.cmd && buildx.prefix.join(' ') === plugin.prefix.join(' ');
    const info = early ? await engineBuilder.catch(() => inspect(buildx, engine.context)) : await inspect(buildx, engine.context);
    return { ...info, name: engine.context, created: false, exportsCache: containerd };
  }
  const name = builderName(settings.workflow.runId);
  const o = settings.builderOptions;
  let configFile = o.buildkitdConfig;
  if (o.buildkitdConfigInline) {
    configFile = path.join(tempDir, 'buildkitd.toml');
    fs.writeFileSync(configFile, o.buildkitdConfigInline);
  }
  const appended = o.append.flatMap((n) => n.platforms);
  const argv = createBuilderArgs({
    name,
    driver,
    platforms: o.append.length > 0 && appended.length > 0 ? settings.platforms.filter((p) => !appended.includes(p)) : undefined,
    buildkitImage: settings.buildkitImage,
    hostNetwork: settings.network === 'host',
    driverOpts: o.driverOpts,
    configFile,
    endpoint: o.endpoint,
  });
  out.debug(`buildx create argv: ${JSON.stringify(argv)}`);
  record(name);
  await run(...args(buildx, ...argv), { echo: true });
  for (const node of o.append) {
    const more = appendNodeArgs(name, driver, node, configFile);
    out.debug(`buildx create --append argv: ${JSON.stringify(more)}`);
    await run(...args(buildx, ...more), { echo: true });
  }
  return { ...(await inspect(buildx, name)), name, created: true };
}

export async function removeBuilder(buildx: BuildxCommand, name: string): Promise<void> {
  await run(...args(buildx, 'rm', '--force', name), { allowFailure: true });
}
