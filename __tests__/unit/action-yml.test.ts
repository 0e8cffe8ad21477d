// action.yml, the constants file and the settings parser must agree on every name.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_QEMU_IMAGE, Inputs, Outputs, PINNED_BUILDX_VERSION } from '../../src/constants.js';
import { isValidImageRef } from '../../src/ref.js';
import { parseSettings } from '../../src/settings/parse.js';
import { parseCleanup } from '../../src/settings/cleanup.js';
import { ACTION_DEFAULTS, FIXTURES, runnerInputs } from './helpers.js';

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

  // docker/build-push-action's input and output names, as facts (v6), so that a workflow moves over unchanged.
  const BUILD_PUSH_INPUTS = [
    'add-hosts',
    'allow',
    'annotations',
    'attests',
    'build-args',
    'build-contexts',
    'builder',
    'cache-from',
    'cache-to',
    'call',
    'cgroup-parent',
    'context',
    'file',
    'github-token',
    'labels',
    'load',
    'network',
    'no-cache',
    'no-cache-filters',
    'outputs',
    'platforms',
    'provenance',
    'pull',
    'push',
    'sbom',
    'secret-envs',
    'secret-files',
    'secrets',
    'shm-size',
    'ssh',
    'tags',
    'target',
    'ulimit',
  ];
  // What teams set on docker/setup-buildx-action, by its names.
  const SETUP_BUILDX_INPUTS = ['driver', 'driver-opts', 'buildkitd-config', 'buildkitd-config-inline', 'endpoint', 'append'];
  it('has every docker/build-push-action input and output, and the setup-buildx ones, by the same name, in action.yml and the README', () => {
    const readme = fs.readFileSync(path.join(FIXTURES, '..', '..', 'README.md'), 'utf8');
    for (const name of [...BUILD_PUSH_INPUTS, ...SETUP_BUILDX_INPUTS]) {
      expect(action.inputs, name).toHaveProperty(name);
      expect(readme, name).toContain(`\`${name}\``);
    }
    for (const name of ['digest', 'imageid', 'metadata']) expect(action.outputs, name).toHaveProperty(name);
  });
  it('the settings read every input of action.yml', () => {
    const asked = new Set<string>();
    const read = runnerInputs({ tags: 'ghcr.io/acme/api:1' });
    // The example has a Dockerfile; a context with only a go.mod also reads the built-in Dockerfile's inputs.
    const zeroConfig = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-zero-'));
    fs.writeFileSync(path.join(zeroConfig, 'go.mod'), 'module example.com/zero\n\ngo 1.24\n');
    for (const ws of [path.join(FIXTURES, '..', '..', 'example'), zeroConfig]) {
      parseSettings(
        (name) => {
          asked.add(name);
          return read(name);
        },
        { GITHUB_WORKSPACE: ws, GITHUB_REPOSITORY: 'acme/hello' },
      );
    }
    // The cleanup mode reads its own inputs, and only those (its job has no checkout).
    const cleanupAsked = new Set<string>();
    const cleanupRead = runnerInputs({ 'cache-cleanup': 'true', 'cache-ref': 'ghcr.io/acme/api-cache' });
    parseCleanup(
      (name) => {
        cleanupAsked.add(name);
        return cleanupRead(name);
      },
      { GITHUB_REPOSITORY: 'acme/hello' },
      () => undefined,
    );
    for (const n of cleanupAsked) asked.add(n);
    expect(Object.keys(action.inputs).filter((n) => !asked.has(n))).toEqual([]);
    expect([...cleanupAsked].sort()).toEqual(
      [
        'cache-ref',
        'cache-strict',
        'cache-cleanup',
        'cache-cleanup-api',
        'cache-cleanup-dry-run',
        'cache-cleanup-older-than',
        'cache-cleanup-scopes',
        'cache-cleanup-untagged',
        'github-token',
        // Whether the scopes' actions/cache entries go too.
        'go-cache-backend',
      ].sort(),
    );
  });
});

