// Parses and validates every input once. Nothing else in the action reads
// inputs: the rest of the code receives a typed Settings object. Every error
// names the input, the value given and what is accepted, and is thrown before
// anything starts, so bad input never pushes anything.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import * as semver from 'semver';
import {
  DEFAULT_BUILDKIT_IMAGE,
  DEFAULT_BUILDX_DOWNLOAD_URL,
  DEFAULT_CACHE_TAG,
  DEFAULT_QEMU_IMAGE,
  Inputs,
  MIN_BUILDX_VERSION,
} from './constants.js';
import { type WorkflowContext, workflowContext } from './context.js';
import { isValidImageRef, splitRef } from './ref.js';
import { buildId } from './cache/keys.js';
import { goVersionFromMod, type ZeroConfigOptions } from './build/zeroconfig.js';

export type Driver = 'auto' | 'docker' | 'docker-container';
export type CacheMode = 'min' | 'max';

export interface ImageRef {
  /** registry host and path, e.g. ghcr.io/acme/app-cache */
  repository: string;
  tag: string;
}

export interface Secret {
  id: string;
  value: string;
}

/** An inclusive range of accepted HTTP status codes. */
export type StatusRange = [number, number];

export interface SmokeSettings {
  enabled: boolean;
  healthPath?: string;
  healthPort?: number;
  healthStatus: StatusRange[];
  healthBody?: string;
  healthCmd?: string;
  graceMs: number;
  timeoutMs: number;
  intervalMs: number;
  env: string[];
  args: string[];
  /** undefined: every built platform */
  platforms?: string[];
  strict: boolean;
}

export interface Settings {
  workspace: string;
  context: string;
  file: string;
  platforms: string[];
  tags: string[];
  push: boolean;
  buildArgs: string[];
  labels: string[];
  secrets: Secret[];
  target?: string;
  network?: string;
  cacheRef?: ImageRef;
  cacheMode: CacheMode;
  cacheFrom: string[];
  cacheTo: string[];
  cacheStrict: boolean;
  driver: Driver;
  buildxVersion?: string;
  buildxDownloadUrl: string;
  buildkitImage: string;
  builder?: string;
  qemuImage: string;
  provenance?: string;
  sbom?: string;
  smoke: SmokeSettings;
  /** Extra attempts after a transient module-download failure. */
  retries: number;
  /** GOPRIVATE, passed as a build arg (it is not a secret). */
  goPrivate?: string;
  /** netrc credentials for private modules, passed only as a BuildKit secret. */
  goNetrc?: string;
  /** Budget for each platform's compressed size, in bytes. */
  maxImageSize?: number;
  goCache: GoCacheSettings;
  /** Where caches (layer cache export and Go caches) are saved. */
  saveOn: 'all' | 'default-branch';
  /** The workflow context: event, ref, cache scope, default branch, run id. */
  workflow: WorkflowContext;
  /** A short id of the context, Dockerfile and target, which cache refs carry. */
  buildId: string;
  /** Repository for default tags and push-by-digest, e.g. ghcr.io/acme/api. */
  image?: string;
  pushByDigest: boolean;
  /** Merge mode: no build; an index of these digests under the tags. */
  merge: boolean;
  digests: string[];
  /** Set when the context has a go.mod and no Dockerfile: the built-in Dockerfile is used. */
  zeroConfig?: ZeroConfigOptions & { ldflags: string };
  printDockerfile: boolean;
  lint: 'off' | 'warn' | 'strict';
}

export interface GoCacheSettings {
  enabled: boolean;
  /** Why the Go caches are not carried, when they are not. */
  offReason?: string;
  backend: 'registry' | 'gha';
  /** Mount targets or ids named by go-cache-mounts, instead of the guess from paths. */
  mounts?: { mod?: string; build?: string };
  /** Cap on each saved cache, in bytes. */
  maxBytes: number;
  /** Image with a shell and tar for the restore/save builds; default the Go stage's own base. */
  image?: string;
}

