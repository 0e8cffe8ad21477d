// What the run must finish or remove before it ends. Work that need not hold
// up the pipeline (removing a container the size probe created) runs in the
// background, but must be over before anything that depends on it: the push,
// which may untag the image those containers use, and the end of main. And
// whether the run labelled any container at all, so that main's last step
// does not list containers when it started none.
const pending = new Set<Promise<unknown>>();
let labelled = false;

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
  labelled = true;
}

export function containersNoted(): boolean {
  return labelled;
}
