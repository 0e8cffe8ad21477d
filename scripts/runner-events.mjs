// The events a workflow run starts from, as the runner presents them: the
// GITHUB_* environment and the payload file at GITHUB_EVENT_PATH. Payloads are
// GitHub's own recorded samples (__tests__/fixtures/events, see SOURCE.md),
// with the fields that differ per event set the way GitHub sets them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = path.join(ROOT, '__tests__', 'fixtures', 'events');
const sample = (name) => JSON.parse(fs.readFileSync(path.join(SAMPLES, name), 'utf8'));

export const DEFAULT_BRANCH = 'main';
const OWNER = 'acme';
const REPO = 'hello';
const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const HEAD_SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';

/**
 * @typedef {{ kind: 'push', branch?: string }
 *   | { kind: 'tag', tag?: string }
 *   | { kind: 'pull_request', number?: number, headRef?: string, fork?: boolean, action?: string }
 *   | { kind: 'workflow_dispatch', branch?: string }
 *   | { kind: 'pull_request_target', number?: number, headRef?: string, fork?: boolean, action?: string }
 *   | { kind: 'delete', ref?: string, refType?: 'branch' | 'tag' }
 *   | { kind: 'issue_comment', number?: number, onPullRequest?: boolean }
 *   | { kind: 'workflow_run' | 'repository_dispatch' | 'schedule' }
 *   | { kind: 'merge_group', number?: number, base?: string }} EventSpec
 */

function repository(base) {
  return {
    ...base,
    name: REPO,
    full_name: `${OWNER}/${REPO}`,
    html_url: `https://github.com/${OWNER}/${REPO}`,
    default_branch: DEFAULT_BRANCH,
    owner: { ...base.owner, login: OWNER },
  };
}

/**
 * The payload and environment of one event.
 * @param {EventSpec} spec
 * @returns {{ payload: object, env: Record<string, string> }}
 */
