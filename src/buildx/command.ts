// How buildx is invoked: as the docker CLI plugin, or as a standalone binary
// from the tool cache. Every buildx argv goes through args().

export interface BuildxCommand {
  /** "docker" for the CLI plugin, or the path of a standalone buildx binary */
  cmd: string;
  /** ["buildx"] for the plugin, [] for a standalone binary */
  prefix: string[];
}

export const PLUGIN: BuildxCommand = { cmd: 'docker', prefix: ['buildx'] };

/** The command and argv that run `buildx <rest>`. */
export function args(buildx: BuildxCommand, ...rest: string[]): [string, string[]] {
  return [buildx.cmd, [...buildx.prefix, ...rest]];
}
