// action.yml, the constants file and the settings parser must agree on every name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Inputs, Outputs } from '../../src/constants.js';
import { FIXTURES } from './helpers.js';

const action = parse(fs.readFileSync(path.join(FIXTURES, '..', '..', 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post: string; 'post-if': string };
};

describe('action.yml', () => {
  it('is valid YAML that runs dist/index.js on node24, with an always-run post step', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js', post: 'dist/index.js', 'post-if': 'always()' });
  });
  it('declares exactly the inputs in src/constants.ts', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort());
  });
  it('declares exactly the outputs in src/constants.ts', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort());
  });
  it('describes every input and output', () => {
    for (const [name, v] of [...Object.entries(action.inputs), ...Object.entries(action.outputs)]) {
      expect(v.description, name).toMatch(/\w/);
    }
  });
  it('the README documents every input and output', () => {
    const readme = fs.readFileSync(path.join(FIXTURES, '..', '..', 'README.md'), 'utf8');
    const missing = [...Object.keys(action.inputs), ...Object.keys(action.outputs)].filter((n) => !readme.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });

  it('keeps the docker/build-push-action names', () => {
    for (const name of [
      'context',
      'file',
      'platforms',
      'tags',
      'push',
      'build-args',
      'labels',
      'secrets',
      'target',
      'network',
      'cache-from',
      'cache-to',
      'builder',
      'provenance',
      'sbom',
    ]) {
      expect(action.inputs, name).toHaveProperty(name);
    }
    for (const name of ['digest', 'imageid', 'metadata']) expect(action.outputs, name).toHaveProperty(name);
  });
});