export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly value: string,
    readonly problem: string,
    readonly accepted: string,
  ) {
    super(`Input "${input}" is invalid: ${JSON.stringify(value)} ${problem}. Accepted: ${accepted}.`);
    this.name = 'InputError';
  }
}

/** Platforms Go can target and BuildKit can name. */
export const KNOWN_PLATFORMS = [
  'linux/amd64',
  'linux/amd64/v2',
  'linux/amd64/v3',
  'linux/amd64/v4',
  'linux/arm64',
  'linux/arm64/v8',
  'linux/arm/v7',
  'linux/arm/v6',
  'linux/386',
  'linux/ppc64le',
  'linux/s390x',
  'linux/riscv64',
  'linux/mips64le',
  'linux/loong64',
] as const;

export const DEFAULT_PLATFORMS = 'linux/amd64,linux/arm64';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BUILDER_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type Reader = (name: string) => string;
/** Registers a value with the runner's log masking (core.setSecret in the action). */
export type Mask = (value: string) => void;

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

function parseBool(read: Reader, name: string, dflt: boolean): boolean {
  const raw = read(name).trim();
  if (raw === '') return dflt;
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  throw new InputError(name, raw, 'is not a boolean', 'true or false');
}

function parseChoice<T extends string>(read: Reader, name: string, choices: readonly T[], dflt: T): T {
  const raw = read(name).trim();
  if (raw === '') return dflt;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new InputError(name, raw, 'is not a known value', choices.join(', '));
}

function optional(read: Reader, name: string): string | undefined {
  const raw = read(name).trim();
  return raw === '' ? undefined : raw;
}

function parsePlatforms(read: Reader): string[] {
  const raw = read(Inputs.platforms).trim() || DEFAULT_PLATFORMS;
  const entries = parseList(raw, { commas: true });
  const seen = new Set<string>();
  for (const p of entries) {
    if (p === '') {
      throw new InputError(
        Inputs.platforms,
        raw,
        'has an empty entry',
        'a comma- or newline-separated list such as linux/amd64,linux/arm64',
      );
    }
    if (!(KNOWN_PLATFORMS as readonly string[]).includes(p)) {
      throw new InputError(Inputs.platforms, p, 'is not a known platform', KNOWN_PLATFORMS.join(', '));
    }
    if (seen.has(p)) throw new InputError(Inputs.platforms, p, 'is listed twice', 'each platform once');
    seen.add(p);
  }
  if (entries.length === 0) {
    throw new InputError(Inputs.platforms, raw, 'names no platform', KNOWN_PLATFORMS.join(', '));
  }
  return entries;
}

function parseTags(read: Reader): string[] {
  const tags = parseList(read(Inputs.tags), { commas: true });
  for (const t of tags) {
    if (t === '' || !isValidImageRef(t)) {
      throw new InputError(
        Inputs.tags,
        t,
        'is not a valid image reference',
        'lowercase [host[:port]/]name[:tag], e.g. ghcr.io/acme/app:1.2.3',
      );
    }
  }
  return tags;
}

function parseKeyValues(read: Reader, name: string, requireValue: boolean): string[] {
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
function maskValue(mask: Mask, value: string): void {
  // One or two characters are no secret, and masking them would blank them out all over the log.
  if (value.trim().length < 3) return;
  mask(value);
  const lines = value.split(/\r?\n/).map((l) => l.trim());
  // Short lines (a PEM's "-----END-----" aside) would mask ordinary words all over the log.
  if (lines.length > 1) for (const l of lines) if (l.length >= 8) mask(l);
}

function parseSecrets(read: Reader, mask: Mask): Secret[] {
  const entries = parseList(read(Inputs.secrets), { commas: false });
  // Every value is masked before anything is checked, and no error shows any part of an entry.
  for (const e of entries) {
    maskValue(mask, e);
    if (e.includes('=')) maskValue(mask, e.slice(e.indexOf('=') + 1));
  }
  return entries.map((e, i) => {
    const where = `<entry ${i + 1} of ${entries.length}>`;
    const eq = e.indexOf('=');
    if (eq <= 0) {
      throw new InputError(
        Inputs.secrets,
        where,
        eq === -1 ? 'has no "=" between id and value' : 'has an empty id',
        'one id=value per line; quote a value that spans lines, e.g. "id=-----BEGIN …"',
      );
    }
    const id = e.slice(0, eq);
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) {
      throw new InputError(
        Inputs.secrets,
        where,
        'has an id with characters other than letters, digits, "_", "." and "-"',
        'one id=value per line',
      );
    }
    return { id, value: e.slice(eq + 1) };
  });
}

