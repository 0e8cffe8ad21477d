// docker/setup-buildx-action's builder options, with its names and syntax:
// driver-opts (one per line), buildkitd-config / buildkitd-config-inline, the
// endpoint of a remote or kubernetes builder, and `append`, a YAML list of
// more nodes (name, endpoint, platforms, driver-opts) for a builder that runs
// each platform on a node that builds it natively.
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { Inputs } from '../constants.js';
import { inWorkspace } from './paths.js';
import { type BuilderNode, type BuilderOptions, type Driver, InputError, KNOWN_PLATFORMS, type Reader } from './types.js';
import { optional, parseList } from './values.js';

function asList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter(Boolean);
  return parseList(String(v), { commas: true }).filter(Boolean);
}

/** `append` as setup-buildx takes it: a YAML list of nodes. */
export function parseAppend(raw: string): BuilderNode[] {
  if (raw.trim() === '') return [];
  const accepted = 'a YAML list of nodes: - name: …, endpoint: …, platforms: linux/arm64, driver-opts: [...]';
  let doc: unknown;
  try {
    doc = YAML.parse(raw);
  } catch (err) {
    throw new InputError(Inputs.append, raw.split('\n')[0], `is not YAML (${(err as Error).message.split('\n')[0]})`, accepted);
  }
  if (!Array.isArray(doc)) throw new InputError(Inputs.append, raw.split('\n')[0], 'is not a list', accepted);
  return doc.map((n, i) => {
    if (typeof n !== 'object' || n === null) throw new InputError(Inputs.append, `<node ${i + 1}>`, 'is not a mapping', accepted);
    const o = n as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !['name', 'endpoint', 'platforms', 'driver-opts'].includes(k));
    if (unknown.length > 0) throw new InputError(Inputs.append, `<node ${i + 1}>`, `has unknown keys ${unknown.join(', ')}`, accepted);
    const platforms = asList(o.platforms);
    for (const p of platforms) {
      if (!(KNOWN_PLATFORMS as readonly string[]).includes(p))
        throw new InputError(Inputs.append, `<node ${i + 1}> platforms ${p}`, 'is not a known platform', KNOWN_PLATFORMS.join(', '));
    }
    const name = o.name === undefined ? undefined : String(o.name);
    if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
      throw new InputError(Inputs.append, `<node ${i + 1}> name ${name}`, 'is not a node name', 'letters, digits, "_", "." and "-"');
    }
    return { name, endpoint: o.endpoint === undefined ? undefined : String(o.endpoint), platforms, driverOpts: asList(o['driver-opts']) };
  });
}

export function parseBuilderOptions(read: Reader, driver: Driver, workspace: string): BuilderOptions {
  const configRaw = optional(read, Inputs.buildkitdConfig);
  const inline = read(Inputs.buildkitdConfigInline).trim() || undefined;
  if (configRaw && inline) {
    throw new InputError(
      Inputs.buildkitdConfigInline,
      inline.split('\n')[0],
      `cannot be combined with ${Inputs.buildkitdConfig}`,
      'one of the two',
    );
  }
  let buildkitdConfig: string | undefined;
  if (configRaw) {
    buildkitdConfig = path.resolve(workspace, configRaw);
    if (!fs.existsSync(buildkitdConfig) || !fs.statSync(buildkitdConfig).isFile() || !inWorkspace(workspace, buildkitdConfig)) {
      throw new InputError(
        Inputs.buildkitdConfig,
        configRaw,
        'is not a file in the workspace',
        'a buildkitd.toml path relative to the workspace',
      );
    }
  }
  const endpoint = optional(read, Inputs.endpoint);
  if (driver === 'remote' && !endpoint) {
    throw new InputError(Inputs.endpoint, '', 'is needed with driver: remote', 'the BuildKit address, e.g. tcp://buildkitd.internal:1234');
  }
  const append = parseAppend(read(Inputs.append));
  // With driver: auto, appended nodes choose docker-container (buildx/builder.ts containerOnlyInputs).
  if (append.length > 0 && driver === 'docker') {
    throw new InputError(
      Inputs.append,
      `<${append.length} node(s)>`,
      `needs a builder that takes nodes, not driver: ${driver}`,
      'driver: docker-container, remote or kubernetes',
    );
  }
  const driverOpts = parseList(read(Inputs.driverOpts), { commas: false });
  if ((driverOpts.length > 0 || buildkitdConfig || inline) && driver === 'docker') {
    throw new InputError(
      driverOpts.length > 0 ? Inputs.driverOpts : Inputs.buildkitdConfig,
      driverOpts[0] ?? configRaw ?? '<inline>',
      "cannot configure the docker driver, which is the engine's own BuildKit",
      'driver: docker-container, remote or kubernetes',
    );
  }
  return { driverOpts, buildkitdConfig, buildkitdConfigInline: inline, endpoint, append };
}
