// The images an e2e run leaves in the engine: every test pushes to a repository of its own
// (uniqueRepo: localhost:5000/e2e-<base-36 time>-<random>/…; the README recipes: readme-<base-36 time>…), and
// the docker driver keeps what it built. Over many runs on one machine they pile up (1,600 here), and the
// engine and its disk slow every later run down. The e2e project's global teardown removes those that
// this run named, by the time in the name; never another run's, never the stand-in base images.

/** The image references (repository:tag) named by a test that started at or after `since` (ms). */
export function imagesOfRun(refs: string[], since: number): string[] {
  return refs.filter((ref) => {
    const m = /^localhost:5000\/(?:e2e-([0-9a-z]+)-[0-9a-z]+|readme-([0-9a-z]{8})[0-9a-z]*)\//.exec(ref);
    if (!m) return false;
    const stamp = parseInt(m[1] ?? m[2], 36);
    return Number.isFinite(stamp) && stamp >= since;
  });
}