// One truth per fact: what action.yml says a default is, what the code falls back to when an input
// is empty, and what the README's input tables say, are the same.
describe('defaults agree: action.yml, the settings, the README', () => {
  const readme = fs.readFileSync(path.join(FIXTURES, '..', '..', 'README.md'), 'utf8');
  const env = { GITHUB_WORKSPACE: path.join(FIXTURES, '..', '..', 'example'), GITHUB_REF: 'refs/heads/main', GITHUB_RUN_ID: '7' };

  it('the settings parsed from every action.yml default equal those parsed from empty inputs', () => {
    const cases: Record<string, string>[] = [{}, { tags: 'ghcr.io/acme/api:1', push: 'true', 'cache-ref': 'ghcr.io/acme/api-cache' }];
    for (const given of cases) {
      const fromDefaults = parseSettings(runnerInputs(given), env);
      const fromEmpty = parseSettings((name) => given[name] ?? '', env);
      // github-token's default is an expression the runner evaluates to the job's token: the code can have no
      // fallback for it, so only its presence is compared.
      expect(fromDefaults.signing.githubToken).toMatch(/^ghs_/);
      expect(fromEmpty.signing.githubToken).toBeUndefined();
      expect({ ...fromEmpty, signing: { ...fromEmpty.signing, githubToken: 'job token' } }).toEqual({
        ...fromDefaults,
        signing: { ...fromDefaults.signing, githubToken: 'job token' },
      });
    }
  });

  it('the cleanup settings parsed from every action.yml default equal those parsed from empty inputs', () => {
    const given = { 'cache-cleanup': 'true', 'cache-ref': 'ghcr.io/acme/api-cache' };
    const withRepo = { ...env, GITHUB_REPOSITORY: 'acme/hello' };
    const fromDefaults = parseCleanup(runnerInputs(given), withRepo, () => undefined);
    const fromEmpty = parseCleanup(
      (name) => given[name as keyof typeof given] ?? '',
      withRepo,
      () => undefined,
    );
    expect(fromDefaults?.github?.token).toMatch(/^ghs_/);
    expect({ ...fromEmpty, github: 'job token' }).toEqual({ ...fromDefaults, github: 'job token' });
    expect(fromDefaults?.olderThanMs).toBe(14 * 86_400_000);
  });

  /** Rows of the README's input tables (header `| input | default | … |`): the input names and the default cell. */
  const rows = (() => {
    const out: { names: string[]; dflt: string }[] = [];
    let inTable = false;
    for (const line of readme.split('\n')) {
      if (/^\|\s*input\s*\|\s*default\s*\|/.test(line)) inTable = true;
      else if (!line.startsWith('|')) inTable = false;
      else if (inTable && !/^\|\s*-/.test(line)) {
        const [first, second] = line.split('|').slice(1, 3);
        out.push({ names: [...first.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]), dflt: second.trim() });
      }
    }
    return out;
  })();

  it('every input has one row in the README input tables', () => {
    const listed = rows.flatMap((r) => r.names);
    expect(
      listed.filter((n, i) => listed.indexOf(n) !== i),
      'listed twice',
    ).toEqual([]);
    expect(
      Object.keys(action.inputs).filter((n) => !listed.includes(n)),
      'not listed',
    ).toEqual([]);
  });

  it('every non-empty default in action.yml is the one the README shows', () => {
    const wrong: string[] = [];
    for (const [name, spec] of Object.entries(action.inputs)) {
      if (!spec.default) continue;
      const row = rows.find((r) => r.names.includes(name));
      if (!row?.dflt.includes(`\`${spec.default}\``)) wrong.push(`${name}: action.yml ${spec.default}, README ${row?.dflt}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the README names the buildx version the action installs when none is found', () => {
    expect(readme).toContain(`buildx ${PINNED_BUILDX_VERSION}`);
  });

  it('the privileged QEMU image is pinned to a release and its digest, and action.yml says the same', () => {
    expect(DEFAULT_QEMU_IMAGE).toMatch(/^docker\.io\/tonistiigi\/binfmt:qemu-v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(isValidImageRef(DEFAULT_QEMU_IMAGE)).toBe(true);
    expect(ACTION_DEFAULTS['qemu-image']).toBe(DEFAULT_QEMU_IMAGE);
  });

  it('every duration default carries its unit', () => {
    for (const name of [Inputs.smokeGrace, Inputs.smokeTimeout, Inputs.smokeInterval]) expect(ACTION_DEFAULTS[name]).toMatch(/^\d+(ms|s)$/);
  });
});

// The README's migration table, true by construction: every input and output of the docker actions a team moves
// from (their action.yml files at the latest release of each major, captured in the fixture) has exactly one
// row, and each row's status is checked against this action's action.yml.
describe('the migration table agrees with action.yml and the upstream actions', () => {
  const readme = fs.readFileSync(path.join(FIXTURES, '..', '..', 'README.md'), 'utf8');
  const upstream = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'upstream-actions.json'), 'utf8')) as Record<
    string,
    { inputs: Record<string, string | null>; outputs: string[] }
  >;
  const section = readme.slice(
    readme.indexOf('## Migrating from the docker actions'),
    readme.indexOf('\n## ', readme.indexOf('## Migrating') + 5),
  );
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l) && !/^\|\s*action\s*\|/.test(l))
    .map((l) => {
      const [action, kind, names, here, why] = l
        .split('|')
        .slice(1, 6)
        .map((c) => c.trim());
      const [repo, ...majors] = action.split(/[\s,]+/);
      return { line: l, repo, majors, kind, names: [...names.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]), here, why };
    });
  const norm = (v: string | null | undefined) => v ?? '';
  const ours = (kind: string, name: string) => (kind === 'input' ? name in action.inputs : name in action.outputs);

  it('has one row, and one only, for every input and output of each upstream release', () => {
    const missing: string[] = [];
    const twice: string[] = [];
    for (const [key, def] of Object.entries(upstream)) {
      const [repo, version] = key.split('@');
      const major = version.split('.')[0];
      for (const [kind, names] of [
        ['input', Object.keys(def.inputs)],
        ['output', def.outputs],
      ] as const) {
        for (const name of names) {
          const hits = rows.filter((r) => r.repo === repo && r.majors.includes(major) && r.kind === kind && r.names.includes(name));
          if (hits.length === 0) missing.push(`${key} ${kind} ${name}`);
          if (hits.length > 1) twice.push(`${key} ${kind} ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
  });

  it('names nothing an upstream release it lists does not have', () => {
    const stale = rows.flatMap((r) =>
      r.names
        .filter(
          (n) =>
            !r.majors.some((m) =>
              Object.entries(upstream).some(
                ([k, d]) => k.startsWith(`${r.repo}@${m}.`) && (r.kind === 'input' ? n in d.inputs : d.outputs.includes(n)),
              ),
            ),
        )
        .map((n) => `${r.repo} ${r.majors.join(',')} ${r.kind} ${n}`),
    );
    expect(stale).toEqual([]);
  });

  it('gives each row exactly one status, and each status is true of action.yml', () => {
    const wrong: string[] = [];
    for (const r of rows) {
      const renamed = /^renamed to `([a-z-]+)`$/.exec(r.here)?.[1];
      if (!['same', 'different default', 'not supported'].includes(r.here) && !renamed) wrong.push(`${r.line}: unknown status "${r.here}"`);
      for (const n of r.names) {
        const upstreamDefaults = Object.entries(upstream)
          .filter(([k, d]) => r.majors.some((m) => k.startsWith(`${r.repo}@${m}.`)) && r.kind === 'input' && n in d.inputs)
          .map(([, d]) => norm(d.inputs[n]));
        const mine = r.kind === 'input' && n in action.inputs ? norm(action.inputs[n].default) : undefined;
        if (r.here === 'same') {
          if (!ours(r.kind, n)) wrong.push(`${n}: "same", but action.yml has no ${r.kind} ${n}`);
          else if (r.kind === 'input' && upstreamDefaults.some((d) => d !== mine))
            wrong.push(`${n}: "same", but its default here is "${mine}"`);
        } else if (r.here === 'different default') {
          if (r.kind !== 'input' || mine === undefined) wrong.push(`${n}: "different default", but action.yml has no input ${n}`);
          else if (upstreamDefaults.every((d) => d === mine)) wrong.push(`${n}: "different default", but the default is the same`);
          else if (!r.why.includes(`\`${mine}\``))
            wrong.push(`${n}: "different default" must name this action's default \`${mine}\` in why`);
        } else if (renamed) {
          if (!ours(r.kind, renamed)) wrong.push(`${n}: renamed to ${renamed}, which action.yml does not have as an ${r.kind}`);
        } else if (r.here === 'not supported') {
          if (!r.why) wrong.push(`${n}: "not supported" needs a why`);
          // A name this action also has, for something else, says so.
          else if (ours(r.kind, n) && !r.why.includes(`\`${n}\``))
            wrong.push(`${n}: not supported, yet action.yml has an ${r.kind} ${n}: the why must say what it is here`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
