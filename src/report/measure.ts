// The sizes phase: per-platform sizes of what was built (a warning when they
// cannot be read), then the size budget, a gate: over it, or unknown with a
// budget set, nothing is pushed.
import * as out from '../output.js';
import { Inputs } from '../constants.js';
import type { BuildxCommand } from '../buildx/command.js';
import type { OutputMode } from '../imagebuild/args.js';
import type { Run } from '../lifecycle.js';
import type { Settings } from '../settings/types.js';
import { nativePlatform } from '../setup/qemu.js';
import { headlinePlatform, type ImageSizes, measureSizes } from './sizes.js';
import { type PlatformManifest } from '../registry/oci.js';
import { setSizeOutputs } from './outputs.js';
import { formatBytes } from '../settings/values.js';
import { budgetMessage, budgetViolations, unmeasured, unmeasuredMessage } from './budget.js';

export interface Measured {
  sizes: ImageSizes;
  manifests: PlatformManifest[];
}

/** What reading the sizes gave: the sizes, or why there are none (never a failed step by itself). */
export interface SizesRead {
  measured?: Measured;
  error?: string;
}

/** Reads the sizes without printing (it may run beside another phase); never throws. */
export async function readImageSizes(
  buildx: BuildxCommand,
  output: OutputMode,
  ref: string | undefined,
  digest: string | undefined,
  run: Run,
  platforms: string[],
): Promise<SizesRead> {
  try {
    return { measured: await measureSizes(buildx, output, ref, digest, run.tempDir, run.runKey, platforms) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Prints what was read and sets the size outputs. */
export function reportImageSizes(read: SizesRead, platforms: string[]): Measured | undefined {
  if (read.error !== undefined) out.warning(`Could not measure image sizes: ${read.error}`);
  const m = read.measured;
  if (!m) return undefined;
  setSizeOutputs(m.sizes, headlinePlatform(m.sizes, platforms, nativePlatform()));
  for (const [platform, x] of Object.entries(m.sizes)) {
    out.info(`${platform}: ${formatBytes(x.compressed)} compressed, ${formatBytes(x.uncompressed)} unpacked, ${x.layers} layers`);
  }
  return m;
}

/** The budget gate. A budget never passes on an unknown size. */
export function enforceBudget(budget: number | undefined, measured: Measured | undefined, platforms: string[]): void {
  if (budget === undefined) return;
  const unknown = unmeasured(measured?.sizes, platforms);
  if (!measured || unknown.length > 0) throw new Error(unmeasuredMessage(unknown.length > 0 ? unknown : platforms));
  const over = budgetViolations(measured.sizes, measured.manifests, budget);
  if (over.length > 0) throw new Error(budgetMessage(over, budget));
  out.info(`Every platform is within ${Inputs.maxImageSize} (${formatBytes(budget)})`);
}

/**
 * Whether the sizes are read beside the push rather than before it: only with no budget to enforce (then
 * they gate nothing), and a push that leaves the image they read in place (`docker push` of its tags, tags
 * put on a staged image); a push by digest from the engine removes its local tag at the end.
 */
export function sizesBesidePush(
  s: Pick<Settings, 'maxImageSize' | 'push' | 'pushByDigest'>,
  build: { output: Pick<OutputMode, 'kind'>; byDigest?: string },
): boolean {
  if (s.maxImageSize !== undefined || !s.push) return false;
  if (build.output.kind === 'engine') return !build.byDigest;
  return build.output.kind === 'stage' && !s.pushByDigest;
}
