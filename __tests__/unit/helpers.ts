import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAll, type MergedVertex, VertexTable } from '../../src/build/rawjson.js';

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
