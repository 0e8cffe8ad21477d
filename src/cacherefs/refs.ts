// The BuildKit layer cache through registry refs. Each job writes its own ref
// (platform set, what is built, and its scope), so matrix jobs over platforms
// or services, and branches, stop overwriting each other's cache; it reads
// its own ref first, then the default branch's.
import { Inputs } from '../constants.js';
import type { Settings } from '../settings/types.js';
import { layerCacheRefs, refScheme, type RefSettings } from './keys.js';

export interface CacheEntries {
  from: string[];
  to: string[];
  /** The action's own layer cache export (one of `to`), and the ref it writes. */
  own?: { ref: string; entry: string };
}

/**
 * Whether this run may write caches, and if not, why (the trust model is context.ts's):
 * - default-branch: only the default branch's own runs;
 * - all (the default): those, branches, pull requests and tags, each into its own scope;
 * - any-event: also runs of events outside the model (workflow_run, repository_dispatch, …), into `event-<name>`.
 */
export function saveAllowed(settings: Pick<Settings, 'saveOn' | 'workflow'>): { ok: boolean; why?: string } {
  const w = settings.workflow;
  if (settings.saveOn === 'default-branch' && !w.trusted) {
    const where =
      w.pullRequest !== undefined ? `pull request #${w.pullRequest}` : `${w.eventName || 'a local run'} on ${w.ref || 'no ref'}`;
    return { ok: false, why: `${Inputs.saveOn}: default-branch, and this run is for ${where}, not a push to ${w.defaultBranch}` };
  }
  if (w.kind === 'other-event' && settings.saveOn !== 'any-event') {
    return {
      ok: false,
      why: `a run started by ${w.eventName || 'no event'} is outside the cache trust model and writes no cache unless ${Inputs.saveOn}: any-event`,
    };
  }
  return { ok: true };
}

export function cacheEntries(
  settings: RefSettings & Pick<Settings, 'cacheMode' | 'cacheFrom' | 'cacheTo' | 'cacheStrict' | 'saveOn'>,
  /** False on a builder that cannot export (the docker driver on the classic image store). */
  canExport = true,
): CacheEntries {
  const from: string[] = [];
  const to: string[] = [];
  let own: CacheEntries['own'];
  const scheme = refScheme(settings);
  if (scheme) {
    const refs = layerCacheRefs(scheme);
    for (const r of refs.read) from.push(`type=registry,ref=${r}`);
    // image-manifest + OCI media types store the cache as an ordinary image
    // manifest, which registries that reject cache manifest lists accept.
    // zstd: the layers a change creates (the Go binaries of the build stage) are
    // compressed on the critical path of every run; zstd does it in about a third
    // of gzip's time (measured: 0.5-0.7 s against 1.2-1.8 s for a code change here).
    // Without force-compression, layers that already have a blob (base images)
    // are exported as they are. BuildKit has read zstd since v0.10.
    // A failed export is a warning unless the user asked for strict mode.
    if (saveAllowed(settings).ok && canExport) {
      own = {
        ref: refs.write,
        entry: `type=registry,ref=${refs.write},mode=${settings.cacheMode},image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=${!settings.cacheStrict}`,
      };
      to.push(own.entry);
    }
  }
  return { from: [...from, ...settings.cacheFrom], to: [...to, ...settings.cacheTo], ...(own ? { own } : {}) };
}
