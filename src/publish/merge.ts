// merge: true — the last job of a matrix: no build, one multi-platform index
// made with `buildx imagetools create` from the digests the build jobs pushed.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { publishProofs, wantsProofs } from '../sign/proofs.js';
import { Outputs } from '../constants.js';
import { failureTail, run } from '../exec.js';
import type { Settings } from '../settings/types.js';
import { repositoryOf } from '../ref.js';
import { args } from '../buildx/command.js';
import { resolveBuildx } from '../buildx/install.js';
import { manifestsFromRegistry, summarize } from '../report/sizes.js';
import { formatBytes, setSizeOutputs } from '../report/outputs.js';
import { writeMergeSummary } from '../report/summary.js';
import { resolveTagsAndLabels } from './tags.js';

/** repo@sha256:… for each digest; a bare digest lives in the image's repository. */
export function mergeSources(digests: string[], repository: string): string[] {
  return digests.map((d) => (d.includes('@') ? d : `${repository}@${d}`));
}

export function mergeArgv(tags: string[], sources: string[]): string[] {
  const argv = ['imagetools', 'create'];
  for (const t of tags) argv.push('--tag', t);
  return [...argv, ...sources];
}

export async function mergeDigests(input: Settings): Promise<void> {
  const { settings } = await resolveTagsAndLabels(input);
  const bx = await resolveBuildx(settings);
  const repository = settings.image ?? repositoryOf(settings.tags[0]);
  const sources = mergeSources(settings.digests, repository);
  const argv = mergeArgv(settings.tags, sources);
  out.debug(`imagetools argv: ${JSON.stringify(argv)}`);
  await out.group(`Merge ${sources.length} digest(s) into ${settings.tags.join(', ')}`, async () => {
    const res = await run(...args(bx.command, ...argv), { allowFailure: true });
    if (res.exitCode !== 0) {
      throw new Error(`Merging the digests failed: ${failureTail(res)}`);
    }
  });
  const inspected = await run(...args(bx.command, 'imagetools', 'inspect', settings.tags[0], '--format', '{{json .Manifest}}'));
  const digest = (JSON.parse(inspected.stdout) as { digest: string }).digest;
  core.setOutput(Outputs.digest, digest);
  core.setOutput(Outputs.pushed, 'true');
  out.info(`Index ${digest} with ${sources.length} source(s) under ${settings.tags.join(', ')}`);
  if (wantsProofs(settings)) {
    const tempDir = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'gba-sign-'));
    try {
      // The merge job has no smoke results of its own: attest-smoke belongs to the build jobs' runs.
      await publishProofs(settings, digest, undefined, tempDir);
    } finally {
      fs.rmSync(tempDir, { recursive: true, force: true });
    }
  }
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
