// Default tags and OCI labels from the workflow context, for users who give
// an `image` name and no `tags`. Pure functions, and the step that applies them.
import * as out from '../output.js';
import * as core from '@actions/core';
import * as semver from 'semver';
import { Inputs, Outputs } from '../constants.js';
import { registryTags } from '../registry/client.js';
import { run } from '../exec.js';
import { InputError, type Settings } from '../settings/types.js';
import { branchOfRef, type WorkflowContext } from '../context.js';
import { slug } from '../settings/names.js';

/** A Docker tag (at most 128 characters) from a branch or git tag name. */
export const tagSlug = (s: string): string => slug(s, 128);

/**
 * The tag of a branch push. A branch may be called `latest`, `1.2`, `v1.2.3`, `sha-1a2b3c4` or `pr-7`, and its
 * tag would then overwrite what a release, a commit or a pull request published: such a name gets
 * `branch-` in front (trust, round 2, item 10).
 */
export function branchTag(branch: string): string {
  const t = tagSlug(branch);
  return /^(latest$|v?\d+(\.\d+)*([.+-]|$)|sha-[0-9a-f]+$|pr-\d+$|branch-)/.test(t) ? tagSlug(`branch-${t}`) : t;
}

export interface TagPlan {
  tags: string[];
  /** What org.opencontainers.image.version says. */
  version: string;
}

/**
 * - branch push: the branch, slugged, and sha-<7>
 * - pull request: pr-<number> and sha-<7> of the head commit (GITHUB_SHA is the merge commit)
 * - tag vX.Y.Z: X.Y.Z; X.Y, X (not for 0.x) and latest, each only when no known release in that
 *   line is newer; a pre-release gets only its full version
 * knownTags: the releases already made (git tags and registry tags, see knownReleases).
 */
export function defaultTags(image: string, ctx: WorkflowContext, knownTags: string[]): TagPlan {
  const short = (sha: string | undefined) => (sha ? [`sha-${sha.slice(0, 7)}`] : []);
  const tag = (t: string) => `${image}:${t}`;
  if (ctx.pullRequest !== undefined) {
    const n = ctx.pullRequest;
    const names = [`pr-${n}`, ...short(ctx.payload.pull_request?.head?.sha ?? ctx.sha)];
    return { tags: names.map(tag), version: `pr-${n}` };
  }
  if (ctx.ref.startsWith('refs/tags/')) {
    const name = ctx.ref.slice('refs/tags/'.length);
    const v = semver.valid(semver.clean(name) ?? '');
    if (!v) return { tags: [tagSlug(name), ...short(ctx.sha)].map(tag), version: tagSlug(name) };
    const parsed = semver.parse(v)!;
    const names = [v];
    if (parsed.prerelease.length === 0) {
      // A release moves X.Y, X and latest only when no known release in that line is newer:
      // a backport (v1.2.5 after v1.3.0) must not take X or latest back.
      const releases = knownTags
        .map((t) => semver.valid(semver.clean(t) ?? ''))
        .filter((t): t is string => !!t && semver.prerelease(t) === null);
      const newest = (inLine: (r: semver.SemVer) => boolean) => releases.every((r) => !inLine(semver.parse(r)!) || semver.lte(r, v));
      if (newest((r) => r.major === parsed.major && r.minor === parsed.minor)) names.push(`${parsed.major}.${parsed.minor}`);
      if (parsed.major > 0 && newest((r) => r.major === parsed.major)) names.push(String(parsed.major));
      if (newest(() => true)) names.push('latest');
    }
    return { tags: [...names, ...short(ctx.sha)].map(tag), version: v };
  }
  const branch = branchOfRef(ctx.ref) ?? '';
  const names = [...(branch ? [branchTag(branch)] : []), ...short(ctx.sha)];
  return { tags: names.map(tag), version: branch ? branchTag(branch) : ctx.sha.slice(0, 7) };
}

