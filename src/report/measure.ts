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
import { headlinePlatform, type ImageSizes, measureSizes, sizeMemoFrom, sizesFromMemo } from './sizes.js';
import type { SizeMemo } from '../layercache/marker.js';
import { manifestsAt } from '../registry/client.js';
import { repositoryOf } from '../ref.js';
import { type SavedDoc, saveSizeMemo } from '../state.js';
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
  /** Where the unpacked sizes came from, when not from the image itself. */
  note?: string;
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

/**
 * The sizes after the push without reading the image back from the engine (`docker save` and a pass over
 * every layer: 0.25-0.4 s of a 1 s no-change run here, most of it beside the push, which it slowed), for a
 * run whose fingerprint matched a marker that recorded the unpacked sizes of the layers its run built. The
 * compressed sizes come from the manifests just pushed, and the unpacked ones from the record only for
 * layers that are the recorded ones, digest for digest. Anything else (other layers, a registry that does
 * not answer) reads the image as before: `fallback`.
 */
export async function readRecordedSizes(
  memo: SizeMemo,
  tag: string,
  digest: string,
  fallback: () => Promise<SizesRead>,
): Promise<SizesRead> {
  try {
    const manifests = await manifestsAt(repositoryOf(tag), digest);
    const sizes = sizesFromMemo(manifests, memo);
    if (sizes) {
      const note = 'Unpacked sizes: the layer cache recorded them for these very layers, so the image is not read back from the engine';
      return { measured: { sizes, manifests }, note };
    }
    out.debug('the layers pushed are not those the layer cache recorded sizes for: the image is read from the engine');
  } catch (err) {
    out.debug(`the manifests pushed could not be read (${(err as Error).message}): the image is read from the engine`);
  }
  return fallback();
}

/** The recorded sizes, where readRecordedSizes can check them: an image pushed from the engine by its tags. */
export function recordUsable(memo: SizeMemo | undefined, output: Pick<OutputMode, 'kind'>, tags: string[]): SizeMemo | undefined {
  return output.kind === 'engine' && tags.length > 0 ? memo : undefined;
}

/**
 * Prints what was read and sets the size outputs. The unpacked sizes by layers go to the post step, for the
 * fingerprint marker its layer cache export writes (readRecordedSizes reads them on the next run).
 */
export function reportImageSizes(read: SizesRead, platforms: string[]): Measured | undefined {
  if (read.error !== undefined) out.warning(`Could not measure image sizes: ${read.error}`);
  const m = read.measured;
  if (!m) return undefined;
  if (read.note) out.info(read.note);
  const memo = sizeMemoFrom(m.manifests, m.sizes);
  if (memo.length > 0) saveSizeMemo(memo as unknown as SavedDoc[]);
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
