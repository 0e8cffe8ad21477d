// What the engine and the docker CLI say of themselves, asked once per run: the engine's info for every part
// that needs it (the image store for the builder choice, the registry mirrors for the fingerprint's base
// digests, the insecure registries for signing), and the CLI's current context (the docker driver's builder is
// named after it).
//
// Both sit on the critical path of a run that changes nothing, and both are cheaper than the CLI commands
// that answer them:
// - `docker info` runs every CLI plugin to list it (`docker-buildx docker-cli-plugin-metadata`, and
//   compose's on GitHub's runners) whatever `--format` asks for: 74 ms alone here, 0.25-0.3 s beside the
//   setup's other commands on two cores. The engine's own `GET /info` answers in 15 ms. It is asked directly
//   when the CLI would talk to a local socket (the default context, `DOCKER_HOST` unset or `unix://`), and
//   `docker info` stays the answer everywhere else (a named context, tcp or ssh hosts, TLS) and whenever the
//   socket does not answer.
// - `docker context show` follows fixed rules over the environment and the CLI's config file (docker/cli
//   `cli/command/cli.go` resolveContextName), which are read here; the CLI is asked only when that file
//   cannot be read.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as out from './output.js';
import { run } from './exec.js';

export interface EngineInfo {
  /** `.DriverStatus`, as JSON. */
  driverStatus: string;
  /** `.RegistryConfig.Mirrors`: the engine's docker.io mirrors, as origins. */
  mirrors: string[];
  /** `.RegistryConfig.IndexConfigs` marked `Secure: false`: the registries the engine reaches over plain HTTP. */
  insecureRegistries: string[];
}

/** The format engineInfo gives `docker info` where it cannot ask the engine's API. */
export const DOCKER_INFO_FORMAT = '{{json .DriverStatus}}\t{{json .RegistryConfig.Mirrors}}\t{{json .RegistryConfig.IndexConfigs}}';

/** The mirrors as origins; none when what the engine gave cannot be read as a list of URLs. */
function mirrorOrigins(list: () => unknown): string[] {
  try {
    return ((list() as string[] | null) ?? []).map((m) => new URL(m).origin);
  } catch {
    return [];
  }
}

/** The index configs' names the engine does not reach over TLS; none when they cannot be read. */
function insecureOf(configs: () => unknown): string[] {
  try {
    return Object.entries((configs() as Record<string, { Secure?: unknown } | null> | null) ?? {})
      .filter(([, c]) => c?.Secure === false)
      .map(([name]) => name);
  } catch {
    return [];
  }
}

/** Parses the one line `docker info` prints with DOCKER_INFO_FORMAT. */
export function parseEngineInfo(line: string): EngineInfo {
  const [status = 'null', mirrorsJson = 'null', indexJson = 'null'] = line.trim().split('\t');
  return {
    driverStatus: status,
    mirrors: mirrorOrigins(() => JSON.parse(mirrorsJson)),
    insecureRegistries: insecureOf(() => JSON.parse(indexJson)),
  };
}

/** The same facts from the body of the engine API's `GET /info`. */
export function engineInfoFromApi(body: string): EngineInfo {
  const info = JSON.parse(body) as { DriverStatus?: unknown; RegistryConfig?: { Mirrors?: unknown; IndexConfigs?: unknown } | null };
  return {
    driverStatus: JSON.stringify(info.DriverStatus ?? null),
    mirrors: mirrorOrigins(() => info.RegistryConfig?.Mirrors),
    insecureRegistries: insecureOf(() => info.RegistryConfig?.IndexConfigs),
  };
}

/**
 * The CLI's current context from its environment and the text of its config file (undefined when there is
 * none), by the CLI's rules: `DOCKER_HOST` means the default context, then `DOCKER_CONTEXT`, then the file's
 * `currentContext`. Undefined when the file is not JSON, which the CLI itself refuses.
 */
export function contextFromConfig(env: NodeJS.ProcessEnv, configText: string | undefined): string | undefined {
  if (env.DOCKER_HOST) return 'default';
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT;
  if (configText === undefined || configText.trim() === '') return 'default';
  try {
    const cfg = JSON.parse(configText) as { currentContext?: unknown } | null;
    return typeof cfg?.currentContext === 'string' && cfg.currentContext ? cfg.currentContext : 'default';
  } catch {
    return undefined;
  }
}

/** The engine socket the CLI talks to, when it is a local one; undefined for anything this action leaves to the CLI. */
export function engineSocket(env: NodeJS.ProcessEnv, context: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (context !== 'default' || platform === 'win32') return undefined;
  const host = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  return host.startsWith('unix://') && host.length > 'unix://'.length ? host.slice('unix://'.length) : undefined;
}

/** The docker CLI's config folder, where the CLI looks for it. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/** The text of the CLI's `config.json`: undefined when there is none, null when it cannot be read. */
export function readCliConfig(env: NodeJS.ProcessEnv = process.env): string | undefined | null {
  try {
    return fs.readFileSync(path.join(dockerConfigDir(env), 'config.json'), 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : null;
  }
}

let contextAsked: Promise<string> | undefined;

/** The CLI's current context, as `docker context show` prints it; the CLI is asked only when its config cannot be read. */
export function currentContext(): Promise<string> {
  contextAsked ??= (async () => {
    const text = readCliConfig();
    const known = text === null ? undefined : contextFromConfig(process.env, text);
    if (known !== undefined) return known;
    const res = await run('docker', ['context', 'show'], { allowFailure: true });
    return res.stdout.trim() || 'default';
  })();
  return contextAsked;
}

/** Bounded: a socket that does not answer soon leaves the question to `docker info`. */
const API_TIMEOUT_MS = 5_000;

function apiGet(socketPath: string, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: urlPath, timeout: API_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${API_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

async function askEngine(): Promise<EngineInfo> {
  const socket = engineSocket(process.env, await currentContext());
  if (socket) {
    try {
      const info = engineInfoFromApi(await apiGet(socket, '/info'));
      out.debug(`engine info from its API at ${socket}`);
      return info;
    } catch (err) {
      out.debug(`engine API at ${socket}: ${(err as Error).message}; asking docker info`);
    }
  }
  const res = await run('docker', ['info', '--format', DOCKER_INFO_FORMAT]);
  return parseEngineInfo(res.stdout);
}

let asked: Promise<EngineInfo> | undefined;

/** The engine's info, asked once per process; a failure rejects every caller. */
export function engineInfo(): Promise<EngineInfo> {
  asked ??= askEngine();
  return asked;
}
