// The size budget: checked after the build and before the smoke test and the
// push, so an image over budget is never pushed.
import type { ImageSizes } from './sizes.js';
import type { PlatformManifest } from '../registry/oci.js';
import { largestLayers } from './sizes.js';
import { formatBytes } from '../settings/values.js';

export interface BudgetViolation {
  platform: string;
  compressed: number;
  largest: { digest: string; size: number }[];
}

export function budgetViolations(sizes: ImageSizes, manifests: PlatformManifest[], budget: number): BudgetViolation[] {
  return Object.entries(sizes)
    .filter(([, s]) => s.compressed > budget)
    .map(([platform, s]) => {
      const pm = manifests.find((m) => m.platform === platform);
      return { platform, compressed: s.compressed, largest: pm ? largestLayers(pm.manifest, 3) : [] };
    });
}

/** Built platforms whose size is unknown: a budget never passes on those. */
export function unmeasured(sizes: ImageSizes | undefined, platforms: string[]): string[] {
  return platforms.filter((p) => !sizes?.[p]);
}

export function unmeasuredMessage(platforms: string[]): string {
  return `max-image-size is set, but the size of ${platforms.join(', ')} could not be measured, so nothing was pushed`;
}

export function budgetMessage(violations: BudgetViolation[], budget: number): string {
  const parts = violations.map((v) => {
    const layers = v.largest.map((l) => `${l.digest.slice(7, 19)} ${formatBytes(l.size)}`).join(', ');
    return `${v.platform} is ${formatBytes(v.compressed)} (${v.compressed} bytes) compressed, over the budget of ${formatBytes(budget)} (${budget} bytes); largest layers: ${layers}`;
  });
  return `Image over max-image-size, nothing was pushed: ${parts.join('; ')}`;
}
