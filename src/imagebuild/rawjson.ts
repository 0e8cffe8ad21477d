// Parses `buildx build --progress=rawjson` output: a stream of SolveStatus
// JSON objects on stderr. Up to buildx 0.14 each object is pretty-printed over
// many lines, from 0.15 each is on one line, and after a failure plain text
// follows (a Dockerfile excerpt and "ERROR: ..."), which may itself contain
// braces such as ${VERSION}. So this is a small streaming scanner, not a line
// splitter: a "{" at the top level starts an object only when the next
// non-blank character is '"' or '}'; anything else is plain text.

import { isMissingRef } from '../ref.js';

export interface Vertex {
  digest: string;
  name?: string;
  inputs?: string[];
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
}

export interface VertexStatus {
  id: string;
  vertex: string;
  name?: string;
  total?: number;
  current?: number;
  started?: string;
  completed?: string;
}

export interface VertexLog {
  vertex: string;
  stream?: number;
  data: string; // base64
  timestamp?: string;
}

export interface VertexWarning {
  vertex: string;
  level?: number;
  short?: string; // base64
  detail?: string[]; // base64
  url?: string;
}

export interface SolveStatus {
  vertexes?: Vertex[];
  statuses?: VertexStatus[];
  logs?: VertexLog[];
  warnings?: VertexWarning[];
}

export type StreamItem = { kind: 'status'; status: SolveStatus } | { kind: 'text'; text: string };

export class RawJsonDecoder {
  private buf = '';

  /** Feeds a chunk; returns every item completed by it. */
  push(chunk: string): StreamItem[] {
    this.buf += chunk;
    return this.drain(false);
  }

  /** Returns whatever is left at the end of the stream. */
  end(): StreamItem[] {
    return this.drain(true);
  }

  private drain(final: boolean): StreamItem[] {
    const out: StreamItem[] = [];
    let i = 0;
    const s = this.buf;
    while (i < s.length) {
      const c = s[i];
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
        i++;
        continue;
      }
      if (c === '{' && this.looksLikeObject(s, i)) {
        const end = scanObject(s, i);
        if (end === -1) {
          if (!final) break; // incomplete: wait for more input
          out.push({ kind: 'text', text: s.slice(i) });
          i = s.length;
          break;
        }
        const raw = s.slice(i, end + 1);
        try {
          out.push({ kind: 'status', status: JSON.parse(raw) as SolveStatus });
        } catch {
          out.push(...textLines(raw));
        }
        i = end + 1;
        continue;
      }
      const nl = s.indexOf('\n', i);
      if (nl === -1) {
        if (!final) break;
        out.push({ kind: 'text', text: s.slice(i) });
        i = s.length;
        break;
      }
      out.push({ kind: 'text', text: s.slice(i, nl).replace(/\r$/, '') });
      i = nl + 1;
    }
    this.buf = s.slice(i);
    return out;
  }

  private looksLikeObject(s: string, i: number): boolean {
    let j = i + 1;
    while (j < s.length && /\s/.test(s[j])) j++;
    if (j >= s.length) return true; // undecided yet; scanObject waits for more
    return s[j] === '"' || s[j] === '}';
  }
}

function textLines(raw: string): StreamItem[] {
  return raw.split('\n').map((text) => ({ kind: 'text' as const, text }));
}