export function eventOf(spec) {
  const common = { GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_REPOSITORY_OWNER: OWNER, GITHUB_HEAD_REF: '', GITHUB_BASE_REF: '' };
  if (spec.kind === 'push' || spec.kind === 'tag') {
    const p = sample('push.payload.json');
    const ref = spec.kind === 'tag' ? `refs/tags/${spec.tag ?? 'v1.2.3'}` : `refs/heads/${spec.branch ?? DEFAULT_BRANCH}`;
    const payload = { ...p, ref, after: SHA, head_commit: { ...p.head_commit, id: SHA }, repository: repository(p.repository) };
    return {
      payload,
      env: {
        ...common,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: ref,
        GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
        GITHUB_REF_TYPE: spec.kind === 'tag' ? 'tag' : 'branch',
        GITHUB_SHA: SHA,
      },
    };
  }
  if (spec.kind === 'pull_request') {
    const p = sample('pull_request.payload.json');
    const number = spec.number ?? 7;
    const headRef = spec.headRef ?? 'feature/login';
    const base = repository(p.repository);
    const headRepo = spec.fork
      ? {
          ...p.pull_request.head.repo,
          full_name: `forker/${REPO}`,
          fork: true,
          owner: { ...p.pull_request.head.repo.owner, login: 'forker' },
        }
      : base;
    const payload = {
      ...p,
      // The sample is a synchronize; a closed pull request (merged or not) says closed.
      ...(spec.action ? { action: spec.action } : {}),
      number,
      repository: base,
      pull_request: {
        ...p.pull_request,
        number,
        merge_commit_sha: SHA,
        head: { ...p.pull_request.head, ref: headRef, sha: HEAD_SHA, repo: headRepo, label: `${headRepo.owner.login}:${headRef}` },
        base: { ...p.pull_request.base, ref: DEFAULT_BRANCH, repo: base },
      },
    };
    return {
      payload,
      env: {
        ...common,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: `refs/pull/${number}/merge`,
        GITHUB_REF_NAME: `${number}/merge`,
        GITHUB_REF_TYPE: 'branch',
        GITHUB_HEAD_REF: headRef,
        GITHUB_BASE_REF: DEFAULT_BRANCH,
        GITHUB_SHA: SHA,
      },
    };
  }
  if (spec.kind === 'workflow_dispatch') {
    const p = sample('push.payload.json');
    const branch = spec.branch ?? DEFAULT_BRANCH;
    const payload = {
      inputs: {},
      ref: `refs/heads/${branch}`,
      repository: repository(p.repository),
      sender: p.sender,
      workflow: '.github/workflows/build.yml',
    };
    return {
      payload,
      env: {
        ...common,
        GITHUB_EVENT_NAME: 'workflow_dispatch',
        GITHUB_REF: `refs/heads/${branch}`,
        GITHUB_REF_NAME: branch,
        GITHUB_REF_TYPE: 'branch',
        GITHUB_SHA: SHA,
      },
    };
  }
  if (spec.kind === 'pull_request_target') {
    // The pull request's payload, but the run is on the base branch (GitHub runs the base's workflow).
    const pr = eventOf({ ...spec, kind: 'pull_request' });
    return {
      payload: pr.payload,
      env: {
        ...pr.env,
        GITHUB_EVENT_NAME: 'pull_request_target',
        GITHUB_REF: `refs/heads/${DEFAULT_BRANCH}`,
        GITHUB_REF_NAME: DEFAULT_BRANCH,
      },
    };
  }
  // Events that run on the default branch's latest commit, whatever they are about.
  const onDefault = (name, payload) => ({
    payload: { ...payload, repository: repository(sample('push.payload.json').repository), sender: sample('push.payload.json').sender },
    env: {
      ...common,
      GITHUB_EVENT_NAME: name,
      GITHUB_REF: `refs/heads/${DEFAULT_BRANCH}`,
      GITHUB_REF_NAME: DEFAULT_BRANCH,
      GITHUB_REF_TYPE: 'branch',
      GITHUB_SHA: SHA,
    },
  });
  if (spec.kind === 'issue_comment') {
    const number = spec.number ?? 7;
    const issue = {
      number,
      title: 'Build this',
      state: 'open',
      ...(spec.onPullRequest === false
        ? {}
        : { pull_request: { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${number}`, merged_at: null } }),
    };
    return onDefault('issue_comment', { action: 'created', issue, comment: { id: 1, body: '/build' } });
  }
  if (spec.kind === 'workflow_run') {
    return onDefault('workflow_run', {
      action: 'completed',
      workflow_run: {
        id: 30433642,
        name: 'build',
        event: 'pull_request',
        head_branch: 'feature/login',
        head_sha: HEAD_SHA,
        conclusion: 'success',
      },
    });
  }
  if (spec.kind === 'repository_dispatch') {
    return onDefault('repository_dispatch', { action: 'deploy', branch: DEFAULT_BRANCH, client_payload: {} });
  }
  if (spec.kind === 'schedule') return onDefault('schedule', { schedule: '17 3 * * *' });
  // A deleted branch or tag: the run is on the default branch, and the payload names what went.
  if (spec.kind === 'delete') {
    const p = sample('delete.payload.json');
    return onDefault('delete', { ref: spec.ref ?? 'feature/login', ref_type: spec.refType ?? 'branch', pusher_type: p.pusher_type });
  }
  if (spec.kind === 'merge_group') {
    const number = spec.number ?? 7;
    const base = spec.base ?? DEFAULT_BRANCH;
    const headRef = `refs/heads/gh-readonly-queue/${base}/pr-${number}-${HEAD_SHA}`;
    const ev = onDefault('merge_group', {
      action: 'checks_requested',
      merge_group: { head_sha: SHA, head_ref: headRef, base_sha: HEAD_SHA, base_ref: `refs/heads/${base}` },
    });
    return { payload: ev.payload, env: { ...ev.env, GITHUB_REF: headRef, GITHUB_REF_NAME: headRef.slice('refs/heads/'.length) } };
  }
  throw new Error(`unknown event kind ${JSON.stringify(spec)}`);
}
