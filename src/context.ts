// The workflow context, read once from the runner's environment and the event
// payload: which event, which ref, which branch the run belongs to, and the
// cache scope it may read and write.
import * as fs from 'node:fs';

export interface EventPayload {
  repository?: {
    name?: string;
    html_url?: string;
    description?: string | null;
    default_branch?: string;
    license?: { spdx_id?: string } | null;
  };
  number?: number;
  pull_request?: { number?: number; head?: { ref?: string; sha?: string } };
  release?: { tag_name?: string; prerelease?: boolean };
}

export interface WorkflowContext {
  eventName: string;
  /** refs/heads/main, refs/pull/2/merge, refs/tags/v1.2.3 */
  ref: string;
  sha: string;
  serverUrl: string;
  /** owner/name */
  repository: string;
  payload: EventPayload;
  /** The repository's default branch, from the payload; "main" when there is none. */
  defaultBranch: string;
  /** The pull request's number, for pull_request and pull_request_target events. */
  pullRequest?: number;
  /**
   * Whose caches this run writes, and reads first:
   * - a pull request: pr-<number>, whatever its head branch is called (a fork's "main" is not ours);
   * - a branch: the branch;
   * - a tag, or anything else: the default branch (releases build from it).
   */
  scope: string;
  /** True when the scope is the default branch's: such runs read only what such runs wrote. */
  trusted: boolean;
  /** Unique per run attempt. */
  runId: string;
}

const PR_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']);

function readPayload(env: NodeJS.ProcessEnv): EventPayload {
  try {
    if (env.GITHUB_EVENT_PATH) return JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as EventPayload;
  } catch {
    // No payload (a local run): the context comes from the environment alone.
  }
  return {};
}

/** refs/heads/feature/x → feature/x; any other ref has no branch. */
export function branchOfRef(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

export function workflowContext(env: NodeJS.ProcessEnv = process.env): WorkflowContext {
  const payload = readPayload(env);
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const ref = env.GITHUB_REF ?? '';
  const defaultBranch = payload.repository?.default_branch || 'main';
  const prFromRef = /^refs\/pull\/(\d+)\//.exec(ref)?.[1];
  const prNumber = payload.pull_request?.number ?? (prFromRef ? Number(prFromRef) : undefined);
  const pullRequest = PR_EVENTS.has(eventName) || prFromRef ? prNumber : undefined;
  const scope = pullRequest !== undefined ? `pr-${pullRequest}` : (branchOfRef(ref) ?? defaultBranch);
  return {
    eventName,
    ref,
    sha: env.GITHUB_SHA ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    repository: env.GITHUB_REPOSITORY ?? '',
    payload,
    defaultBranch,
    pullRequest,
    scope,
    trusted: scope === defaultBranch,
    runId: `${env.GITHUB_RUN_ID ?? Date.now()}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
  };
}
