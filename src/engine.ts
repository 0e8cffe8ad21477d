// What the engine says of itself, asked once per run: one `docker info` for every part that needs it (the
// image store for the builder choice, the registry mirrors for the fingerprint's base digests). Each docker
// CLI start costs tens of milliseconds of CPU, on the critical path of a run that changes nothing.
import { run } from './exec.js';

export interface EngineInfo {
  /** `.DriverStatus`, as JSON. */
  driverStatus: string;
  /** `.RegistryConfig.Mirrors`: the engine's docker.io mirrors, as origins. */
  mirrors: string[];
}

/** Parses the one line `docker info` prints with engineInfo's format. */
export function parseEngineInfo(line: string): EngineInfo {
  const [status = 'null', mirrorsJson = 'null'] = line.trim().split('\t');
  let mirrors: string[] = [];
  try {
    mirrors = ((JSON.parse(mirrorsJson) as string[] | null) ?? []).map((m) => new URL(m).origin);
  } catch {
    mirrors = [];
  }
  return { driverStatus: status, mirrors };
}

let asked: Promise<EngineInfo> | undefined;

/** The engine's info, from one `docker info` per process; a failure rejects every caller. */
export function engineInfo(): Promise<EngineInfo> {
  asked ??= run('docker', ['info', '--format', '{{json .DriverStatus}}\t{{json .RegistryConfig.Mirrors}}']).then((r) =>
    parseEngineInfo(r.stdout),
  );
  return asked;
}
