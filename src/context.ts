// The workflow context, read once from the runner's environment and the event
// payload: which event, which ref, which branch the run belongs to, and the
// cache scope it may read and write.
//
// The trust model (README, "Security"), decided here and only here:
// - trusted: push, schedule, workflow_dispatch or merge_group on the default
//   branch (a merge group whose base is the default branch). Only such runs
//   write the default branch's scope, which every run reads;
// - a pull request (pull_request*, or an issue_comment on one): `pr-<n>`;
// - a branch: its own scope; a tag: `tag-<name>`. A tag can point at any
//   commit, so a release reads the default branch's caches but never writes them;
// - any other event (workflow_run, repository_dispatch, an issue_comment that
//   is not on a pull request, …) runs with GITHUB_REF = the default branch but
//   is not a push to it: its scope is `event-<name>`, and it writes nothing
//   unless save-on: any-event says so;
// - a scope is the name itself when that is already a tag-safe slug; any other
//   name (`Main`, `main-`, `feature/x`) and any branch that looks like another
//   kind of scope (`pr-7`, `tag-v1`), or that ends like a tag beside a cache
//   (`main-fp`, `x-stats`), gets `..` and 8 hex digits of its SHA-256.
//   Git refs cannot hold `..`, so no branch or tag name is another's scope,
//   and no scope's cache tag is another scope's fingerprint or stats tag.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

export interface EventPayload {
  repository?: {
    name?: string;
    html_url?: string;
    description?: string | null;
    default_branch?: string;
    license?: { spdx_id?: string } | null;
    private?: boolean;
  };
  number?: number;
  pull_request?: { number?: number; head?: { ref?: string; sha?: string } };
  release?: { tag_name?: string; prerelease?: boolean };
  /** issue_comment: the issue, which has `pull_request` when it is one. */
  issue?: { number?: number; pull_request?: object | null };
  merge_group?: { base_ref?: string; head_ref?: string };
  /** pull_request*: opened, synchronize, closed, … */
  action?: string;
  /** delete (and create): the branch or tag name, and which it is. */
  ref?: string;
  ref_type?: string;
}

/** What a run is, for the caches: which scope it writes, and whether it is the default branch's. */
export type RunKind = 'default-branch' | 'pull-request' | 'branch' | 'tag' | 'other-event';

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
  /** What the run is, by the trust model above. */
  kind: RunKind;
  /**
   * Whose caches this run writes, and reads first, as it appears in cache tags (see scopeOf):
   * `main`, `pr-7`, `feature-x..1a2b3c4d`, `tag-v1.2.3`, `event-workflow_run`.
   */
  scope: string;
  /** The default branch's scope, which every run reads after its own. */
  defaultScope: string;
  /** True for the default branch's runs: they read only what such runs wrote. */
  trusted: boolean;
  /** Unique per run attempt. */
  runId: string;
  /** This run attempt's page, as build-push-action names the builder in provenance; undefined outside a runner. */
  runUrl?: string;
}

const PR_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']);
/** The events that, on the default branch, are the default branch's own runs. */
const TRUSTED_EVENTS = new Set(['push', 'schedule', 'workflow_dispatch', 'merge_group']);
/** Events of a ref's own (a push to it, a dispatch or schedule on it, a release of a tag). */
const REF_EVENTS = new Set(['push', 'schedule', 'workflow_dispatch', 'release', 'create']);

const SAFE_TAG_PART = /^[a-z0-9](?:[a-z0-9._-]{0,46}[a-z0-9])?$/;
const RESERVED = /^(pr|tag|event)-/;
/**
 * The suffixes of the tags beside a cache tag (layercache/marker.ts `-fp`, gocache/stats.ts `-stats`): a
 * scope `main-fp` would make the layer cache tag of a branch the default branch's fingerprint tag.
 */
const SIDE_TAG = /-(fp|stats)$/;

/**
 * A branch or tag name as a part of a cache tag: the name itself when it is already safe (lowercase
 * a-z0-9._-, at most 48 characters) and not shaped like another kind of scope; else a slug of it, "..",
 * and 8 hex digits of the name's SHA-256, so two names never share a scope.
 */
