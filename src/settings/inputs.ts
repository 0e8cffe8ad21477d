// One parser per input (or per small group of inputs that form one value):
// each reads its input, validates it, and throws an InputError naming the
// input, the value and what is accepted. Rules between inputs are in rules.ts.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import { DEFAULT_BUILDX_DOWNLOAD_URL, DEFAULT_CACHE_TAG, Inputs, MIN_BUILDX_VERSION } from '../constants.js';
import { isValidImageRef, lowercaseRepository, splitRef } from '../ref.js';
import { goVersionFromMod } from '../gomod.js';
import {
  type GoCacheSettings,
  type ImageRef,
  InputError,
  KNOWN_PLATFORMS,
  DEFAULT_PLATFORMS,
  type Mask,
  type Reader,
  type Secret,
  type Settings,
  type ZeroConfigOptions,
} from './types.js';
import { isSecureUrl, maskValue, optional, parseBool, parseChoice, parseList, parseSize } from './values.js';

export function parsePlatforms(read: Reader): string[] {
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

/** A reference with its repository lowercased, and one info line when that changed it. */
function lowercased(name: string, raw: string): string {
  const fixed = lowercaseRepository(raw);
  if (fixed !== raw)
    out.info(`${name}: ${raw} is pushed as ${fixed} (registries take lowercase repository names; the tag is kept as written)`);
  return fixed;
}

export function parseTags(read: Reader): string[] {
  const tags = parseList(read(Inputs.tags), { commas: true });
  return tags.map((raw) => {
    const t = lowercased(Inputs.tags, raw);
    if (t === '' || !isValidImageRef(t)) {
      throw new InputError(Inputs.tags, t, 'is not a valid image reference', '[host[:port]/]name[:tag], e.g. ghcr.io/acme/app:1.2.3');
    }
    return t;
  });
}

export function parseSecrets(read: Reader, mask: Mask): Secret[] {
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

export function parseCacheRef(read: Reader): ImageRef | undefined {
  const given = optional(read, Inputs.cacheRef);
  if (given === undefined) return undefined;
  const raw = given.includes('@') ? given : lowercased(Inputs.cacheRef, given);
  if (raw.includes('@') || !isValidImageRef(raw)) {
    throw new InputError(
      Inputs.cacheRef,
      given,
      'is not a valid registry reference',
      '[host[:port]/]name[:tag] without a digest, e.g. ghcr.io/acme/app-cache',
    );
  }
  const { repository, tag } = splitRef(raw);
  return { repository, tag: tag ?? DEFAULT_CACHE_TAG };
}

export function parseLint(read: Reader): Settings['lint'] {
  const raw = read(Inputs.lint).trim();
  if (raw === '' || raw === 'true') return 'warn';
  if (raw === 'false') return 'off';
  return parseChoice(read, Inputs.lint, ['off', 'warn', 'strict'] as const, 'warn');
}

export function parseZeroConfig(read: Reader, context: string): ZeroConfigOptions {
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

/** Where the Go caches are stored; the cleanup reads it too, to delete actions/cache entries. */
export function parseGoCacheBackend(read: Reader): 'registry' | 'gha' {
  return parseChoice(read, Inputs.goCacheBackend, ['registry', 'gha'] as const, 'registry');
}

export function parseGoCache(read: Reader, cacheRef: ImageRef | undefined, noCache = false): GoCacheSettings {
  // The runner passes go-cache: true whether or not the workflow set it, so
  // true means "carry the Go caches when there is a store for them": with the
  // registry backend and no cache-ref they are off, and the plan says why.
  const wanted = parseBool(read, Inputs.goCache, true);
  const backend = parseGoCacheBackend(read);
  // no-cache asks for a build from nothing: restoring the Go caches would undo that, and saving
  // what such a build left is no better than the cache it replaced.
  const off = !wanted
    ? `${Inputs.goCache}: false`
    : noCache
      ? `${Inputs.noCache}: true`
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

export function parseMaxImageSize(read: Reader): number | undefined {
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

export function parseGoPrivate(read: Reader): string | undefined {
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

export function parseNetrc(read: Reader, mask: Mask): string | undefined {
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

/** image: a repository name, lowercased as docker/metadata-action does, so ghcr.io/${{ github.repository }} works as written. */
export function parseImage(read: Reader): string | undefined {
  const image = optional(read, Inputs.image)?.toLowerCase();
  if (image !== undefined && (!isValidImageRef(image) || splitRef(image).tag !== undefined || image.includes('@'))) {
    throw new InputError(
      Inputs.image,
      image,
      'is not a repository name',
      'lowercase [host[:port]/]name without a tag, e.g. ghcr.io/acme/api',
    );
  }
  return image;
}

export function parseDigests(read: Reader): string[] {
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
  return digests;
}

/** An input that names something (a stage, a network, a builder): letters, digits, "_", "." and "-". */
export function parseName(read: Reader, name: string, what: string, accepted: string): string | undefined {
  const value = optional(read, name);
  if (value !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) throw new InputError(name, value, `is not a ${what}`, accepted);
  return value;
}

/** An image reference input with a default, e.g. buildkit-image. */
export function parseImageRef(read: Reader, name: string, dflt: string): string {
  const value = optional(read, name) ?? dflt;
  if (!isValidImageRef(value)) throw new InputError(name, value, 'is not a valid image reference', `an image such as ${dflt}`);
  return value;
}

export function parseBuildxVersion(read: Reader): string | undefined {
  const raw = optional(read, Inputs.buildxVersion);
  if (raw === undefined) return undefined;
  const v = semver.valid(semver.clean(raw));
  if (!v)
    throw new InputError(Inputs.buildxVersion, raw, 'is not a version', `a buildx release such as 0.19.3 (at least ${MIN_BUILDX_VERSION})`);
  if (semver.lt(v, MIN_BUILDX_VERSION)) {
    throw new InputError(
      Inputs.buildxVersion,
      raw,
      `is older than ${MIN_BUILDX_VERSION}, the oldest buildx the action is tested with`,
      `${MIN_BUILDX_VERSION} or newer`,
    );
  }
  return v;
}

/** A base URL releases are downloaded from: https, or http to a loopback mirror. */
export function parseDownloadUrl(read: Reader, name: string, dflt: string, serves: string): string {
  const url = (optional(read, name) ?? dflt).replace(/\/+$/, '');
  if (!isSecureUrl(url)) {
    throw new InputError(
      name,
      url,
      'is not an https URL (plain http is accepted only for a loopback host)',
      `an https base URL under which ${serves} are served`,
    );
  }
  return url;
}

export function parseBuildxDownloadUrl(read: Reader): string {
  return parseDownloadUrl(
    read,
    Inputs.buildxDownloadUrl,
    DEFAULT_BUILDX_DOWNLOAD_URL,
    'v<version>/buildx-v<version>.<os>-<arch> and v<version>/checksums.txt',
  );
}
