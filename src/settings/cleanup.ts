// The inputs of `cache-cleanup: true`, the mode that deletes cache scopes instead of building. Parsed apart from
// the build's settings: a cleanup job has no checkout, so nothing here may look for a Dockerfile.
import * as core from '@actions/core';
import { Inputs } from '../constants.js';
import { ended, refOfScope, type WorkflowContext, workflowContext } from '../context.js';
import { parseCacheRef, parseGoCacheBackend } from './inputs.js';
import { parseGitHubApi } from './parse.js';
import { InputError, type GitHubApi, type ImageRef, type Mask, type Reader } from './types.js';
import { parseBool, parseChoice, parseDuration, parseList } from './values.js';

export type CleanupApi = 'auto' | 'github-packages' | 'registry';

export interface CleanupSettings {
  cacheRef: ImageRef;
  /** Scopes deleted whatever their age: cache-cleanup-scopes, else the scope the event ended (a closed pull request's). */
  scopes: string[];
  /** Scopes this repository has not written for this long are deleted; undefined: no age rule. */
  olderThanMs?: number;
  /** On the GitHub Packages API: also delete the untagged versions the cache's overwrites left. */
  untagged: boolean;
  api: CleanupApi;
  dryRun: boolean;
  strict: boolean;
  github?: GitHubApi;
  workflow: WorkflowContext;
  /**
   * With go-cache-backend: gha, the actions/cache entries to delete as well: those of each chosen scope's git
   * ref (the age rule is GitHub's own eviction). `unmapped`: chosen scopes whose ref cannot be known.
   */
  gha?: { refs: { scope: string; ref: string }[]; unmapped: string[] };
}

/** A scope as it appears in cache tags: `main`, `pr-7`, `tag-v1.2.3`, `feature-x..217d2bf5`. */
const SCOPE = /^[a-z0-9](?:[a-z0-9._-]{0,95}[a-z0-9])?$/;

/** The cleanup settings, or undefined when `cache-cleanup` is not true (the action builds). */
export function parseCleanup(read: Reader, env: NodeJS.ProcessEnv, mask: Mask): CleanupSettings | undefined {
  if (!parseBool(read, Inputs.cleanup, false)) return undefined;
  const github = parseGitHubApi(read, env, mask);
  const cacheRef = parseCacheRef(read);
  if (!cacheRef) {
    throw new InputError(Inputs.cacheRef, '', 'is empty, and cache-cleanup: true deletes from it', 'the cache-ref the build jobs use');
  }
  const workflow = workflowContext(env);
  const given = parseList(read(Inputs.cleanupScopes), { commas: true });
  for (const s of given) {
    if (!SCOPE.test(s)) {
      throw new InputError(
        Inputs.cleanupScopes,
        s,
        'is not a cache scope',
        'scopes as they appear in cache tags: pr-7, tag-v1.2.3, a branch scope such as main or feature-x..217d2bf5',
      );
    }
  }
  const end = ended(workflow);
  const olderThan = read(Inputs.cleanupOlderThan).trim();
  const olderThanMs = olderThan === '0' || olderThan === 'off' ? undefined : parseDuration(read, Inputs.cleanupOlderThan, '14d');
  return {
    cacheRef,
    scopes: given.length > 0 ? given : end ? [end.scope] : [],
    olderThanMs,
    untagged: parseBool(read, Inputs.cleanupUntagged, true),
    api: parseChoice(read, Inputs.cleanupApi, ['auto', 'github-packages', 'registry'] as const, 'auto'),
    dryRun: parseBool(read, Inputs.cleanupDryRun, false),
    strict: parseBool(read, Inputs.cacheStrict, false),
    github,
    workflow,
    gha: parseGoCacheBackend(read) === 'gha' ? ghaRefs(given, end) : undefined,
  };
}

/** The refs of the scopes asked for, else of the scope the event ended (exact, even where its scope is a slug). */
function ghaRefs(given: string[], end: { scope: string; ref: string } | undefined): NonNullable<CleanupSettings['gha']> {
  if (given.length === 0) return { refs: end ? [end] : [], unmapped: [] };
  const gha: NonNullable<CleanupSettings['gha']> = { refs: [], unmapped: [] };
  for (const scope of given) {
    const ref = refOfScope(scope);
    if (ref) gha.refs.push({ scope, ref });
    else gha.unmapped.push(scope);
  }
  return gha;
}

/** The cleanup settings from the action's own inputs (the token masked first); undefined when the action builds. */
export function cleanupFromInputs(): CleanupSettings | undefined {
  return parseCleanup(
    (name) => core.getInput(name),
    process.env,
    (value) => core.setSecret(value),
  );
}