function parseCacheRef(read: Reader): ImageRef | undefined {
  const raw = optional(read, Inputs.cacheRef);
  if (raw === undefined) return undefined;
  if (raw.includes('@') || !isValidImageRef(raw)) {
    throw new InputError(
      Inputs.cacheRef,
      raw,
      'is not a valid registry reference',
      'lowercase [host[:port]/]name[:tag] without a digest, e.g. ghcr.io/acme/app-cache',
    );
  }
  const { repository, tag } = splitRef(raw);
  return { repository, tag: tag ?? DEFAULT_CACHE_TAG };
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The path with every symlink resolved, as far as it exists (a missing tail is kept as written). */
function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realPath(parent), path.basename(p));
  }
}

/** True when p, with symlinks resolved, is inside the workspace (also resolved). */
function inWorkspace(workspace: string, p: string): boolean {
  return isInside(realPath(workspace), realPath(p));
}

/**
 * A duration: "30", "30s", "1.5s", "250ms". A bare number is in `bareUnit`,
 * the unit the input's default is written in.
 */
export function parseDuration(read: Reader, name: string, dflt: string, bareUnit: 's' | 'ms'): number {
  const raw = read(name).trim() || dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw);
  if (!m) {
    throw new InputError(
      name,
      raw,
      'is not a duration',
      `a non-negative number of ${bareUnit === 's' ? 'seconds' : 'milliseconds'}, or a number with "s" or "ms", e.g. ${dflt}`,
    );
  }
  const unit = m[2] ?? bareUnit;
  return Math.round(Number(m[1]) * (unit === 's' ? 1000 : 1));
}

function parseCount(read: Reader, name: string, dflt: number, max: number): number {
  const raw = read(name).trim();
  if (raw === '') return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new InputError(name, raw, 'is not a whole number in range', `0 to ${max}`);
  return Number(raw);
}

