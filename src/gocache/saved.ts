// The Go caches' part of the state main hands to post, converted to and from state.ts's plain types (state
// sits below this folder and knows none of its types).
import type { BuildxCommand } from '../buildx/command.js';
import { saveGoCache, type SavedDoc, type SavedGoCache } from '../state.js';
import type { GoCacheHistory, GoCacheStats } from './stats.js';
import type { GoCachePlan } from './transfer.js';

export interface GoCacheState {
  plan: GoCachePlan;
  builder: string;
  buildx: BuildxCommand;
  /** What the caches did in this build, and the history the post step extends after its save. */
  stats?: GoCacheStats;
  history?: GoCacheHistory;
}

const doc = <T>(x: T) => x as unknown as SavedDoc;

export function saveGoCacheState(s: GoCacheState): void {
  const saved: SavedGoCache = {
    builder: s.builder,
    buildx: s.buildx,
    plan: doc(s.plan) as SavedGoCache['plan'],
    stats: s.stats && doc(s.stats),
    history: s.history && doc(s.history),
  };
  saveGoCache(saved);
}

/** What main saved, back in this folder's types (state checked the HMAC and the outer shape). */
export function goCacheFromSaved(s: SavedGoCache): GoCacheState {
  return {
    builder: s.builder,
    buildx: s.buildx,
    plan: s.plan as unknown as GoCachePlan,
    stats: s.stats as unknown as GoCacheStats | undefined,
    history: s.history as unknown as GoCacheHistory | undefined,
  };
}
