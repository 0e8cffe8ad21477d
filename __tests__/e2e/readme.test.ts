// The README's workflow examples are tests: every ```yaml block that uses the
// action is read as the runner would read it, its `${{ }}` expressions
// evaluated against a push to main, its registry names mapped to the local
// registry, and each of the action's steps run through the runner-faithful
// harness on the example app, jobs in `needs` order and matrix legs one by
// one. So the documentation cannot drift from what the action does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ROOT, runAction } from '../../scripts/run-action.mjs';
import { engineUp, exampleWorkspace, REGISTRY } from './engine.js';

const ACTION = /(^|\/)go-buildx-action@/;

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  strategy?: { matrix?: { include?: Record<string, unknown>[] } };
  steps?: Step[];
}

/** Every yaml block of the README that uses the action, with the heading it sits under. */
function readmeSnippets(text: string): { title: string; yaml: string }[] {
  const out: { title: string; yaml: string }[] = [];
  let title = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^#{1,4} /.test(lines[i])) title = lines[i].replace(/^#+ /, '');
    if (lines[i].trim() !== '```yaml') continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i]);
    const yaml = body.join('\n');
    if (ACTION.test(yaml) || /^with:/m.test(yaml)) out.push({ title, yaml });
  }
  return out;
}

/** The jobs of a snippet: a workflow's jobs, a list of steps, or a bare `with:` block (one step of the action). */
function jobsOf(doc: unknown): [string, Job][] {
  if (Array.isArray(doc)) return [['steps', { steps: doc as Step[] }]];
  const o = doc as { jobs?: Record<string, Job>; with?: Record<string, unknown> };
  if (o.jobs) {
    // needs order: a job runs after the jobs it names.
    const done: [string, Job][] = [];
    const pending = Object.entries(o.jobs);
    while (pending.length > 0) {
      const i = pending.findIndex(([, j]) => [j.needs ?? []].flat().every((n) => done.some(([d]) => d === n)));
      done.push(...pending.splice(i === -1 ? 0 : i, 1));
    }
    return done;
  }
  if (o.with) return [['with', { steps: [{ uses: 'acme/go-buildx-action@v0', with: o.with }] }]];
  return [];
}

const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

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

describe.runIf(engineUp)('README examples run as written (mapped to the local registry)', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const snippets = readmeSnippets(readme);

  it('the README has workflow examples that use the action', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3);
  });

  it.each(snippets.map((s, i) => [`${i + 1}: ${s.title}`, s]))('%s', async (_name, snippet) => {
    const ns = `${REGISTRY}/readme-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}/`;
    const toLocal = (v: string) => v.replace(/\b(ghcr\.io|docker\.io)\//g, ns);
    const ws = exampleWorkspace();
    const results: { job: string; step: string; outputs: Record<string, string> }[] = [];
    let ran = 0;
    for (const [jobName, job] of jobsOf(YAML.parse(snippet.yaml))) {
      const legs = job.strategy?.matrix?.include ?? [{}];
      for (const [index, leg] of legs.entries()) {
        const stepOutputs: Record<string, Record<string, string>> = {};
        const lookup = (p: string): string => {
          const [head, ...rest] = p.split('.');
          if (head === 'github') {
            return { sha: SHA, repository: 'acme/hello', actor: 'octocat', event_name: 'push', ref_name: 'main' }[rest[0]] ?? '';
          }
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
          const r = await runAction(inputs, { workspace: ws, event: { kind: 'push' } });
          expect(r.exitCode, `${jobName}[${index}] ${JSON.stringify(inputs)}\n${r.log}`).toBe(0);
          ran++;
          if (step.id) stepOutputs[step.id] = r.outputs;
          results.push({ job: jobName, step: step.id ?? '', outputs: r.outputs });
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