function parsePort(read: Reader, name: string): number | undefined {
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

function parseSmoke(read: Reader, platforms: string[]): SmokeSettings {
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
  const timeoutMs = parseDuration(read, Inputs.smokeTimeout, '30', 's');
  if (timeoutMs <= 0)
    throw new InputError(Inputs.smokeTimeout, read(Inputs.smokeTimeout), 'must be more than zero', 'a positive number of seconds');
  const intervalMs = parseDuration(read, Inputs.smokeInterval, '250', 'ms');
  if (intervalMs < 10) throw new InputError(Inputs.smokeInterval, read(Inputs.smokeInterval), 'is below 10 ms', 'at least 10 ms');
  return {
    enabled: parseBool(read, Inputs.smokeTest, true),
    healthPath,
    healthPort: parsePort(read, Inputs.healthPort),
    healthStatus: parseStatus(read, Inputs.healthStatus),
    healthBody: optional(read, Inputs.healthBody),
    healthCmd: optional(read, Inputs.healthCmd),
    graceMs: parseDuration(read, Inputs.smokeGrace, '3', 's'),
    timeoutMs,
    intervalMs,
    env: parseKeyValues(read, Inputs.smokeEnv, false),
    args: parseList(read(Inputs.smokeArgs), { commas: false }),
    platforms: smokePlatforms,
    strict: parseBool(read, Inputs.smokeStrict, false),
  };
}

export function parseSettings(read: Reader, env: NodeJS.ProcessEnv = process.env, mask: Mask = () => undefined): Settings {
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());

  const merge = parseBool(read, Inputs.merge, false);
  const contextRaw = read(Inputs.context).trim() || '.';
  if (/^[a-z]+:\/\//i.test(contextRaw) || contextRaw.startsWith('git@')) {
    throw new InputError(
      Inputs.context,
      contextRaw,
      'is a remote context, which this action does not support',
      'a directory in the workspace',
    );
  }
  // The context and the Dockerfile must be inside the workspace, symlinks
  // resolved: the lint, the Go cache keys and the sizes read them, and a
  // workflow input must not point the action at the runner's other files.
  const context = path.resolve(workspace, contextRaw);
  if (!merge && !inWorkspace(workspace, context)) {
    throw new InputError(Inputs.context, contextRaw, `is outside the workspace ${workspace}`, 'a directory in the workspace');
  }
  if (!merge && (!fs.existsSync(context) || !fs.statSync(context).isDirectory())) {
    throw new InputError(Inputs.context, contextRaw, `is not a directory (looked at ${context})`, 'a directory in the workspace');
  }

  const fileRaw = read(Inputs.file).trim();
  const file = fileRaw ? path.resolve(workspace, fileRaw) : path.join(context, 'Dockerfile');
  if (!merge && !inWorkspace(workspace, file)) {
    throw new InputError(
      Inputs.file,
      fileRaw || path.relative(workspace, file),
      `is outside the workspace ${workspace}`,
      'a Dockerfile inside the workspace',
    );
  }
  // No Dockerfile but a Go module: the built-in Dockerfile.
  const zeroConfig =
    !merge && !fileRaw && !fs.existsSync(file) && fs.existsSync(path.join(context, 'go.mod')) ? parseZeroConfig(read, context) : undefined;
  if (!merge && !zeroConfig && (!fs.existsSync(file) || !fs.statSync(file).isFile())) {
    throw new InputError(
      Inputs.file,
      fileRaw || path.relative(workspace, file),
      `does not exist (looked at ${file})`,
      'the path of a Dockerfile, relative to the workspace; default <context>/Dockerfile, or none at all when the context holds a go.mod (the built-in Dockerfile is used)',
    );
  }

  const platforms = parsePlatforms(read);
  const tags = parseTags(read);
  const push = parseBool(read, Inputs.push, false);
  // docker/metadata-action lowercases the image name, so ghcr.io/${{ github.repository }} works as written.
  const image = optional(read, Inputs.image)?.toLowerCase();
  if (image !== undefined && (!isValidImageRef(image) || splitRef(image).tag !== undefined || image.includes('@'))) {
    throw new InputError(
      Inputs.image,
      image,
      'is not a repository name',
      'lowercase [host[:port]/]name without a tag, e.g. ghcr.io/acme/api',
    );
  }
  if (push && tags.length === 0 && !image) {
    throw new InputError(
      Inputs.push,
      'true',
      'needs at least one entry in "tags", or an "image" name for default tags',
      'push: true together with tags or image, or push: false',
    );
  }
  const pushByDigest = parseBool(read, Inputs.pushByDigest, false);
  if (pushByDigest && merge) {
    throw new InputError(
      Inputs.pushByDigest,
      'true',
      'cannot be combined with merge: true (a job either pushes one platform by digest, or merges the digests)',
      'push-by-digest in the build jobs, merge in the final job',
    );
  }
  if (pushByDigest && !push) {
    throw new InputError(
      Inputs.pushByDigest,
      'true',
      'needs push: true, since pushing by digest is a kind of push',
      'push: true with push-by-digest: true',
    );
  }
  const digests = parseList(read(Inputs.digests), { commas: true });
  for (const d of digests) {
    if (!/^sha256:[a-f0-9]{64}$/.test(d) && !(d.includes('@') && isValidImageRef(d))) {
      throw new InputError(
        Inputs.digests,
        d,
        'is not a digest',
        'sha256:<64 hex digits> or <repository>@sha256:<64 hex digits>, one per line or comma',
      );
    }
  }
  if (merge && digests.length === 0) {
    throw new InputError(
      Inputs.merge,
      'true',
      'needs the per-platform digests in "digests"',
      'the digest outputs of the push-by-digest jobs',
    );
  }
  if (!merge && digests.length > 0) {
    throw new InputError(Inputs.digests, digests[0], 'is only used with merge: true', 'merge: true with digests, or no digests');
  }
  if (merge && tags.length === 0 && !image) {
    throw new InputError(
      Inputs.merge,
      'true',
      'needs "tags" (or an "image" name for default tags) for the merged index',
      'merge: true with tags or image',
    );
  }

  const target = optional(read, Inputs.target);
  if (target !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(target)) {
    throw new InputError(Inputs.target, target, 'is not a stage name', 'the name of a stage in the Dockerfile');
  }
  const network = optional(read, Inputs.network);
  if (network !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network)) {
    throw new InputError(Inputs.network, network, 'is not a network name', 'default, host, none, or a network name');
  }

  const buildxVersionRaw = optional(read, Inputs.buildxVersion);
  let buildxVersion: string | undefined;
  if (buildxVersionRaw !== undefined) {
    const v = semver.valid(semver.clean(buildxVersionRaw));
    if (!v)
      throw new InputError(
        Inputs.buildxVersion,
        buildxVersionRaw,
        'is not a version',
        `a buildx release such as 0.19.3 (at least ${MIN_BUILDX_VERSION})`,
      );
    if (semver.lt(v, MIN_BUILDX_VERSION)) {
      throw new InputError(
        Inputs.buildxVersion,
        buildxVersionRaw,
        `is older than ${MIN_BUILDX_VERSION}, which added --progress=rawjson`,
        `${MIN_BUILDX_VERSION} or newer`,
      );
    }
    buildxVersion = v;
  }
  const buildxDownloadUrl = (optional(read, Inputs.buildxDownloadUrl) ?? DEFAULT_BUILDX_DOWNLOAD_URL).replace(/\/+$/, '');
  if (!isSecureUrl(buildxDownloadUrl)) {
    throw new InputError(
      Inputs.buildxDownloadUrl,
      buildxDownloadUrl,
      'is not an https URL (plain http is accepted only for a loopback host)',
      'an https base URL under which v<version>/buildx-v<version>.<os>-<arch> and v<version>/checksums.txt are served',
    );
  }

  const builder = optional(read, Inputs.builder);
  if (builder !== undefined && !BUILDER_RE.test(builder)) {
    throw new InputError(Inputs.builder, builder, 'is not a builder name', 'the name shown by docker buildx ls');
  }
  const buildkitImage = optional(read, Inputs.buildkitImage) ?? DEFAULT_BUILDKIT_IMAGE;
  if (!isValidImageRef(buildkitImage)) {
    throw new InputError(
      Inputs.buildkitImage,
      buildkitImage,
      'is not a valid image reference',
      'an image such as moby/buildkit:buildx-stable-1',
    );
  }
  const cacheRef = parseCacheRef(read);
  const goCache = parseGoCache(read, cacheRef);
  const qemuImage = optional(read, Inputs.qemuImage) ?? DEFAULT_QEMU_IMAGE;
  if (!isValidImageRef(qemuImage)) {
    throw new InputError(Inputs.qemuImage, qemuImage, 'is not a valid image reference', 'an image such as tonistiigi/binfmt:latest');
  }

  return {
    workspace,
    context,
    file,
    platforms,
    tags,
    push,
    buildArgs: parseKeyValues(read, Inputs.buildArgs, false),
    labels: parseKeyValues(read, Inputs.labels, false),
    secrets: parseSecrets(read, mask),
    target,
    network,
    cacheRef,
    cacheMode: parseChoice(read, Inputs.cacheMode, ['min', 'max'] as const, 'max'),
    cacheFrom: parseList(read(Inputs.cacheFrom), { commas: false }),
    cacheTo: parseList(read(Inputs.cacheTo), { commas: false }),
    cacheStrict: parseBool(read, Inputs.cacheStrict, false),
    driver: parseChoice(read, Inputs.driver, ['auto', 'docker', 'docker-container'] as const, 'auto'),
    buildxVersion,
    buildxDownloadUrl,
    buildkitImage,
    builder,
    qemuImage,
    // Pushed by digest for a merge, the job's digest must be the platform manifest itself, not a
    // one-platform index around it with an attestation, so that the merged index lists exactly it.
    provenance: optional(read, Inputs.provenance) ?? (pushByDigest ? 'false' : undefined),
    sbom: optional(read, Inputs.sbom),
    smoke: parseSmoke(read, platforms),
    retries: parseCount(read, Inputs.retries, 2, 10),
    goPrivate: parseGoPrivate(read),
    goNetrc: parseNetrc(read, mask),
    maxImageSize: parseMaxImageSize(read),
    goCache,
    saveOn: parseChoice(read, Inputs.saveOn, ['all', 'default-branch'] as const, 'all'),
    workflow: workflowContext(env),
    buildId: buildId(path.relative(workspace, context), path.relative(workspace, file), target),
    image,
    pushByDigest,
    merge,
    digests,
    zeroConfig,
    printDockerfile: parseBool(read, Inputs.printDockerfile, false),
    lint: parseLint(read),
  };
}

