// Cache keys and registry refs. Pure functions of their inputs, so the exact
// ref scheme documented in the README is what the unit tests pin down.
import { CacheAnnotations } from '../constants.js';
import type { GoCacheKind } from '../dockerfile/gomounts.js';
import type { Settings } from '../settings/types.js';
import { platformSlug, sha } from '../settings/names.js';

export interface KeyInputs {
  /** The real image the stage that runs Go is built on (earlier stages followed), e.g. golang:1.24. */
  goImage: string;
  /** The go.mod `go` (and toolchain) directive. */
  goDirective: string;
  platforms: string[];
  /** relative path → content of each file that decides the module set */
  moduleFiles: Record<string, string>;
  /** What is built: buildId() of the context, Dockerfile and target. */
  buildId: string;
}

/**
 * GOMODCACHE: the module files and the Go version (shared by whatever builds
 * the same modules). GOCACHE: the Go version, the platform set and what is built.
 */
export function cacheKeys(k: KeyInputs): Record<GoCacheKind, string> {
  const go = `${k.goImage}\n${k.goDirective}`;
  const files = Object.keys(k.moduleFiles)
    .sort()
    .map((f) => `${f}\n${sha(k.moduleFiles[f])}`)
    .join('\n');
  return {
    mod: sha(`gomod\n${go}\n${files}`).slice(0, 16),
    build: sha(`gobuild\n${go}\n${[...k.platforms].sort().join(',')}\n${k.buildId}`).slice(0, 16),
  };
}

export interface RefScheme {
  repository: string;
  /** The tag written in cache-ref (default buildcache), used as the prefix of every tag. */
  prefix: string;
  platforms: string[];
  /** buildId() of what is built. */
  buildId: string;
  /** Whose caches this run writes (context.ts scopeName): the default branch's, a branch's, pr-<n>, tag-<name>, event-<name>. */
  scope: string;
  /** The default branch's scope, read after the run's own. */
  defaultScope: string;
}

/** The ref scheme of a run, from its settings; undefined without cache-ref. */
export type RefSettings = Pick<Settings, 'cacheRef' | 'platforms' | 'workflow' | 'buildId'>;

export function refScheme(settings: RefSettings): RefScheme | undefined {
  if (!settings.cacheRef) return undefined;
  return {
    repository: settings.cacheRef.repository,
    prefix: settings.cacheRef.tag,
    platforms: settings.platforms,
    buildId: settings.buildId,
    scope: settings.workflow.scope,
    defaultScope: settings.workflow.defaultScope,
  };
}

export type Match = 'exact' | 'branch' | 'default-branch';

export interface Candidate {
  ref: string;
  match: Match;
}

function dedupe(c: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return c.filter((x) => (seen.has(x.ref) ? false : (seen.add(x.ref), true)));
}

/**
 * Every ref is scoped by who wrote it, as actions/cache scopes its entries:
 * a run reads its own scope, then the default branch's, and writes only its
 * own. The default branch (and tags, which build from it) therefore reads
 * only what default-branch runs wrote, never what a branch or a fork's pull
 * request could have planted.
 */
function scopes(s: RefScheme): string[] {
  return [...new Set([s.scope, s.defaultScope])];
}

/** BuildKit layer cache: `<prefix>-<platforms>-<build id>-<scope>`, read from the run's scope, then the default branch's. */
export function layerCacheRefs(s: RefScheme): { write: string; read: string[] } {
  const ref = (scope: string) => `${s.repository}:${s.prefix}-${platformSlug(s.platforms)}-${s.buildId}-${scope}`;
  const [own, ...others] = scopes(s);
  return { write: ref(own), read: [ref(own), ...others.map(ref)] };
}

/**
 * Go caches:
 * - mod:   `<prefix>-gomod-<key>-<scope>` (the exact module set), then the newest of this build in
 *          the scope `<prefix>-gomod-<build id>-<scope>`; each in the run's scope, then the default branch's.
 * - build: `<prefix>-gobuild-<key>-<scope>`, then the same key in the default branch's scope.
 */
export function goCacheRefs(s: RefScheme, kind: GoCacheKind, key: string): { write: string[]; read: Candidate[] } {
  const t = (tag: string) => `${s.repository}:${s.prefix}-${tag}`;
  const [own, ...others] = scopes(s);
  if (kind === 'mod') {
    return {
      write: [t(`gomod-${key}-${own}`), t(`gomod-${s.buildId}-${own}`)],
      read: dedupe([
        { ref: t(`gomod-${key}-${own}`), match: 'exact' },
        ...others.map((o): Candidate => ({ ref: t(`gomod-${key}-${o}`), match: 'exact' })),
        { ref: t(`gomod-${s.buildId}-${own}`), match: 'branch' },
        ...others.map((o): Candidate => ({ ref: t(`gomod-${s.buildId}-${o}`), match: 'default-branch' })),
      ]),
    };
  }
  return {
    write: [t(`gobuild-${key}-${own}`)],
    read: dedupe([
      { ref: t(`gobuild-${key}-${own}`), match: 'exact' },
      ...others.map((o): Candidate => ({ ref: t(`gobuild-${key}-${o}`), match: 'default-branch' })),
    ]),
  };
}

/** What every actions/cache key the action saves starts with; cache-cleanup deletes a scope's entries by it. */
export const GHA_KEY_PREFIX = 'go-buildx-';

/**
 * actions/cache keys for the gha backend. The service scopes entries itself
 * (a run reads its own branch's, then the default branch's; pull requests
 * their own), which is the trust model wanted here.
 */
// Restore keys match by prefix, newest first. Only a restore of the primary
// key itself is an exact hit; a prefix match is a fallback.
export function ghaKeys(kind: GoCacheKind, key: string, runId: string): { write: string[]; read: Candidate[] } {
  if (kind === 'mod') {
    return {
      write: [`${GHA_KEY_PREFIX}gomod-${key}`],
      read: [
        { ref: `${GHA_KEY_PREFIX}gomod-${key}`, match: 'exact' },
        { ref: `${GHA_KEY_PREFIX}gomod-`, match: 'branch' },
      ],
    };
  }
  // A GOCACHE grows with every code change, and actions/cache entries are immutable: each save is a new entry.
  return {
    write: [`${GHA_KEY_PREFIX}gobuild-${key}-${runId}`],
    read: [
      { ref: `${GHA_KEY_PREFIX}gobuild-${key}-${runId}`, match: 'exact' },
      { ref: `${GHA_KEY_PREFIX}gobuild-${key}-`, match: 'branch' },
    ],
  };
}

/** The annotations of a manifest the action writes into the cache repository (see CacheAnnotations). */
export function cacheAnnotations(env: NodeJS.ProcessEnv = process.env, now = new Date()): Record<string, string> {
  return {
    [CacheAnnotations.created]: now.toISOString(),
    ...(env.GITHUB_REPOSITORY ? { [CacheAnnotations.repository]: env.GITHUB_REPOSITORY.toLowerCase() } : {}),
  };
}
