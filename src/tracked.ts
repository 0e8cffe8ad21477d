// What the run must finish or remove before it ends. Work that need not hold
// up the pipeline (recording a fingerprint) runs in the background, but must
// be over before the end of main. The containers the run is done with (the
// smoke test's, the size probe's) wait in a list: whatever needs them gone
// (untagging the image they use) removes them first, and main hands the rest
// to a removal that outlives it. And whether the run may have left a labelled
// container behind, so that main's last step lists containers only when one of
// them may still be there.
const pending = new Set<Promise<unknown>>();
const done: string[] = [];
let started = 0;
let removed = 0;

/** Runs `p` without waiting for it; its failure is ignored (the callers pass allowFailure work). */
export function inBackground(p: Promise<unknown>): void {
  const tracked = p.catch(() => undefined).finally(() => pending.delete(tracked));
  pending.add(tracked);
}

/** Waits for every background task started so far. */
export async function settleBackground(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}

/** Called before starting a container with the run's label. */
export function noteContainer(): void {
  started++;
}

/**
 * A container the run is done with (the id `docker run`/`docker create` printed): removed when something needs
 * it gone (lifecycle.ts removeDoneContainers), else as main ends (endRun).
 */
export function doneWith(id: string): void {
  done.push(id);
}

/** The containers the run is done with and has not removed yet; the list is emptied. */
export function takeDone(): string[] {
  return done.splice(0);
}

/** Called once `n` of them are removed, or handed to a removal that post makes sure of. */
export function noteRemoved(n = 1): void {
  removed += n;
}

/**
 * Whether a container the run labelled may still be there: one whose start failed half way (created, never
 * removed), or whose removal failed or was never confirmed.
 */
export function containersLeft(): boolean {
  return started > removed;
}
