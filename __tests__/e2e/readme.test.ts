// The README's workflows are tests: every ```yaml block that uses the action is
// read as the runner would read it, under each event its `on:` names (a push to
// main, a tag push, a pull request from a fork), its `${{ }}` expressions
// evaluated against that event, its registry names mapped to the local
// registry, and each of the action's steps run through the runner-faithful
// harness on the example app, jobs in `needs` order and matrix legs one by one.
// So the documentation cannot drift from what the action does.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ROOT, runAction } from '../../scripts/run-action.mjs';
import { eventOf } from '../../scripts/runner-events.mjs';
import { workflowContext } from '../../src/context.js';
import { copyInto, engineUp, registryTags, REGISTRY, workspace } from './engine.js';

const ACTION = /(^|\/)go-buildx-action@/;

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  strategy?: { matrix?: Record<string, unknown> & { include?: Record<string, unknown>[] } };
  steps?: Step[];
}
interface Workflow {
  on?: string | string[] | Record<string, { tags?: string[] } | null>;
  jobs?: Record<string, Job>;
}
type EventSpec =
  | { kind: 'push' }
  | { kind: 'tag'; tag: string }
  | { kind: 'pull_request'; fork: boolean }
  | { kind: 'pull_request_target'; fork: boolean; action: string; number: number }
  | { kind: 'delete'; ref: string; refType: 'branch' }
  | { kind: 'schedule' };

/** Every yaml block of the README that uses the action, with the heading it sits under. */
function readmeSnippets(text: string): { title: string; yaml: string; onGitHub?: string }[] {
  const out: { title: string; yaml: string; onGitHub?: string }[] = [];
  let title = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^#{1,4} /.test(lines[i])) title = lines[i].replace(/^#+ /, '');
    if (lines[i].trim() !== '```yaml') continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i]);
    const yaml = body.join('\n');
    // A recipe that cannot run on one machine says which job of .github/workflows/e2e.yml runs it.
    const onGitHub = /^# runs in \.github\/workflows\/e2e\.yml: ([\w-]+)/.exec(yaml)?.[1];
    if (ACTION.test(yaml)) out.push({ title, yaml, onGitHub });
  }
  return out;
}

/** The events a workflow runs on, as the harness can raise them. */
function eventsOf(wf: Workflow): EventSpec[] {
  const on = wf.on ?? 'push';
  const names = typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on);
  const out: EventSpec[] = [];
  if (names.includes('push')) {
    const push = typeof on === 'object' && !Array.isArray(on) ? on.push : undefined;
    out.push(push?.tags ? { kind: 'tag', tag: 'v1.2.3' } : { kind: 'push' });
  }
  // A fork's pull request: the harder case (read-only token, a head branch that may be called main).
  if (names.includes('pull_request')) out.push({ kind: 'pull_request', fork: true });
  // The cleanup recipe's events: a fork's pull request closed, a branch deleted, the nightly schedule.
  if (names.includes('pull_request_target')) out.push({ kind: 'pull_request_target', fork: true, action: 'closed', number: 7 });
  if (names.includes('delete')) out.push({ kind: 'delete', ref: 'feature/login', refType: 'branch' });
  if (names.includes('schedule')) out.push({ kind: 'schedule' });
  if (out.length === 0) throw new Error(`the README workflow runs on ${JSON.stringify(on)}, which this test cannot raise`);
  return out;
}

/** Jobs in `needs` order: a job runs after the jobs it names. */
function jobsInOrder(wf: Workflow): [string, Job][] {
  const done: [string, Job][] = [];
  const pending = Object.entries(wf.jobs ?? {});
  while (pending.length > 0) {
    const i = pending.findIndex(([, j]) => [j.needs ?? []].flat().every((n) => done.some(([d]) => d === n)));
    if (i === -1) throw new Error(`jobs with needs that never run: ${pending.map(([n]) => n).join(', ')}`);
    done.push(...pending.splice(i, 1));
  }
  return done;
}

/** The legs of a matrix: `include` entries, or the product of its lists. */
function legsOf(job: Job): Record<string, unknown>[] {
  const m = job.strategy?.matrix;
  if (!m) return [{}];
  if (m.include) return m.include;
  let legs: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(m)) legs = legs.flatMap((l) => (values as unknown[]).map((v) => ({ ...l, [k]: v })));
  return legs;
}

/** Evaluates the `${{ }}` expressions the README uses: context paths, string literals, == and !=. */
function evaluate(text: string, lookup: (p: string) => string): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_all, expr: string) => {
    const term = (t: string) => {
      const s = t.trim();
      return /^'.*'$/.test(s) ? s.slice(1, -1) : lookup(s);
    };
    const cmp = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(expr);
    if (cmp) return String((term(cmp[1]) === term(cmp[3])) === (cmp[2] === '=='));
    return term(expr);
  });
}

/** An ssh-agent holding a fresh key, as webfactory/ssh-agent leaves one for later steps. */
function sshAgent(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-agent-'));
  const sock = path.join(dir, 'agent.sock');
  execFileSync('ssh-agent', ['-a', sock]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'key')]);
  execFileSync('ssh-add', ['-q', path.join(dir, 'key')], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
  return sock;
}

