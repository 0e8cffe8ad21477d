// The BuildKit layer cache through registry refs.
import type { Settings } from '../settings.js';

export interface CacheEntries {
  from: string[];
  to: string[];
}

export function cacheRefString(settings: Pick<Settings, 'cacheRef'>): string | undefined {
  return settings.cacheRef ? `${settings.cacheRef.repository}:${settings.cacheRef.tag}` : undefined;
}

export function cacheEntries(settings: Pick<Settings, 'cacheRef' | 'cacheMode' | 'cacheFrom' | 'cacheTo' | 'cacheStrict'>): CacheEntries {
  const from: string[] = [];
  const to: string[] = [];
  const ref = cacheRefString(settings);
  if (ref) {
    from.push(`type=registry,ref=${ref}`);
    // image-manifest + OCI media types store the cache as an ordinary image
    // manifest, which registries that reject cache manifest lists accept.
    // A failed export is a warning unless the user asked for strict mode.
    to.push(
      `type=registry,ref=${ref},mode=${settings.cacheMode},image-manifest=true,oci-mediatypes=true,ignore-error=${!settings.cacheStrict}`,
    );
  }
  return { from: [...from, ...settings.cacheFrom], to: [...to, ...settings.cacheTo] };
}
