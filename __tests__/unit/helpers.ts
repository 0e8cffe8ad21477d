import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAll, type MergedVertex, VertexTable } from '../../src/imagebuild/rawjson.js';
import { actionDefaults } from '../../scripts/run-action.mjs';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function fixture(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** The merged vertices of a captured rawjson stream. */
export function vertices(name: string): MergedVertex[] {
  const t = new VertexTable();
  for (const it of decodeAll(fixture(name))) if (it.kind === 'status') for (const v of it.status.vertexes ?? []) t.update(v);
  return t.all();
}

/** Every input default from action.yml, parsed the way the runner reads it. */
export const ACTION_DEFAULTS: Record<string, string> = actionDefaults();

/**
 * An input reader that sees what a runner passes: every action.yml default,
 * with the workflow's `with:` values over them.
 */
export function runnerInputs(given: Record<string, string> = {}): (name: string) => string {
  const all = { ...ACTION_DEFAULTS, ...given };
  return (name) => all[name] ?? '';
}
