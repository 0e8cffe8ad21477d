// Cache keys and registry refs. Pure functions of their inputs, so the exact
// ref scheme documented in the README is what the unit tests pin down.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GoCacheKind } from './dockerfile.js';

/**
 * A Docker-tag-safe slug ([a-z0-9._-], no leading or trailing "." or "-") of
 * at most `max` characters; a longer one ends in 8 hex digits of its hash so
 * that names sharing a prefix stay apart. 48 leaves room in a cache tag.
 */
export function slug(name: string, max = 48): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '');
  if (s.length > max) s = `${s.slice(0, max - 9)}-${sha(name).slice(0, 8)}`;
  return s || 'none';
}

export function sha(text: string | Buffer): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** "linux/amd64,linux/arm64" → "linux-amd64_linux-arm64"; order does not matter. */
export function platformSlug(platforms: string[]): string {
  const s = [...platforms]
    .sort()
    .map((p) => p.replace(/\//g, '-'))
    .join('_');
  return s.length <= 40 ? s : `p${sha(s).slice(0, 12)}`;
}

/** The branch a run belongs to: the PR's head branch, else the pushed ref's name. */
export function branchOf(env: NodeJS.ProcessEnv, defaultBranch: string): string {
  if (env.GITHUB_HEAD_REF) return env.GITHUB_HEAD_REF;
  if (env.GITHUB_REF?.startsWith('refs/heads/')) return env.GITHUB_REF.slice('refs/heads/'.length);
  // Tags and other refs read and write the default branch's caches.
  return defaultBranch;
}

/** The repository's default branch from the event payload, else "main". */
export function defaultBranchOf(env: NodeJS.ProcessEnv): string {
  try {
    if (env.GITHUB_EVENT_PATH) {
      const event = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as { repository?: { default_branch?: string } };
      if (event.repository?.default_branch) return event.repository.default_branch;
    }
  } catch {
    // An unreadable payload is no reason to fail a build; fall through.
  }
  return 'main';
}

/** The files that decide the module set: go.work, go.work.sum and every go.sum in use, relative to the context. */
export function moduleFiles(context: string): string[] {
  const work = path.join(context, 'go.work');
  const found: string[] = [];
  if (fs.existsSync(work)) {
    found.push('go.work');
    if (fs.existsSync(path.join(context, 'go.work.sum'))) found.push('go.work.sum');
    for (const dir of workUses(fs.readFileSync(work, 'utf8'))) {
      const sum = path.normalize(path.join(dir, 'go.sum'));
      if (fs.existsSync(path.join(context, sum))) found.push(sum);
    }
  } else if (fs.existsSync(path.join(context, 'go.sum'))) {
    found.push('go.sum');
  } else if (fs.existsSync(path.join(context, 'go.mod'))) {
    // A module without dependencies has no go.sum; its go.mod still names the Go version.
    found.push('go.mod');
  }
  return [...new Set(found)].sort();
}

/** The directories a go.work file uses: `use ./a` and `use ( ./a ./b )`. */
export function workUses(text: string): string[] {
  const noComments = text.replace(/\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of noComments.matchAll(/^\s*use\s+(?:\(([^)]*)\)|(\S+))/gm)) {
    const list = m[1] !== undefined ? m[1].split(/\s+/) : [m[2]];
    for (const d of list) if (d.trim()) out.push(d.trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** The `go` and `toolchain` lines of a go.mod, which the Go version in the keys includes. */
export function goDirective(goMod: string): string {
  const go = /^go\s+(\S+)/m.exec(goMod)?.[1] ?? '';
  const toolchain = /^toolchain\s+(\S+)/m.exec(goMod)?.[1];
  return toolchain ? `${go}+${toolchain}` : go;
}

export interface KeyInputs {
  /** The base image of the stage that runs Go, e.g. golang:1.24, which fixes the toolchain. */
  goImage: string;
  /** The go.mod `go` (and toolchain) directive. */
  goDirective: string;
  platforms: string[];
  /** relative path → content of each file from moduleFiles() */
  moduleFiles: Record<string, string>;
}

/** GOMODCACHE: the module files and the Go version. GOCACHE: the Go version and the platform set. */
export function cacheKeys(k: KeyInputs): Record<GoCacheKind, string> {
  const go = `${k.goImage}\n${k.goDirective}`;
  const files = Object.keys(k.moduleFiles)
    .sort()
    .map((f) => `${f}\n${sha(k.moduleFiles[f])}`)
    .join('\n');
  return {
    mod: sha(`gomod\n${go}\n${files}`).slice(0, 16),
    build: sha(`gobuild\n${go}\n${[...k.platforms].sort().join(',')}`).slice(0, 16),
  };
}

export interface RefScheme {
  repository: string;
  /** The tag written in cache-ref (default buildcache), used as the prefix of every tag. */
  prefix: string;
  platforms: string[];
  branch: string;
  defaultBranch: string;
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

/** BuildKit layer cache: written to the job's own ref (platform set + branch), read from it and then the default branch's. */
export function layerCacheRefs(s: RefScheme): { write: string; read: string[] } {
  const ref = (branch: string) => `${s.repository}:${s.prefix}-${platformSlug(s.platforms)}-${slug(branch)}`;
  return { write: ref(s.branch), read: [...new Set([ref(s.branch), ref(s.defaultBranch)])] };
}

/**
 * Go caches:
 * - mod:   exact `<prefix>-gomod-<key>` (content-addressed, shared by branches), then the newest of
 *          the branch `<prefix>-gomod-<branch>`, then the default branch's.
 * - build: `<prefix>-gobuild-<key>-<branch>`, then the same key on the default branch.
 */
export function goCacheRefs(s: RefScheme, kind: GoCacheKind, key: string): { write: string[]; read: Candidate[] } {
  const t = (tag: string) => `${s.repository}:${s.prefix}-${tag}`;
  if (kind === 'mod') {
    return {
      write: [t(`gomod-${key}`), t(`gomod-${slug(s.branch)}`)],
      read: dedupe([
        { ref: t(`gomod-${key}`), match: 'exact' },
        { ref: t(`gomod-${slug(s.branch)}`), match: 'branch' },
        { ref: t(`gomod-${slug(s.defaultBranch)}`), match: 'default-branch' },
      ]),
    };
  }
  return {
    write: [t(`gobuild-${key}-${slug(s.branch)}`)],
    read: dedupe([
      { ref: t(`gobuild-${key}-${slug(s.branch)}`), match: 'exact' },
      { ref: t(`gobuild-${key}-${slug(s.defaultBranch)}`), match: 'default-branch' },
    ]),
  };
}

/** actions/cache keys for the gha backend: same keys, branch scoping comes from the cache service itself. */
// actions/cache matches restore keys by prefix, newest first, in the run's
// branch and then the default branch, which is the fallback order wanted here.
export function ghaKeys(kind: GoCacheKind, key: string, runId: string): { write: string[]; read: Candidate[] } {
  if (kind === 'mod') {
    return {
      write: [`go-buildx-gomod-${key}`],
      read: [
        { ref: `go-buildx-gomod-${key}`, match: 'exact' },
        { ref: 'go-buildx-gomod-', match: 'branch' },
      ],
    };
  }
  // A GOCACHE grows with every code change, and actions/cache entries are immutable: each save is a new entry.
  return { write: [`go-buildx-gobuild-${key}-${runId}`], read: [{ ref: `go-buildx-gobuild-${key}-`, match: 'exact' }] };
}