/** Index of the brace closing the object that opens at `start`, or -1 if not yet complete. */
function scanObject(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

export function decodeAll(text: string): StreamItem[] {
  const d = new RawJsonDecoder();
  return [...d.push(text), ...d.end()];
}

// ---------------------------------------------------------------------------
// Merging and statistics

export interface MergedVertex extends Vertex {
  /** Order of first appearance, 1-based, used as the "#N" in the log. */
  seq: number;
  cached: boolean;
}

/** Merges vertex updates by digest. A vertex counts as cached if any update said so. */
export class VertexTable {
  private byDigest = new Map<string, MergedVertex>();

  update(v: Vertex): MergedVertex {
    const prev = this.byDigest.get(v.digest);
    if (!prev) {
      const merged: MergedVertex = { ...v, seq: this.byDigest.size + 1, cached: v.cached === true };
      this.byDigest.set(v.digest, merged);
      return merged;
    }
    const merged: MergedVertex = {
      ...prev,
      ...stripUndefined(v),
      seq: prev.seq,
      cached: prev.cached || v.cached === true,
    };
    this.byDigest.set(v.digest, merged);
    return merged;
  }

  get(digest: string): MergedVertex | undefined {
    return this.byDigest.get(digest);
  }

  all(): MergedVertex[] {
    return [...this.byDigest.values()].sort((a, b) => a.seq - b.seq);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// "[linux/amd64->arm64 builder 6/6] RUN ...", "[stage-1 2/2] COPY ...", "[3/4] RUN ..."
const STEP_RE = /^\[(?:(.*?)\s+)?(\d+)\/(\d+)\]\s+([A-Z]+)\b/;

export interface StepInfo {
  /** Everything in the brackets before N/M: platform and stage, possibly empty. */
  label: string;
  index: number;
  count: number;
  instruction: string;
}

export function parseStepName(name: string | undefined): StepInfo | undefined {
  if (!name) return undefined;
  const m = STEP_RE.exec(name);
  if (!m) return undefined;
  return { label: m[1] ?? '', index: Number(m[2]), count: Number(m[3]), instruction: m[4] };
}

/** The platform a step belongs to, from its label: "linux/amd64 builder", "linux/amd64->arm64 builder"; undefined when shared. */
export function stepPlatform(label: string): string | undefined {
  const first = label.split(/\s+/)[0] ?? '';
  const cross = /^(\w+)\/[\w/]+->([\w/]+)$/.exec(first);
  if (cross) return `${cross[1]}/${cross[2]}`;
  return /^\w+\/\w+/.test(first) ? first : undefined;
}

/** True for the Dockerfile steps that count towards the hit rate (FROM excluded). */
export function isCountedStep(name: string | undefined): boolean {
  const step = parseStepName(name);
  return step !== undefined && step.instruction !== 'FROM';
}

export interface CacheStats {
  hits: number;
  steps: number;
  /** 0..100 with one decimal; 0 when there are no steps. */
  rate: number;
}

export function cacheStats(vertices: MergedVertex[]): CacheStats {
  const steps = vertices.filter((v) => isCountedStep(v.name));
  const hits = steps.filter((v) => v.cached).length;
  const rate = steps.length === 0 ? 0 : Math.round((hits / steps.length) * 1000) / 10;
  return { hits, steps: steps.length, rate };
}

export function formatRate(rate: number): string {
  return rate.toFixed(1);
}

export type CacheProblemKind = 'import' | 'export';

export interface CacheProblem {
  kind: CacheProblemKind;
  vertex: string;
  error: string;
  /** An import of a ref that does not exist yet: a cold start, not a failure. */
  missing: boolean;
}

/** Errors on BuildKit's cache import/export vertices, which do not fail the build. */
export function cacheProblems(vertices: MergedVertex[]): CacheProblem[] {
  const out: CacheProblem[] = [];
  for (const v of vertices) {
    if (!v.error || !v.name) continue;
    if (v.name.startsWith('importing cache manifest from'))
      out.push({ kind: 'import', vertex: v.name, error: v.error, missing: isMissingRef(v.error) });
    else if (v.name.startsWith('exporting cache')) out.push({ kind: 'export', vertex: v.name, error: v.error, missing: false });
  }
  return out;
}

export function durationSeconds(v: Vertex): number | undefined {
  if (!v.started || !v.completed) return undefined;
  return (Date.parse(v.completed) - Date.parse(v.started)) / 1000;
}

export function decodeBase64(data: string | undefined): string {
  return data ? Buffer.from(data, 'base64').toString('utf8') : '';
}
