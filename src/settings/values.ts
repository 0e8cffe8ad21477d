// The value grammar every input shares: lists (as docker/build-push-action
// splits them), booleans, choices, durations, sizes, status ranges, URLs.
import { parse as parseCsv } from 'csv-parse/sync';
import { Inputs } from '../constants.js';
import { InputError, type Mask, type Reader, type StatusRange } from './types.js';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Splits a list input the way docker/build-push-action does: CSV records over
 * the whole text (so a quoted entry may hold commas and span lines), one
 * entry per line. With commas, every comma separates entries (empty ones are
 * kept for the caller to reject); without, the columns of a record are one
 * entry again (KEY=a,b stays whole) and empty entries are dropped.
 */
export function parseList(raw: string, opts: { commas: boolean }): string[] {
  if (raw.trim() === '') return [];
  const records: string[][] = parseCsv(raw, {
    columns: false,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
  });
  if (opts.commas) return records.flat().map((s) => s.trim());
  return records.map((r) => r.join(',').trim()).filter((s) => s !== '');
}

/** https, or http to a loopback host (a local mirror); anything else could be tampered with on the way. */
export function isSecureUrl(raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(u.hostname);
}

export function parseBool(read: Reader, name: string, dflt: boolean): boolean {
  const raw = read(name).trim();
  if (raw === '') return dflt;
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  throw new InputError(name, raw, 'is not a boolean', 'true or false');
}

export function parseChoice<T extends string>(read: Reader, name: string, choices: readonly T[], dflt: T): T {
  const raw = read(name).trim();
  if (raw === '') return dflt;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new InputError(name, raw, 'is not a known value', choices.join(', '));
}

export function optional(read: Reader, name: string): string | undefined {
  const raw = read(name).trim();
  return raw === '' ? undefined : raw;
}

export function parseKeyValues(read: Reader, name: string, requireValue: boolean): string[] {
  const entries = parseList(read(name), { commas: false });
  for (const e of entries) {
    const eq = e.indexOf('=');
    const key = eq === -1 ? e : e.slice(0, eq);
    if (eq === -1 && requireValue) {
      throw new InputError(name, e, 'has no "="', 'one KEY=VALUE per line');
    }
    const keyOk = name === Inputs.labels ? /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) : NAME_RE.test(key);
    if (!keyOk) throw new InputError(name, e, `has an invalid key ${JSON.stringify(key)}`, 'one KEY=VALUE per line');
  }
  return entries;
}

/** Masks a secret value and each of its lines, so that no part of it shows in the log. */
export function maskValue(mask: Mask, value: string): void {
  // One or two characters are no secret, and masking them would blank them out all over the log.
  if (value.trim().length < 3) return;
  mask(value);
  const lines = value.split(/\r?\n/).map((l) => l.trim());
  // Short lines (a PEM's "-----END-----" aside) would mask ordinary words all over the log.
  if (lines.length > 1) for (const l of lines) if (l.length >= 8) mask(l);
}

/**
 * A duration in milliseconds: "30s", "1.5s", "250ms", "90m", "36h", "14d", or a bare number, which is
 * seconds for every duration input (one unit for all, so no input has to be looked up).
 */
export function parseDuration(read: Reader, name: string, dflt: string): number {
  const raw = read(name).trim() || dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw);
  if (!m) {
    throw new InputError(name, raw, 'is not a duration', `a number with ms, s, m, h or d, e.g. ${dflt}; a bare number is seconds`);
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseCount(read: Reader, name: string, dflt: number, max: number): number {
  const raw = read(name).trim();
  if (raw === '') return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new InputError(name, raw, 'is not a whole number in range', `0 to ${max}`);
  return Number(raw);
}

export function parsePort(read: Reader, name: string): number | undefined {
  const raw = optional(read, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new InputError(name, raw, 'is not a TCP port', 'an integer from 1 to 65535');
  }
  return Number(raw);
}

/** "2xx", "200", "200,204", "200-299", combined with commas. */
export function parseStatus(read: Reader, name: string): StatusRange[] {
  const raw = read(name).trim() || '2xx';
  const accepted = 'status codes such as 200, 2xx, 200-299 or 200,204';
  return raw.split(',').map((part) => {
    const p = part.trim().toLowerCase();
    let r: StatusRange | undefined;
    if (/^[1-5]xx$/.test(p)) r = [Number(p[0]) * 100, Number(p[0]) * 100 + 99];
    else if (/^\d{3}$/.test(p)) r = [Number(p), Number(p)];
    else if (/^\d{3}-\d{3}$/.test(p)) r = p.split('-').map(Number) as StatusRange;
    if (!r || r[0] < 100 || r[1] > 599 || r[0] > r[1]) throw new InputError(name, raw, 'is not a status list', accepted);
    return r;
  });
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** "20MB" (10^6), "20MiB" (2^20), "1.5GB", "500kB", or bytes. */
export function parseSize(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(raw.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()];
  return Number.isFinite(bytes) && bytes > 0 ? Math.floor(bytes) : undefined;
}

/** A byte count as the log and the summary print it: 1000-based units, as registries and the docker CLI report. */
export function formatBytes(n: number | null): string {
  if (n === null) return 'n/a';
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)} ${units[i]}`;
}
