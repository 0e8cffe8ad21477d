// The shape of src/, read with the TypeScript compiler API: no import cycles
// (type-only imports included), no function over 80 lines, no file over 400,
// and no two files of one base name in different folders.
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

describe('the shape of src/', () => {
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