export function scopeName(name: string, reserved = true): string {
  if (SAFE_TAG_PART.test(name) && !(reserved && RESERVED.test(name)) && !SIDE_TAG.test(name) && !name.includes('..')) return name;
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/[.-]{2,}/g, '-')
      .replace(/^[.-]+|[.-]+$/g, '')
      .slice(0, 38)
      .replace(/[.-]+$/, '') || 'x';
  return `${slug}..${crypto.createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

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
  const commentedPr = eventName === 'issue_comment' && payload.issue?.pull_request ? payload.issue.number : undefined;
  const prNumber = payload.pull_request?.number ?? commentedPr ?? (prFromRef ? Number(prFromRef) : undefined);
  const pullRequest = PR_EVENTS.has(eventName) || prFromRef || commentedPr !== undefined ? prNumber : undefined;
  const { kind, scope } = classify(eventName, ref, defaultBranch, pullRequest, payload);
  return {
    eventName,
    ref,
    sha: env.GITHUB_SHA ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    repository: env.GITHUB_REPOSITORY ?? '',
    payload,
    defaultBranch,
    pullRequest,
    kind,
    scope,
    defaultScope: scopeName(defaultBranch, false),
    trusted: kind === 'default-branch',
    runId: `${env.GITHUB_RUN_ID ?? Date.now()}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
    runUrl:
      env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY
        ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`
        : undefined,
  };
}

/** The trust model: what a run is, and the scope it writes. */
export function classify(
  eventName: string,
  ref: string,
  defaultBranch: string,
  pullRequest: number | undefined,
  payload: EventPayload,
): { kind: RunKind; scope: string } {
  if (pullRequest !== undefined) return { kind: 'pull-request', scope: `pr-${pullRequest}` };
  const onDefault = `refs/heads/${defaultBranch}`;
  const base = eventName === 'merge_group' ? payload.merge_group?.base_ref : ref;
  if (TRUSTED_EVENTS.has(eventName) && base === onDefault) return { kind: 'default-branch', scope: scopeName(defaultBranch, false) };
  const branch = branchOfRef(ref);
  if (REF_EVENTS.has(eventName) && branch !== undefined) return { kind: 'branch', scope: scopeName(branch) };
  if (REF_EVENTS.has(eventName) && ref.startsWith('refs/tags/')) {
    return { kind: 'tag', scope: `tag-${scopeName(ref.slice('refs/tags/'.length), false)}` };
  }
  return { kind: 'other-event', scope: `event-${scopeName(eventName || 'local', false)}` };
}

/**
 * What a run's event has just ended, whose caches nothing reads any more: a closed pull request, a deleted
 * branch or tag. Its scope in cache tags, and its git ref exactly (the scope may be a slug of it), which is
 * how GitHub's cache service keys the actions/cache entries its runs wrote (`refs/pull/<n>/merge` for a pull
 * request). Undefined for every other event.
 */
export function ended(w: Pick<WorkflowContext, 'eventName' | 'payload' | 'pullRequest'>): { scope: string; ref: string } | undefined {
  if ((w.eventName === 'pull_request' || w.eventName === 'pull_request_target') && w.payload.action === 'closed')
    return w.pullRequest !== undefined ? { scope: `pr-${w.pullRequest}`, ref: `refs/pull/${w.pullRequest}/merge` } : undefined;
  if (w.eventName === 'delete' && w.payload.ref) {
    const name = w.payload.ref;
    if (w.payload.ref_type === 'branch') return { scope: scopeName(name), ref: `refs/heads/${name}` };
    if (w.payload.ref_type === 'tag') return { scope: `tag-${scopeName(name, false)}`, ref: `refs/tags/${name}` };
  }
  return undefined;
}

/**
 * The git ref whose actions/cache entries a scope's runs wrote, for a scope named in cache-cleanup-scopes.
 * Undefined where the scope is a slug (the name it came from cannot be read back) or an `event-…` scope
 * (those runs have the default branch's ref, whose entries are not theirs alone).
 */
export function refOfScope(scope: string): string | undefined {
  if (scope.includes('..') || scope.startsWith('event-')) return undefined;
  const pr = /^pr-(\d+)$/.exec(scope);
  if (pr) return `refs/pull/${pr[1]}/merge`;
  return scope.startsWith('tag-') ? `refs/tags/${scope.slice('tag-'.length)}` : `refs/heads/${scope}`;
}
