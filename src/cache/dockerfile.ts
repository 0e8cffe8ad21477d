// Finds the Go module and build cache mounts in a Dockerfile: the
// `RUN --mount=type=cache,...` flags, with the stage they are in and that
// stage's base image. Pure: text in, description out.

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
  /** Base image of the stage that mounts it, with ARG defaults and build args substituted. */
  stageBase: string;
}

export interface DockerfileCacheInfo {
  mounts: CacheMount[];
  /** Mounts that look like Go caches but cannot be restored, with the reason. */
  skipped: { target: string; line: number; reason: string }[];
}

interface Instruction {
  keyword: string;
  rest: string;
  line: number;
}

/** Joins continuation lines and drops comments; heredoc bodies are kept as text of their instruction. */
export function instructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let current: { text: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    if (!current && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (current && trimmed.startsWith('#')) continue;
    const cont = /\\\s*$/.test(raw);
    const piece = cont ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += ` ${piece.trim()}`;
    else current = { text: piece.trim(), line: i + 1 };
    if (!cont) {
      const m = /^(\S+)\s*(.*)$/s.exec(current.text);
      if (m) out.push({ keyword: m[1].toUpperCase(), rest: m[2], line: current.line });
      current = undefined;
    }
  }
  if (current) {
    const m = /^(\S+)\s*(.*)$/s.exec(current.text);
    if (m) out.push({ keyword: m[1].toUpperCase(), rest: m[2], line: current.line });
  }
  return out;
}

/** Substitutes $VAR, ${VAR} and ${VAR:-default} from vars; unknown variables stay as written. */
export function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, a, dflt, b) => {
    const name = (a ?? b) as string;
    if (vars[name] !== undefined && vars[name] !== '') return vars[name];
    if (dflt !== undefined) return dflt as string;
    return all;
  });
}

function parseArgDecl(rest: string): [string, string | undefined][] {
  return rest
    .split(/\s+/)
    .filter(Boolean)
    .map((d) => {
      const eq = d.indexOf('=');
      return eq === -1 ? [d, undefined] : [d.slice(0, eq), d.slice(eq + 1).replace(/^"(.*)"$/, '$1')];
    });
}

function parseEnv(rest: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!rest.includes('=')) {
    const m = /^(\S+)\s+(.*)$/.exec(rest);
    if (m) out[m[1]] = m[2].trim();
    return out;
  }
  for (const m of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  return out;
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
function classify(target: string, env: Record<string, string>): GoCacheKind | undefined {
  const clean = target.replace(/\/+$/, '');
  if (env.GOMODCACHE && clean === env.GOMODCACHE.replace(/\/+$/, '')) return 'mod';
  if (env.GOCACHE && clean === env.GOCACHE.replace(/\/+$/, '')) return 'build';
  if (clean.endsWith('/pkg/mod')) return 'mod';
  if (clean.endsWith('/go-build')) return 'build';
  return undefined;
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
  const globalArgs: Record<string, string> = {};
  let stageBase = '';
  let stageVars: Record<string, string> = {};
  let env: Record<string, string> = {};
  const byId = new Map<string, CacheMount>();
  const skipped: DockerfileCacheInfo['skipped'] = [];
  let inStage = false;

  for (const ins of instructions(text)) {
    if (ins.keyword === 'ARG') {
      for (const [k, v] of parseArgDecl(ins.rest)) {
        const value = buildArgs[k] ?? (v !== undefined ? substitute(v, inStage ? stageVars : globalArgs) : undefined);
        if (inStage) stageVars[k] = value ?? globalArgs[k] ?? '';
        else globalArgs[k] = value ?? '';
      }
    } else if (ins.keyword === 'FROM') {
      inStage = true;
      const words = ins.rest.split(/\s+/).filter((w) => !w.startsWith('--'));
      stageBase = substitute(words[0] ?? '', globalArgs);
      stageVars = {};
      env = {};
    } else if (ins.keyword === 'ENV') {
      for (const [k, v] of Object.entries(parseEnv(ins.rest))) env[k] = substitute(v, { ...globalArgs, ...stageVars, ...env });
    } else if (ins.keyword === 'RUN') {
      for (const m of ins.rest.matchAll(/--mount=(\S+)/g)) {
        const spec = m[1].replace(/^"(.*)"$/, '$1');
        const opts = mountOptions(spec);
        if (opts.get('type') !== 'cache') continue;
        const rawTarget = opts.get('target') ?? opts.get('dst') ?? opts.get('destination');
        if (!rawTarget) continue;
        const vars = { ...globalArgs, ...stageVars, ...env };
        const target = substitute(rawTarget, vars);
        const id = substitute(opts.get('id') ?? rawTarget, vars);
        let kind: GoCacheKind | undefined;
        if (explicit?.mod !== undefined || explicit?.build !== undefined) {
          if (explicit.mod === target || explicit.mod === id) kind = 'mod';
          else if (explicit.build === target || explicit.build === id) kind = 'build';
        } else {
          kind = classify(target, env);
        }
        if (!kind) continue;
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
        byId.set(id, { kind, id, target, options: kept, line: ins.line, stageBase });
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
