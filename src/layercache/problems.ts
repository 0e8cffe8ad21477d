// The layer cache's import and export problems a build reported: a missing ref is a cold start, a failure is a
// warning (the build goes on), or an error in strict mode.
import * as out from '../output.js';
import { Inputs } from '../constants.js';
import { type CacheProblemKind, cacheProblems, type MergedVertex } from '../imagebuild/rawjson.js';

/** The layer cache imports and exports that failed on a build's vertices (or only `kind`): warnings, or in strict mode an error. */
export function reportCacheProblems(vertices: MergedVertex[], cacheStrict: boolean, kind?: CacheProblemKind): void {
  for (const p of cacheProblems(vertices).filter((x) => !kind || x.kind === kind)) {
    if (p.missing) {
      out.info(`No layer cache yet at ${p.vertex.replace(/^importing cache manifest from /, '')}: a cold start`);
      continue;
    }
    const msg = `Cache ${p.kind} failed (${p.vertex}): ${p.error}`;
    if (cacheStrict) throw new Error(`${msg} (${Inputs.cacheStrict}: true)`);
    out.warning(`${msg}. The build went on${p.kind === 'import' ? ' without that cache' : '; the next run will start colder'}.`);
  }
}
