#!/usr/bin/env node
// Captures the inputs (with their defaults) and outputs of the docker actions a team migrates from, from each
// action's action.yml at the latest release of each major, into __tests__/fixtures/upstream-actions.json.
// The README's migration table is tested against that file (__tests__/unit/action-yml.test.ts).
//
//   node scripts/capture-upstream-actions.mjs <dir holding one git clone per action, named as the repository>
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

const MAJORS = {
  'build-push-action': ['v6', 'v7'],
  'setup-buildx-action': ['v3', 'v4'],
  'setup-qemu-action': ['v3', 'v4'],
  'metadata-action': ['v5', 'v6'],
};
const root = process.argv[2];
if (!root) throw new Error('usage: capture-upstream-actions.mjs <dir with build-push-action/, setup-buildx-action/, …>');
const out = {};
for (const [repo, majors] of Object.entries(MAJORS)) {
  const dir = path.join(root, repo);
  const git = (...args) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  const tags = git('tag')
    .split('\n')
    .filter((t) => /^v\d+\.\d+\.\d+$/.test(t));
  for (const major of majors) {
    const latest = tags
      .filter((t) => t.startsWith(`${major}.`))
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .pop();
    if (!latest) throw new Error(`${repo} has no ${major} release`);
    const y = parse(git('show', `${latest}:action.yml`));
    out[`${repo}@${latest}`] = {
      inputs: Object.fromEntries(Object.entries(y.inputs ?? {}).map(([k, v]) => [k, v?.default ?? null])),
      outputs: Object.keys(y.outputs ?? {}),
    };
  }
}
fs.writeFileSync(
  path.join(import.meta.dirname, '..', '__tests__', 'fixtures', 'upstream-actions.json'),
  `${JSON.stringify(out, null, 1)}\n`,
);
