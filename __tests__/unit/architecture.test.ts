// The shape of src/, read with the TypeScript compiler API: folders that form layers (docs/architecture.md),
// no import cycles (type-only imports included), no function over 80 lines, no file over 400, and no two
// files of one base name in different folders.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers.js';

const SRC = path.resolve(FIXTURES, '..', '..', 'src');

function sourceFiles(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles();
const parsed = new Map(files.map((f) => [f, ts.createSourceFile(f, fs.readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true)]));
const rel = (f: string) => path.relative(SRC, f);

/** Every module a file imports or re-exports from src/, type-only ones included. */
function importsOf(f: string): string[] {
  const out: string[] = [];
  for (const st of parsed.get(f)!.statements) {
    const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    out.push(path.resolve(path.dirname(f), spec.text.replace(/\.js$/, '.ts')));
  }
  return out;
}

/**
 * The layers of docs/architecture.md, bottom to top. A unit is a folder of src/, or a file at its root. A
 * unit imports only from units of a lower layer: never from its own layer, never from above.
 */
const LAYERS: string[][] = [
  ['constants', 'output', 'context', 'tracked', 'gomod'],
  ['exec', 'ref', 'state'],
  ['lifecycle', 'engine'],
  ['registry'],
  ['settings'],
  ['setup', 'dockerfile'],
  ['buildx'],
  ['cacherefs'],
  ['imagebuild'],
  ['layercache'],
  ['gocache'],
  ['smoke'],
  ['report', 'publish', 'sign', 'cleanup'],
  ['release', 'merge'],
  ['main', 'post'],
  ['index'],
];

/** The unit of a file: its folder under src/, or its own name at the root. */
export function unitOf(relPath: string): string {
  const parts = relPath.split(path.sep);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, '');
}

/**
 * Every import that breaks the layer order: into the same layer or one above, or from or to a unit no layer
 * names. Each names the importing file, the imported one and both layers.
 */
export function layerViolations(edges: [string, string][], layers: string[][]): string[] {
  const layerOf = new Map(layers.flatMap((units, i) => units.map((u) => [u, i + 1] as const)));
  const bad: string[] = [];
  for (const [from, to] of edges) {
    const a = unitOf(from);
    const b = unitOf(to);
    if (a === b) continue;
    const la = layerOf.get(a);
    const lb = layerOf.get(b);
    if (la === undefined || lb === undefined) {
      bad.push(`${from} → ${to}: ${la === undefined ? a : b} is in no layer (add it to LAYERS and docs/architecture.md)`);
    } else if (lb >= la) {
      bad.push(`${from} → ${to}: ${a} (layer ${la}) imports ${b} (layer ${lb}${lb === la ? ', the same' : ', above'})`);
    }
  }
  return bad;
}

/** Folder-level loops: each pair of units that import each other, directly or through others. */
export function unitLoops(edges: [string, string][]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const [f, t] of edges) {
    const a = unitOf(f);
    const b = unitOf(t);
    if (a !== b) graph.set(a, (graph.get(a) ?? new Set()).add(b));
  }
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) for (const n of graph.get(stack.pop()!) ?? []) if (!seen.has(n) && seen.add(n)) stack.push(n);
    return seen;
  };
  const loops: string[] = [];
  for (const [a, outs] of graph) for (const b of outs) if (a < b || !graph.get(b)?.has(a)) if (reach(b).has(a)) loops.push(`${a} ↔ ${b}`);
  return [...new Set(loops)].sort();
}

const edges: [string, string][] = files.flatMap((f) => importsOf(f).map((t) => [rel(f), rel(t)] as [string, string]));

describe('the layer checks themselves', () => {
  it('fail on a folder-level loop, naming the import, and on a unit no layer names', () => {
    const layers = [['ref'], ['registry'], ['publish']];
    const looped: [string, string][] = [
      ['publish/push.ts', 'registry/client.ts'],
      ['registry/client.ts', 'publish/tags.ts'],
    ];
    expect(unitLoops(looped)).toEqual(['publish ↔ registry']);
    expect(layerViolations(looped, layers)).toEqual([
      'registry/client.ts → publish/tags.ts: registry (layer 2) imports publish (layer 3, above)',
    ]);
    expect(layerViolations([['ref.ts', 'newfolder/x.ts']], layers)).toEqual([
      'ref.ts → newfolder/x.ts: newfolder is in no layer (add it to LAYERS and docs/architecture.md)',
    ]);
    expect(
      layerViolations(
        [
          ['publish/a.ts', 'publish/b.ts'],
          ['publish/a.ts', 'ref.ts'],
        ],
        layers,
      ),
    ).toEqual([]);
  });
});

describe('the shape of src/', () => {
  it('has folders that form layers: each imports only from layers below it (type-only imports included)', () => {
    expect(layerViolations(edges, LAYERS)).toEqual([]);
    expect(unitLoops(edges)).toEqual([]);
  });

  it('names every unit of src/ in a layer, and each once', () => {
    const units = [...new Set(files.map((f) => unitOf(rel(f))))].sort();
    expect([...LAYERS.flat()].sort()).toEqual(units);
  });

  it('keeps main.ts an orchestrator of at most 60 lines', () => {
    expect(fs.readFileSync(path.join(SRC, 'main.ts'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(60);
  });

  it('lists the layers in docs/architecture.md as the test does', () => {
    const doc = fs.readFileSync(path.join(SRC, '..', 'docs', 'architecture.md'), 'utf8');
    const listed = [...doc.matchAll(/^\d+\. \*\*layer\*\* (.+)$/gm)].map((m) => [...m[1].matchAll(/`([a-z]+)\/?`/g)].map((x) => x[1]));
    expect(listed).toEqual(LAYERS);
  });

  it('has no import cycle, type-only imports included', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const g of graph.get(f) ?? []) visit(g, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('has no function over 80 lines', () => {
    const long: string[] = [];
    for (const [f, sf] of parsed) {
      const walk = (n: ts.Node) => {
        if (ts.isFunctionLike(n) && 'body' in n && n.body) {
          const lines = sf.getLineAndCharacterOfPosition(n.getEnd()).line - sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
          const name = n.name && ts.isIdentifier(n.name) ? n.name.text : '(anonymous)';
          if (lines > 80) long.push(`${rel(f)} ${name}: ${lines} lines`);
        }
        ts.forEachChild(n, walk);
      };
      walk(sf);
    }
    expect(long).toEqual([]);
  });

  it('has no file over 400 lines', () => {
    const big = files.map((f) => [rel(f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 400);
    expect(big).toEqual([]);
  });

  it('has no two files of one base name in different folders', () => {
    const byName = new Map<string, string[]>();
    for (const f of files) byName.set(path.basename(f), [...(byName.get(path.basename(f)) ?? []), rel(f)]);
    expect([...byName.values()].filter((v) => v.length > 1)).toEqual([]);
  });
});
