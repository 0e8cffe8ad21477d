// The sizes phase: per-platform sizes of what was built (a warning when they
// cannot be read), then the size budget, a gate: over it, or unknown with a
// budget set, nothing is pushed.
import * as core from '@actions/core';
import { Inputs } from '../constants.js';
import type { BuildxCommand } from '../buildx/command.js';
import type { OutputMode } from '../build/args.js';
import type { Run } from '../lifecycle.js';
import { nativePlatform } from '../setup/qemu.js';
import { headlinePlatform, type ImageSizes, measureSizes, type PlatformManifest } from './sizes.js';
import { formatBytes, setSizeOutputs } from './outputs.js';
import { budgetMessage, budgetViolations, unmeasured, unmeasuredMessage } from './budget.js';

export interface Measured {
  sizes: ImageSizes;
  manifests: PlatformManifest[];
}

export async function measureImage(
  buildx: BuildxCommand,
  output: OutputMode,
  ref: string | undefined,
  digest: string | undefined,
  run: Run,
  platforms: string[],
): Promise<Measured | undefined> {
  try {
    const m = await measureSizes(buildx, output, ref, digest, run.tempDir, run.runKey, platforms);
    if (!m) return undefined;
    setSizeOutputs(m.sizes, headlinePlatform(m.sizes, platforms, nativePlatform()));
    for (const [platform, x] of Object.entries(m.sizes)) {
      core.info(`${platform}: ${formatBytes(x.compressed)} compressed, ${formatBytes(x.uncompressed)} unpacked, ${x.layers} layers`);
    }
    return m;
  } catch (err) {
    core.warning(`Could not measure image sizes: ${(err as Error).message}`);
    return undefined;
  }
}

/** The budget gate. A budget never passes on an unknown size. */
export function enforceBudget(budget: number | undefined, measured: Measured | undefined, platforms: string[]): void {
  if (budget === undefined) return;
  const unknown = unmeasured(measured?.sizes, platforms);
  if (!measured || unknown.length > 0) throw new Error(unmeasuredMessage(unknown.length > 0 ? unknown : platforms));
  const over = budgetViolations(measured.sizes, measured.manifests, budget);
  if (over.length > 0) throw new Error(budgetMessage(over, budget));
  core.info(`Every platform is within ${Inputs.maxImageSize} (${formatBytes(budget)})`);
}
