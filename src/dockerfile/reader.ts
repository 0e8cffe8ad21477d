// The one Dockerfile reader: instructions (continuations joined, comments
// dropped) grouped into stages, with the ARG and ENV values in effect at each
// instruction. The Go cache mount finder and the lint both read through it.
// Pure: text in, stages out.

export interface Instruction {
  keyword: string;
  rest: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface StageInstruction extends Instruction {
  /** ARG and ENV values in effect at this instruction (global ARGs included). */
  vars: Record<string, string>;
}

export interface Stage {
  line: number;
  /** The base image, with ARG defaults and build args substituted: an image, or an earlier stage's name. */
  base: string;
  /** The image the stage really starts from: earlier stages followed to theirs. */
  image: string;
  name?: string;
  /** The --platform= flag of FROM, as written. */
  platformFlag?: string;
  /** Values at the end of the stage. */
  vars: Record<string, string>;
  ins: StageInstruction[];
}

/** Joins continuation lines and drops comments; heredoc bodies are kept as text of their instruction. */
export function instructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let current: { text: string; line: number } | undefined;
  const flush = () => {
    const m = current && /^(\S+)\s*(.*)$/s.exec(current.text);
    if (m && current) out.push({ keyword: m[1].toUpperCase(), rest: m[2], line: current.line });
    current = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (!current && trimmed === '')) continue;
    const cont = /\\\s*$/.test(raw);
    const piece = cont ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += ` ${piece.trim()}`;
    else current = { text: piece.trim(), line: i + 1 };
    if (!cont) flush();
  }
  flush();
  return out;
}

/** Substitutes $VAR, ${VAR} and ${VAR:-default} from vars; unknown or empty variables stay as written. */
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

/** ENV KEY=VALUE ..., or the legacy ENV KEY VALUE. */
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

export function stages(text: string, buildArgs: Record<string, string>): Stage[] {
  const out: Stage[] = [];
  const global: Record<string, string> = {};
  for (const i of instructions(text)) {
    const cur = out[out.length - 1];
    if (i.keyword === 'FROM') {
      const words = i.rest.split(/\s+/).filter((w) => w && !w.startsWith('--'));
      const base = substitute(words[0] ?? '', global);
      // Stage names are case-insensitive; a name refers to an earlier stage only.
      const earlier = out.find((st) => st.name !== undefined && st.name.toLowerCase() === base.toLowerCase());
      out.push({
        line: i.line,
        base,
        image: earlier ? earlier.image : base,
        name: words[1]?.toUpperCase() === 'AS' ? words[2] : undefined,
        platformFlag: /--platform=(\S+)/.exec(i.rest)?.[1],
        vars: { ...global },
        ins: [],
      });
      continue;
    }
    const scope = cur ? cur.vars : global;
    if (i.keyword === 'ARG') {
      for (const [k, v] of parseArgDecl(i.rest)) {
        scope[k] = buildArgs[k] ?? (v !== undefined ? substitute(v, scope) : cur ? global[k] : undefined) ?? '';
      }
    } else if (i.keyword === 'ENV' && cur) {
      for (const [k, v] of Object.entries(parseEnv(i.rest))) cur.vars[k] = substitute(v, cur.vars);
    }
    if (cur) cur.ins.push({ ...i, vars: { ...cur.vars } });
  }
  return out;
}

/** Build args (KEY=VALUE; a bare KEY takes the environment's value, as buildx does) as a map. */
export function buildArgMap(buildArgs: string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of buildArgs) {
    const eq = a.indexOf('=');
    if (eq === -1) out[a] = env[a] ?? '';
    else out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}
