// Which probe a platform's container gets, decided from the settings and the
// image's own config. The first that applies wins: HTTP (health-path), a
// command (health-cmd), the image's HEALTHCHECK, a TCP connect to the port the
// image EXPOSEs (or health-port), then "stays up for smoke-grace".
import type { SmokeSettings, StatusRange } from '../settings/types.js';

export interface ImageConfig {
  exposedPorts: number[];
  /** The HEALTHCHECK test, e.g. ["CMD", "/hello", "-healthcheck"]; undefined when there is none. */
  healthcheck?: string[];
  user?: string;
}

export type Probe =
  | { kind: 'http'; path: string; port: number; status: StatusRange[]; body?: string }
  | { kind: 'cmd'; argv: string[] }
  | { kind: 'healthcheck'; argv: string[] }
  | { kind: 'tcp'; port: number; settleMs: number }
  | { kind: 'alive'; graceMs: number };

/**
 * After a TCP probe connects, the container must still run this much later: a server that accepts and
 * then crashes (a panic in the first request's setup, a failed migration) fails instead of passing.
 */
export const TCP_SETTLE_MS = 200;

/** The Config of the first image in `docker image inspect` output. */
export function parseImageConfig(inspectJson: string): ImageConfig {
  const [img] = JSON.parse(inspectJson) as {
    Config?: { ExposedPorts?: Record<string, unknown>; Healthcheck?: { Test?: string[] }; User?: string };
  }[];
  const cfg = img?.Config ?? {};
  const exposedPorts = Object.keys(cfg.ExposedPorts ?? {})
    .filter((k) => k.endsWith('/tcp') || !k.includes('/'))
    .map((k) => Number(k.split('/')[0]))
    .filter((n) => Number.isInteger(n));
  const test = cfg.Healthcheck?.Test;
  return { exposedPorts, healthcheck: test && test.length > 0 && test[0] !== 'NONE' ? test : undefined, user: cfg.User || undefined };
}

/** The argv that runs a HEALTHCHECK test inside the container. */
export function healthcheckArgv(test: string[]): string[] | undefined {
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  return undefined;
}

/** health-cmd: a JSON array is exec form; anything else runs through /bin/sh -c. */
export function commandArgv(cmd: string): string[] {
  if (cmd.trim().startsWith('[')) {
    try {
      const parsed = JSON.parse(cmd) as unknown;
      if (Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') && parsed.length > 0) return parsed as string[];
    } catch {
      // not JSON: shell form
    }
  }
  return ['/bin/sh', '-c', cmd];
}

export function defaultPort(config: ImageConfig | undefined): number {
  return config && config.exposedPorts.length === 1 ? config.exposedPorts[0] : 8080;
}

export function chooseProbe(s: SmokeSettings, config: ImageConfig | undefined): Probe {
  if (s.healthPath) {
    return { kind: 'http', path: s.healthPath, port: s.healthPort ?? defaultPort(config), status: s.healthStatus, body: s.healthBody };
  }
  if (s.healthCmd) return { kind: 'cmd', argv: commandArgv(s.healthCmd) };
  const hc = config?.healthcheck ? healthcheckArgv(config.healthcheck) : undefined;
  if (hc) return { kind: 'healthcheck', argv: hc };
  // A listening port says more than "still running after smoke-grace", and sooner.
  const port = s.healthPort ?? [...(config?.exposedPorts ?? [])].sort((a, b) => a - b)[0];
  if (port !== undefined) return { kind: 'tcp', port, settleMs: TCP_SETTLE_MS };
  return { kind: 'alive', graceMs: s.graceMs };
}

export function describeProbe(p: Probe): string {
  switch (p.kind) {
    case 'http':
      return `http GET ${p.path} on port ${p.port}`;
    case 'cmd':
      return `health-cmd ${JSON.stringify(p.argv)}`;
    case 'healthcheck':
      return `HEALTHCHECK ${JSON.stringify(p.argv)}`;
    case 'tcp':
      return `tcp connect to port ${p.port}, still running ${p.settleMs} ms after it accepted`;
    case 'alive':
      return `stays up for ${p.graceMs / 1000}s`;
  }
}

export function statusMatches(status: number, ranges: StatusRange[]): boolean {
  return ranges.some(([lo, hi]) => status >= lo && status <= hi);
}

/** The loopback address from `docker port ID PORT/tcp` (or the full `docker port ID` listing). */
export function parsePortOutput(text: string, port?: number): { host: string; port: number } | undefined {
  for (const line of text.split('\n')) {
    const m = /^(?:(\d+)\/tcp -> )?(127\.0\.0\.1|\[::1\]|0\.0\.0\.0):(\d+)$/.exec(line.trim());
    if (!m) continue;
    if (port !== undefined && m[1] !== undefined && Number(m[1]) !== port) continue;
    return { host: m[2] === '0.0.0.0' ? '127.0.0.1' : m[2], port: Number(m[3]) };
  }
  return undefined;
}