function parseLint(read: Reader): Settings['lint'] {
  const raw = read(Inputs.lint).trim();
  if (raw === '' || raw === 'true') return 'warn';
  if (raw === 'false') return 'off';
  return parseChoice(read, Inputs.lint, ['off', 'warn', 'strict'] as const, 'warn');
}

function parseZeroConfig(read: Reader, context: string): ZeroConfigOptions & { ldflags: string } {
  const goMod = fs.readFileSync(path.join(context, 'go.mod'), 'utf8');
  const versionRaw = optional(read, Inputs.goVersion);
  const goVersion = versionRaw ?? goVersionFromMod(goMod);
  if (!goVersion || !/^\d+\.\d+(\.\d+)?([a-z0-9.-]*)$/.test(goVersion)) {
    throw new InputError(
      Inputs.goVersion,
      versionRaw ?? '<none in go.mod>',
      versionRaw ? 'is not a Go version' : 'is needed: go.mod has no go or toolchain line',
      'a version such as 1.24 or 1.24.3 (the golang image tag)',
    );
  }
  const goMain = optional(read, Inputs.goMain) ?? '.';
  if (!/^[A-Za-z0-9_./-]+$/.test(goMain) || goMain.split('/').includes('..')) {
    throw new InputError(Inputs.goMain, goMain, 'is not a package path inside the module', 'a package such as . or ./cmd/server');
  }
  const base = optional(read, Inputs.baseImage);
  if (base !== undefined && base !== 'static' && base !== 'scratch' && !isValidImageRef(base)) {
    throw new InputError(
      Inputs.baseImage,
      base,
      'is not an image',
      'static (the default), scratch, or an image such as gcr.io/distroless/static-debian12:nonroot',
    );
  }
  const cgo = parseBool(read, Inputs.cgo, false);
  if (cgo && (base === undefined || base === 'static' || base === 'scratch')) {
    throw new InputError(
      Inputs.baseImage,
      base ?? 'static',
      'has no C library, which a cgo binary needs',
      'an image with glibc for cgo: true, e.g. gcr.io/distroless/base-debian12:nonroot',
    );
  }
  return { goVersion, goMain, cgo, baseImage: base === 'static' ? undefined : base, ldflags: read(Inputs.ldflags).trim() };
}