/**
 * Before the cleanup recipe runs under an event that ends a scope (a closed pull request, a deleted
 * branch): a build of the example in that scope writes its caches, as the pull request's or branch's own runs did.
 */
async function seedEndedScope(
  cacheRef: string,
  event: EventSpec,
  ws: string,
): Promise<{ repository: string; scope: string; tags: number } | undefined> {
  const seed =
    event.kind === 'pull_request_target'
      ? ({ kind: 'pull_request', number: event.number, fork: true } as const)
      : event.kind === 'delete'
        ? ({ kind: 'push', branch: event.ref } as const)
        : undefined;
  if (!seed) return undefined;
  const built = await runAction({ 'cache-ref': cacheRef }, { workspace: ws, event: seed });
  expect(built.exitCode, built.log).toBe(0);
  const repository = cacheRef.replace(/:[^/]*$/, '');
  const scope = workflowContext({ ...eventOf(seed).env, GITHUB_EVENT_PATH: '' }).scope;
  const tags = (await registryTags(repository)).filter((t) => t.includes(`-${scope}`)).length;
  expect(tags, `the build of ${scope} wrote its caches (at least the layer cache and its fingerprint)`).toBeGreaterThanOrEqual(2);
  return { repository, scope, tags };
}

describe.runIf(engineUp)('README workflows run as written, under their events (mapped to the local registry)', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const snippets = readmeSnippets(readme);

  it('the quick start and every recipe with a workflow are here, each a complete workflow', () => {
    expect(snippets.map((s) => s.title)).toEqual([
      'Quick start',
      'Pull requests, forks included',
      'Pushes to main: `sha` and `latest` tags',
      'A tagged release on native runners: push by digest, then merge',
      'Several native nodes in one builder',
      'A service in a monorepo',
      'Private modules over netrc',
      'Private modules over ssh',
      'A service that needs its database at boot',
      'Release pipeline: sign what passed, and attest that it passed',
      "Recipe: delete a pull request's caches when it closes, and stale scopes every night",
    ]);
    for (const s of snippets) {
      const wf = YAML.parse(s.yaml) as Workflow & { permissions?: unknown };
      expect(wf.on, `${s.title}: on`).toBeDefined();
      expect(wf.permissions, `${s.title}: permissions`).toBeDefined();
      for (const [name, job] of Object.entries(wf.jobs ?? {})) {
        const uses = (job.steps ?? []).map((st) => st.uses ?? '');
        const action = uses.findIndex((u) => ACTION.test(u));
        if (action === -1) continue;
        expect(uses.indexOf('docker/login-action@v3'), `${s.title}/${name}: logs in before the action`).toBeGreaterThan(-1);
        expect(uses.indexOf('docker/login-action@v3')).toBeLessThan(action);
        // The merge job and the cleanup read no source.
        const cleanup = job.steps?.[action]?.with?.['cache-cleanup'] === true;
        expect(uses.includes('actions/checkout@v4') || name === 'merge' || cleanup, `${s.title}/${name}: checks out`).toBe(true);
        if (cleanup) expect(uses.includes('actions/checkout@v4'), `${s.title}/${name}: checks out nothing`).toBe(false);
      }
    }
  });

  it('a recipe marked as running on GitHub names a job of .github/workflows/e2e.yml that uses the same inputs', () => {
    const e2e = YAML.parse(fs.readFileSync(path.join(ROOT, '.github/workflows/e2e.yml'), 'utf8')) as Workflow;
    for (const s of snippets.filter((x) => x.onGitHub)) {
      const job = e2e.jobs?.[s.onGitHub!];
      expect(job, `${s.title}: e2e.yml job ${s.onGitHub}`).toBeDefined();
      const recipe = Object.values((YAML.parse(s.yaml) as Workflow).jobs ?? {})
        .flatMap((j) => j.steps ?? [])
        .find((st) => ACTION.test(st.uses ?? ''));
      const there = (job!.steps ?? []).find((st) => st.uses === './');
      // The same inputs with the same values, except where the places differ: the registry (a service
      // container there) and the remote nodes' endpoints and TLS files, which only the recipe's runners have.
      const placeBound = ['image', 'cache-ref', 'append'];
      for (const [k, v] of Object.entries(recipe?.with ?? {}).filter(([k]) => !placeBound.includes(k))) {
        expect(there?.with, `${s.title}: e2e.yml ${s.onGitHub} sets ${k}`).toHaveProperty(k);
        expect(String(there?.with?.[k]), `${s.title}: e2e.yml ${s.onGitHub} sets ${k} as the recipe does`).toBe(String(v));
      }
      if (recipe?.with && 'append' in recipe.with)
        expect(there?.with, `${s.title}: e2e.yml ${s.onGitHub} sets append`).toHaveProperty('append');
    }
  });

  const cases = snippets
    .filter((s) => !s.onGitHub)
    .flatMap((s) => eventsOf(YAML.parse(s.yaml) as Workflow).map((e) => [`${s.title} (${e.kind})`, s, e] as const));
  it.each(cases)('%s', async (_name, snippet, event) => {
    const ns = `${REGISTRY}/readme-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}/`;
    const toLocal = (v: string) => v.replace(/\b(ghcr\.io|docker\.io)\//g, ns);
    const { env } = eventOf(event);
    const github: Record<string, string> = {
      sha: env.GITHUB_SHA,
      ref: env.GITHUB_REF,
      ref_name: env.GITHUB_REF_NAME,
      event_name: env.GITHUB_EVENT_NAME,
      repository: env.GITHUB_REPOSITORY,
      actor: 'octocat',
    };
    const ws = workspace('example');
    const results: { job: string; outputs: Record<string, string> }[] = [];
    let ran = 0;
    const wf = YAML.parse(snippet.yaml) as Workflow;
    for (const [jobName, job] of jobsInOrder(wf)) {
      for (const [index, leg] of legsOf(job).entries()) {
        const stepOutputs: Record<string, Record<string, string>> = {};
        const lookup = (p: string): string => {
          const [head, ...rest] = p.split('.');
          if (head === 'github' && rest.length === 1 && rest[0] in github) return github[rest[0]];
          if (head === 'secrets') return `readme-secret-${rest[0].toLowerCase()}`;
          if (head === 'matrix') return String(leg[rest[0]] ?? '');
          if (head === 'strategy' && rest[0] === 'job-index') return String(index);
          if (head === 'steps' && rest[1] === 'outputs') {
            const own = stepOutputs[rest[0]]?.[rest[2]];
            if (own !== undefined) return own;
            // A `run:` step of the workflow that gathers the digests the build legs passed on as artifacts.
            if (rest[0] === 'digests')
              return results
                .filter((r) => r.job !== jobName && r.outputs.digest)
                .map((r) => r.outputs.digest)
                .join(',');
          }
          throw new Error(`the README example uses \${{ ${p} }}, which this test does not know how to evaluate`);
        };
        for (const step of job.steps ?? []) {
          if (!step.uses || !ACTION.test(step.uses)) continue;
          const inputs: Record<string, string> = {};
          for (const [k, v] of Object.entries(step.with ?? {})) inputs[k] = toLocal(evaluate(String(v), lookup));
          // A monorepo recipe names service folders: each gets a copy of the example service.
          if (inputs.context && !fs.existsSync(path.join(ws, inputs.context))) copyInto(ws, 'example', inputs.context);
          // The ssh recipe forwards the agent an earlier step started (webfactory/ssh-agent): one with a key in it.
          const env = inputs.ssh === 'default' ? { SSH_AUTH_SOCK: sshAgent() } : undefined;
          // The cleanup recipe's promise: the scope the event ended is gone. A build of that scope writes it first.
          const ended = inputs['cache-cleanup'] === 'true' ? await seedEndedScope(inputs['cache-ref'], event, ws) : undefined;
          const r = await runAction(inputs, { workspace: ws, event, env });
          if (ended) {
            const left = (await registryTags(ended.repository)).filter((t) => t.includes(`-${ended.scope}`));
            expect(left, `${ended.scope} after the cleanup\n${r.log}`).toEqual([]);
            expect((JSON.parse(r.outputs['cache-cleanup-result']) as { deleted: string[] }).deleted.length).toBe(ended.tags);
          }
          expect(r.exitCode, `${jobName}[${index}] ${JSON.stringify(inputs)}\n${r.log}`).toBe(0);
          ran++;
          if (step.id) stepOutputs[step.id] = r.outputs;
          results.push({ job: jobName, outputs: r.outputs });
          // What the pull request recipe promises: the caches are read, never written.
          if (event.kind === 'pull_request' && inputs['save-on'] === 'default-branch' && inputs['cache-ref']) {
            expect(await registryTags(inputs['cache-ref'].replace(/:[^/]*$/, '')), 'a pull request wrote to the cache').toEqual([]);
          }
          // What every recipe with push promises: the tags it reports are in the registry.
          if ((inputs.push === 'true' && inputs['push-by-digest'] !== 'true') || inputs.merge === 'true') {
            const tags = r.outputs.tags.split('\n').filter(Boolean);
            expect(tags.length).toBeGreaterThan(0);
            // The release recipe's promise for v1.2.3 in a repository with no newer release.
            if (event.kind === 'tag' && inputs.image && !inputs.tags) {
              expect(tags.map((t) => t.slice(t.lastIndexOf(':') + 1)).sort()).toEqual(['1', '1.2', '1.2.3', 'latest', 'sha-6113728']);
            }
            for (const t of tags) {
              const colon = t.lastIndexOf(':');
              expect(await registryTags(t.slice(0, colon)), t).toContain(t.slice(colon + 1));
            }
          }
        }
        // Every output the example reads from the action's steps is there.
        for (const m of snippet.yaml.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          if (stepOutputs[m[1]]) expect(stepOutputs[m[1]][m[2]], `${m[1]}.outputs.${m[2]}`).toMatch(/\S/);
        }
      }
    }
    expect(ran).toBeGreaterThan(0);
  });
});