/** org.opencontainers.image.* labels; the user's labels (KEY=VALUE) override them. */
export function ociLabels(ctx: WorkflowContext, version: string, created: Date): Record<string, string> {
  const repo = ctx.payload.repository;
  const url = repo?.html_url ?? (ctx.repository ? `${ctx.serverUrl}/${ctx.repository}` : undefined);
  const labels: Record<string, string> = { 'org.opencontainers.image.created': created.toISOString() };
  const title = repo?.name ?? ctx.repository.split('/')[1];
  if (title) labels['org.opencontainers.image.title'] = title;
  if (repo?.description) labels['org.opencontainers.image.description'] = repo.description;
  if (url) {
    labels['org.opencontainers.image.url'] = url;
    labels['org.opencontainers.image.source'] = url;
  }
  if (version) labels['org.opencontainers.image.version'] = version;
  if (ctx.sha) labels['org.opencontainers.image.revision'] = ctx.sha;
  const spdx = repo?.license?.spdx_id;
  if (spdx && spdx !== 'NOASSERTION') labels['org.opencontainers.image.licenses'] = spdx;
  return labels;
}

export function mergeLabels(defaults: Record<string, string>, user: string[]): string[] {
  const out = new Map(Object.entries(defaults));
  for (const l of user) {
    const eq = l.indexOf('=');
    out.set(eq === -1 ? l : l.slice(0, eq), eq === -1 ? '' : l.slice(eq + 1));
  }
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/**
 * The releases a tag push is compared with: the checkout's git tags (a
 * shallow checkout has only its own) and the tags already in the registry.
 * Either source may be missing; then the other decides.
 */
async function knownReleases(workspace: string, image: string): Promise<string[]> {
  const known: string[] = [];
  const git = await run('git', ['-C', workspace, 'tag', '--list'], { allowFailure: true });
  if (git.exitCode === 0) known.push(...git.stdout.split('\n').filter(Boolean));
  else out.debug(`git tag --list failed (${git.exitCode})`);
  try {
    const inRegistry = await registryTags(image);
    out.debug(`${inRegistry.length} tag(s) already in ${image}`);
    known.push(...inRegistry);
  } catch (err) {
    out.info(
      `Could not list the tags in ${image} (${(err as Error).message}); only the checkout's git tags decide whether this release is the newest`,
    );
  }
  return known;
}

/**
 * Default tags (when only `image` is given) and the OCI labels, from the
 * workflow context. Whether a release is the newest is judged against the
 * checkout's own git tags; without them it counts as the newest.
 */
export async function resolveTagsAndLabels(settings: Settings): Promise<{ settings: Settings; version: string }> {
  const ctx = settings.workflow;
  let known: string[] = [];
  if (settings.image && settings.tags.length === 0 && ctx.ref.startsWith('refs/tags/'))
    known = await knownReleases(settings.workspace, settings.image);
  const plan = defaultTags(settings.image ?? 'image', ctx, known);
  const tags = settings.tags.length === 0 && settings.image ? plan.tags : settings.tags;
  if (settings.image && tags.length === 0) {
    throw new InputError(
      Inputs.image,
      settings.image,
      `gives no default tags: the run has no branch, tag or commit (GITHUB_REF ${JSON.stringify(ctx.ref)}, GITHUB_SHA ${JSON.stringify(ctx.sha)})`,
      'tags, or a run started by a push, a tag or a pull request',
    );
  }
  if (tags !== settings.tags) out.info(`Default tags from the ${ctx.eventName || 'local'} context: ${tags.join(', ')}`);
  const labels = mergeLabels(ociLabels(ctx, plan.version, new Date()), settings.labels);
  out.debug(`labels: ${JSON.stringify(labels)}`);
  core.setOutput(Outputs.tags, tags.join('\n'));
  return { settings: { ...settings, tags, labels }, version: plan.version };
}
