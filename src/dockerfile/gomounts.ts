// Finds the Go module and build cache mounts in a Dockerfile: the
// `RUN --mount=type=cache,...` flags, with the stage they are in and that
// stage's base image. Pure: text in, description out.

import { stages, substitute } from './reader.js';

const MODULE_FILE = /^go\.(mod|sum|work|work\.sum)$/;

export type GoCacheKind = 'mod' | 'build';

export interface CacheMount {
  kind: GoCacheKind;
  /** The mount's cache id as BuildKit sees it (id=, else the target). */
  id: string;
  target: string;
  /** The option string as written, minus from/source, so the helper builds mount the same cache. */
  options: string;
  /** 1-based line of the RUN instruction that first mounts it. */
  line: number;
  /** The image the stage that mounts it starts from (earlier stages followed), ARGs substituted. */
  stageBase: string;
}

export interface DockerfileCacheInfo {
  mounts: CacheMount[];
  /** Mounts that look like Go caches but cannot be restored, with the reason. */
  skipped: { target: string; line: number; reason: string }[];
}

/** Options of one --mount flag: "type=cache,id=x,target=/y" → map. */
export function mountOptions(spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) out.set(part.trim().toLowerCase(), 'true');
    else out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * What kind of Go cache a mount target is: the stage's GOMODCACHE/GOCACHE if
 * set, else the Go defaults ($GOPATH/pkg/mod, ~/.cache/go-build).
 */
function classify(target: string, vars: Record<string, string>): GoCacheKind | undefined {
  const clean = target.replace(/\/+$/, '');
  if (vars.GOMODCACHE && clean === vars.GOMODCACHE.replace(/\/+$/, '')) return 'mod';
  if (vars.GOCACHE && clean === vars.GOCACHE.replace(/\/+$/, '')) return 'build';
  if (clean.endsWith('/pkg/mod')) return 'mod';
  if (clean.endsWith('/go-build')) return 'build';
  return undefined;
}

/** One `--mount=` flag of a RUN, when it is a Go cache mount: its options, target, id and kind. */
function goCacheMountOf(
  spec: string,
  vars: Record<string, string>,
  explicit?: Partial<Record<GoCacheKind, string>>,
): { opts: Map<string, string>; rawTarget: string; target: string; id: string; kind: GoCacheKind } | undefined {
  const opts = mountOptions(spec.replace(/^"(.*)"$/, '$1'));
  if (opts.get('type') !== 'cache') return undefined;
  const rawTarget = opts.get('target') ?? opts.get('dst') ?? opts.get('destination');
  if (!rawTarget) return undefined;
  const target = substitute(rawTarget, vars);
  const id = substitute(opts.get('id') ?? rawTarget, vars);
  let kind: GoCacheKind | undefined;
  if (explicit?.mod !== undefined || explicit?.build !== undefined) {
    if (explicit.mod === target || explicit.mod === id) kind = 'mod';
    else if (explicit.build === target || explicit.build === id) kind = 'build';
  } else {
    kind = classify(target, vars);
  }
  return kind ? { opts, rawTarget, target, id, kind } : undefined;
}

/** The Go cache kinds one RUN instruction mounts (its `rest`, with the ARG and ENV values in effect). */
export function goCacheKindsOfRun(
  rest: string,
  vars: Record<string, string>,
  explicit?: Partial<Record<GoCacheKind, string>>,
): GoCacheKind[] {
  return [...rest.matchAll(/--mount=(\S+)/g)].map((m) => goCacheMountOf(m[1], vars, explicit)?.kind).filter((k): k is GoCacheKind => !!k);
}

/**
 * explicit: mount targets or ids named by the go-cache-mounts input, which
 * replace the guess from paths.
 */
export function findGoCacheMounts(
  text: string,
  buildArgs: Record<string, string>,
  explicit?: Partial<Record<GoCacheKind, string>>,
): DockerfileCacheInfo {
  const byId = new Map<string, CacheMount>();
  const skipped: DockerfileCacheInfo['skipped'] = [];
  for (const stage of stages(text, buildArgs)) {
    for (const ins of stage.ins) {
      if (ins.keyword !== 'RUN') continue;
      for (const m of ins.rest.matchAll(/--mount=(\S+)/g)) {
        const found = goCacheMountOf(m[1], ins.vars, explicit);
        if (!found) continue;
        const { opts, rawTarget, target, id, kind } = found;
        if (/\$/.test(id) || /\$/.test(target)) {
          skipped.push({ target: rawTarget, line: ins.line, reason: 'its id or target depends on a variable only known per platform' });
          continue;
        }
        if (opts.has('from') || opts.has('source')) {
          skipped.push({ target, line: ins.line, reason: 'it is seeded from another stage (from=)' });
          continue;
        }
        if (byId.has(id)) continue;
        const kept = [...opts.entries()]
          .filter(([k]) => !['from', 'source', 'src'].includes(k))
          .map(([k, v]) => `${k}=${k === 'id' ? id : k === 'target' || k === 'dst' || k === 'destination' ? target : v}`)
          .join(',');
        byId.set(id, { kind, id, target, options: kept, line: ins.line, stageBase: stage.image });
      }
    }
  }
  // One mount per kind: the first one found.
  const mounts: CacheMount[] = [];
  for (const kind of ['mod', 'build'] as const) {
    const first = [...byId.values()].find((x) => x.kind === kind);
    if (first) mounts.push(first);
  }
  return { mounts, skipped };
}

/** The source arguments of a COPY/ADD (shell or JSON form), without flags and the destination. */
function copySources(rest: string): string[] {
  const flagsOff = rest.replace(/^(\s*--\S+)+\s*/, '');
  let words: string[];
  if (flagsOff.trim().startsWith('[')) {
    try {
      words = JSON.parse(flagsOff) as string[];
    } catch {
      return [];
    }
  } else {
    words = flagsOff.split(/\s+/).filter(Boolean);
  }
  return words.slice(0, -1);
}

/** A glob of one path segment (*, ?) as a regular expression. */
function segmentRe(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
}

/**
 * The go.mod, go.sum, go.work and go.work.sum files the Dockerfile copies from
 * the build context (COPY without --from), as context-relative paths that
 * match `existing` — e.g. svc/go.sum in a monorepo built from the root. Globs
 * in the file name (go.sum*, go.*) are expanded against the names listDir
 * gives for that directory of the context.
 */
export function copiedModuleFiles(text: string, buildArgs: Record<string, string>, listDir: (dir: string) => string[]): string[] {
  const out = new Set<string>();
  for (const stage of stages(text, buildArgs)) {
    for (const ins of stage.ins) {
      if ((ins.keyword !== 'COPY' && ins.keyword !== 'ADD') || /--from=/.test(ins.rest)) continue;
      for (const raw of copySources(substitute(ins.rest, ins.vars))) {
        const src = raw.replace(/^\.\//, '').replace(/^\/+/, '');
        const dir = src.includes('/') ? src.slice(0, src.lastIndexOf('/') + 1) : '';
        const re = segmentRe(src.slice(dir.length));
        if (dir.split('/').includes('..')) continue;
        for (const name of listDir(dir)) if (MODULE_FILE.test(name) && re.test(name)) out.add(`${dir}${name}`);
      }
    }
  }
  return [...out].sort();
}
