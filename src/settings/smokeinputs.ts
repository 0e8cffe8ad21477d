// The smoke test's inputs: what to probe, how long, on which platforms, and the container's environment,
// arguments, network and hosts.
import { Inputs } from '../constants.js';
import { InputError, type Reader, type SmokeSettings } from './types.js';
import { optional, parseBool, parseDuration, parseKeyValues, parseList, parsePort, parseStatus } from './values.js';

export function parseSmoke(read: Reader, platforms: string[]): SmokeSettings {
  const healthPath = optional(read, Inputs.healthPath);
  if (healthPath !== undefined && !/^\/[^\s]*$/.test(healthPath)) {
    throw new InputError(Inputs.healthPath, healthPath, 'is not an absolute URL path', 'a path starting with "/", e.g. /healthz');
  }
  const smokePlatformsRaw = read(Inputs.smokePlatforms).trim();
  let smokePlatforms: string[] | undefined;
  if (smokePlatformsRaw !== '') {
    smokePlatforms = parseList(smokePlatformsRaw, { commas: true });
    for (const p of smokePlatforms) {
      if (!platforms.includes(p)) {
        throw new InputError(Inputs.smokePlatforms, p || smokePlatformsRaw, 'is not one of the built platforms', platforms.join(', '));
      }
    }
  }
  const timeoutMs = parseDuration(read, Inputs.smokeTimeout, '30s');
  if (timeoutMs <= 0)
    throw new InputError(Inputs.smokeTimeout, read(Inputs.smokeTimeout), 'must be more than zero', 'a duration such as 30s');
  const intervalMs = parseDuration(read, Inputs.smokeInterval, '250ms');
  if (intervalMs < 10) throw new InputError(Inputs.smokeInterval, read(Inputs.smokeInterval), 'is below 10 ms', 'at least 10ms');
  // Before bare numbers were seconds everywhere, this input's were milliseconds: `250` now reads as
  // 250 s, which no timeout allows, so say which unit to write rather than probe once and time out.
  if (intervalMs > timeoutMs) {
    throw new InputError(
      Inputs.smokeInterval,
      read(Inputs.smokeInterval),
      `is longer than smoke-timeout (${timeoutMs / 1000}s); a bare number is seconds`,
      'a duration up to smoke-timeout with its unit, e.g. 250ms',
    );
  }
  return {
    enabled: parseBool(read, Inputs.smokeTest, true),
    healthPath,
    healthPort: parsePort(read, Inputs.healthPort),
    healthStatus: parseStatus(read, Inputs.healthStatus),
    healthBody: optional(read, Inputs.healthBody),
    healthCmd: optional(read, Inputs.healthCmd),
    graceMs: parseDuration(read, Inputs.smokeGrace, '3s'),
    timeoutMs,
    intervalMs,
    env: parseKeyValues(read, Inputs.smokeEnv, false),
    args: parseList(read(Inputs.smokeArgs), { commas: false }),
    network: parseSmokeNetwork(read),
    addHosts: parseSmokeAddHosts(read),
    platforms: smokePlatforms ?? platforms,
    strict: parseBool(read, Inputs.smokeStrict, false),
  };
}

/** A docker network name (what `docker network create` takes), or host. */
function parseSmokeNetwork(read: Reader): string | undefined {
  const raw = optional(read, Inputs.smokeNetwork);
  if (raw !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(raw)) {
    throw new InputError(
      Inputs.smokeNetwork,
      raw,
      'is not a network name',
      "host, or a network's name such as ${{ job.services.postgres.network }}",
    );
  }
  return raw;
}

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;

/** host:ip or host=ip, one per line or comma; ip is IPv4, IPv6 or host-gateway. Returned as host:ip. */
function parseSmokeAddHosts(read: Reader): string[] {
  return parseList(read(Inputs.smokeAddHosts), { commas: true })
    .filter((e) => e !== '')
    .map((e) => {
      const m = /^([a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?)[=:](.+)$/.exec(e);
      const ip = m?.[3];
      if (!m || !(ip === 'host-gateway' || IPV4.test(ip!) || (ip!.includes(':') && /^[0-9a-fA-F:.]+$/.test(ip!)))) {
        throw new InputError(Inputs.smokeAddHosts, e, 'is not host:ip', 'host:ip or host=ip, e.g. db:10.0.0.5 or db=host-gateway');
      }
      return `${m[1]}:${ip}`;
    });
}
