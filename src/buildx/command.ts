// How buildx is invoked: as the docker CLI plugin, or as a standalone binary
// from the tool cache. Every buildx argv goes through args().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dockerConfigDir, readCliConfig } from '../engine.js';

export interface BuildxCommand {
  /** "docker" for the CLI plugin, or the path of a standalone buildx binary */
  cmd: string;
  /** ["buildx"] for the plugin, [] for a standalone binary */
  prefix: string[];
}

export const PLUGIN: BuildxCommand = { cmd: 'docker', prefix: ['buildx'] };

/** The system's plugin folders on Linux, in the docker CLI's order (docker/cli cli-plugins/manager). */
export const SYSTEM_PLUGIN_DIRS = [
  '/usr/local/lib/docker/cli-plugins',
  '/usr/local/libexec/docker/cli-plugins',
  '/usr/lib/docker/cli-plugins',
  '/usr/libexec/docker/cli-plugins',
];

/**
 * The buildx plugin the docker CLI would run, run as the standalone binary it also is: `docker buildx …`
 * starts the docker CLI, which starts the plugin once for its metadata and once more for the command, so
 * each call costs two extra process starts: 0.12–0.19 s against 0.04–0.08 s for `buildx version` or
 * `buildx inspect` here. Falls back to
 * `docker buildx` where the CLI could look elsewhere (a config with cliPluginsExtraDirs) or finds none.
 */
export function installedPlugin(env: NodeJS.ProcessEnv = process.env, system = SYSTEM_PLUGIN_DIRS): BuildxCommand {
  // The user's folder first, as the CLI looks.
  const dirs = [path.join(dockerConfigDir(env), 'cli-plugins'), ...system];
  // No config: the default dirs are all there is.
  if (readCliConfig(env)?.includes('cliPluginsExtraDirs')) return PLUGIN;
  for (const dir of dirs) {
    const bin = path.join(dir, 'docker-buildx');
    try {
      fs.accessSync(bin, fs.constants.X_OK);
      if (fs.statSync(bin).isFile()) return { cmd: bin, prefix: [] };
    } catch {
      // not here: the next dir
    }
  }
  return PLUGIN;
}

/** The command and argv that run `buildx <rest>`. */
export function args(buildx: BuildxCommand, ...rest: string[]): [string, string[]] {
  return [buildx.cmd, [...buildx.prefix, ...rest]];
}