function parseGoCache(read: Reader, cacheRef: ImageRef | undefined): GoCacheSettings {
  // The runner passes go-cache: true whether or not the workflow set it, so
  // true means "carry the Go caches when there is a store for them": with the
  // registry backend and no cache-ref they are off, and the plan says why.
  const wanted = parseBool(read, Inputs.goCache, true);
  const backend = parseChoice(read, Inputs.goCacheBackend, ['registry', 'gha'] as const, 'registry');
  const off = !wanted
    ? `${Inputs.goCache}: false`
    : backend === 'registry' && !cacheRef
      ? `no ${Inputs.cacheRef} to store them next to (set ${Inputs.cacheRef}, or ${Inputs.goCacheBackend}: gha)`
      : undefined;
  let mounts: GoCacheSettings['mounts'];
  const mountsRaw = read(Inputs.goCacheMounts).trim();
  if (mountsRaw !== '') {
    mounts = {};
    for (const entry of parseList(mountsRaw, { commas: true })) {
      const m = /^(mod|build)=(\S+)$/.exec(entry);
      if (!m) {
        throw new InputError(
          Inputs.goCacheMounts,
          entry,
          'is not of the form mod=<target or id> or build=<target or id>',
          'e.g. mod=/go/pkg/mod,build=/root/.cache/go-build',
        );
      }
      mounts[m[1] as 'mod' | 'build'] = m[2];
    }
  }
  const sizeRaw = read(Inputs.goCacheMaxSize).trim() || '2GB';
  const maxBytes = parseSize(sizeRaw);
  if (maxBytes === undefined) {
    throw new InputError(Inputs.goCacheMaxSize, sizeRaw, 'is not a size', 'a positive size such as 500MB or 2GB');
  }
  const image = optional(read, Inputs.goCacheImage);
  if (image !== undefined && !isValidImageRef(image)) {
    throw new InputError(Inputs.goCacheImage, image, 'is not a valid image reference', 'an image with /bin/sh and tar, e.g. golang:1.24');
  }
  return { enabled: off === undefined, offReason: off, backend, mounts, maxBytes, image };
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

function parseMaxImageSize(read: Reader): number | undefined {
  const raw = optional(read, Inputs.maxImageSize);
  if (raw === undefined) return undefined;
  const bytes = parseSize(raw);
  if (bytes === undefined) {
    throw new InputError(
      Inputs.maxImageSize,
      raw,
      'is not a size',
      'a positive number with an optional unit: B, kB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024), e.g. 20MB',
    );
  }
  return bytes;
}

function parseGoPrivate(read: Reader): string | undefined {
  const raw = optional(read, Inputs.goPrivate);
  if (raw === undefined) return undefined;
  const patterns = parseList(raw, { commas: true });
  for (const p of patterns) {
    if (!/^[A-Za-z0-9.*?_\-[\]/]+$/.test(p)) {
      throw new InputError(
        Inputs.goPrivate,
        p,
        'is not a module path pattern',
        'comma-separated glob patterns of module path prefixes, e.g. github.com/acme/*',
      );
    }
  }
  return patterns.join(',');
}

function parseNetrc(read: Reader, mask: Mask): string | undefined {
  const raw = read(Inputs.goNetrc);
  if (raw.trim() === '') return undefined;
  maskValue(mask, raw);
  for (const m of raw.matchAll(/\bpassword\s+(\S+)/g)) mask(m[1]);
  // The value is never echoed: it holds a password.
  if (!/\bmachine\s+\S+/.test(raw) || !/\bpassword\s+\S+/.test(raw)) {
    throw new InputError(Inputs.goNetrc, '<hidden>', 'is not netrc content', 'lines like "machine HOST login USER password TOKEN"');
  }
  return raw.endsWith('\n') ? raw : `${raw}\n`;
}
