// merge: true — the last job of a matrix: no build, one multi-platform index
// made with `buildx imagetools create` from the digests the build jobs pushed.
import * as out from './output.js';
import * as core from '@actions/core';
import { publishProofs, wantsProofs } from './sign/proofs.js';
import { Outputs } from './constants.js';
import { failureTail, run } from './exec.js';
import type { Settings } from './settings/types.js';
import { repositoryOf } from './ref.js';
import { args } from './buildx/command.js';
import { resolveBuildx } from './buildx/install.js';
import { manifestsFromRegistry, summarize } from './report/sizes.js';
import { setSizeOutputs } from './report/outputs.js';
import { formatBytes } from './settings/values.js';
import { writeMergeSummary } from './report/summary.js';
import { resolveTagsAndLabels } from './imagebuild/tags.js';
import { digestInRegistry, dryRunDigest } from './publish/push.js';

/** repo@sha256:… for each digest; a bare digest lives in the image's repository. */
export function mergeSources(digests: string[], repository: string): string[] {
  return digests.map((d) => (d.includes('@') ? d : `${repository}@${d}`));
}

export function mergeArgv(tags: string[], sources: string[]): string[] {
  const argv = ['imagetools', 'create'];
  for (const t of tags) argv.push('--tag', t);
  return [...argv, ...sources];
}

/**
 * The merge: the index this job makes is known before it is pushed (the dry run prints its exact bytes),
 * and that digest, not whatever a tag points at afterwards, is what every tag is checked against and what
 * is signed and attested: two merges close together must not sign each other's index (trust, round 2,
 * item 7).
 */
export async function mergeDigests(input: Settings, tempDir: string): Promise<void> {
  const { settings } = await resolveTagsAndLabels(input);
  const bx = await resolveBuildx(settings);
  const repository = settings.image ?? repositoryOf(settings.tags[0]);
  const sources = mergeSources(settings.digests, repository);
  const argv = mergeArgv(settings.tags, sources);
  out.debug(`imagetools argv: ${JSON.stringify(argv)}`);
  const digest = await out.group(`Merge ${sources.length} digest(s) into ${settings.tags.join(', ')}`, async () => {
    const dry = await run(...args(bx.command, ...argv, '--dry-run'), { allowFailure: true });
    if (dry.exitCode !== 0) throw new Error(`Merging the digests failed: ${failureTail(dry)}`);
    const created = dryRunDigest(dry.stdout);
    const res = await run(...args(bx.command, ...argv), { allowFailure: true });
    if (res.exitCode !== 0) throw new Error(`Merging the digests failed: ${failureTail(res)}`);
    for (const tag of settings.tags) {
      const now = await digestInRegistry(tag);
      if (now !== created) {
        throw new Error(
          `Tag ${tag} points at ${now ?? 'nothing'}, not at the index this job made (${created}): another job moved it; nothing was signed`,
        );
      }
    }
    return created;
  });
  core.setOutput(Outputs.digest, digest);
  core.setOutput(Outputs.pushed, 'true');
  out.info(`Index ${digest} with ${sources.length} source(s) under ${settings.tags.join(', ')}`);
  // The merge job has no smoke results of its own: attest-smoke belongs to the build jobs' runs.
  if (wantsProofs(settings)) await publishProofs(settings, digest, undefined, tempDir);
  try {
    const manifests = await manifestsFromRegistry(bx.command, `${repository}@${digest}`);
    const platforms = manifests.map((m) => m.platform);
    if (new Set(platforms).size !== platforms.length) out.warning(`The merged index names a platform twice: ${platforms.join(', ')}`);
    const sizes = summarize(manifests, {});
    setSizeOutputs(sizes, platforms[0]);
    for (const m of manifests) out.info(`${m.platform}: ${m.digest} ${formatBytes(sizes[m.platform].compressed)} compressed`);
    if (process.env.GITHUB_STEP_SUMMARY) await writeMergeSummary({ tags: settings.tags, digest, manifests, sizes });
  } catch (err) {
    out.warning(`Could not report the merged image's sizes: ${(err as Error).message}`);
  }
}
