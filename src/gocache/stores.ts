// Where saved Go caches live: registry images (default) or actions/cache.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repositoryOf } from '../ref.js';
import { compressedSize } from '../registry/oci.js';
import { type GoCacheStore, KIND_LABEL, ociOutput, type PlanEntry, type Restored, type SaveStats } from './transfer.js';
import { annotated, findImage, type Image, pushImage, readImage, readLayout, stackLayer } from './images.js';
import { cacheAnnotations } from '../cacherefs/keys.js';
import { registryClient } from '../registry/client.js';
import { isSavedPart, TAR_NAME } from './scripts.js';
import { deleteSuperseded } from './ghaentries.js';
import type { GitHubApi } from '../settings/types.js';
import { formatBytes } from '../settings/values.js';

/**
 * Registry images. The save build writes an OCI layout on the runner and this store pushes it: the
 * whole cache as one layer, or (GOCACHE, see `saveScript`) one more layer holding only what the run
 * created, on top of the layers it restored, which are already in the repository and are not sent again.
 */
export class RegistryStore implements GoCacheStore {
  /** The restored images a save stacks on: read once, by canLayer, and used again by finish. */
  private readonly bases = new Map<string, Promise<Image>>();

  constructor(private readonly root: string) {}

  private base(restored: Restored & { digest: string }): Promise<Image> {
    const key = `${repositoryOf(restored.ref)}@${restored.digest}`;
    let image = this.bases.get(key);
    if (!image) this.bases.set(key, (image = readImage(repositoryOf(restored.ref), restored.digest)));
    return image;
  }

  private dir(entry: PlanEntry): string {
    return path.join(this.root, 'go-cache', `oci-${entry.kind}${entry.node ? `-${entry.node.name}` : ''}`);
  }

  /** Through the registry API, every candidate at once (no process to start); the first that exists wins. */
  async find(entry: PlanEntry) {
    const found = await Promise.all(
      entry.read.map((c) =>
        findImage(c.ref).then(
          (r) => ({ c, r }),
          (err: Error) => ({ c, err }),
        ),
      ),
    );
    for (const f of found) {
      if (!('r' in f) || !f.r) continue;
      const { repository, digest, bytes } = f.r;
      return {
        restored: { ref: f.c.ref, match: f.c.match, bytes, digest },
        source: { entry, from: `${repository}@${digest}` },
      };
    }
    const failed = found.find((f) => 'err' in f);
    if (failed && 'err' in failed) throw failed.err;
    return undefined;
  }

  output(entry: PlanEntry): string {
    fs.rmSync(this.dir(entry), { recursive: true, force: true });
    return ociOutput(this.dir(entry));
  }

  /** A layer can go on the restored image when every repository written to already has its blobs. */
  async canLayer(entry: PlanEntry): Promise<boolean> {
    const restored = entry.restored;
    if (!restored?.digest) return false;
    const base = await this.base({ ...restored, digest: restored.digest });
    for (const repo of new Set(entry.write.map(repositoryOf))) {
      const client = await registryClient(repo);
      const present = await Promise.all(base.manifest.layers.map((l) => client.hasBlob(l.digest)));
      if (present.includes(false)) {
        out.info(`${KIND_LABEL[entry.kind]}: ${repo} lacks layers of the restored copy, so the whole cache is saved`);
        return false;
      }
    }
    return true;
  }

  async finish(entry: PlanEntry, stats: SaveStats | undefined): Promise<{ stored?: number; uploaded?: number }> {
    const dir = this.dir(entry);
    try {
      const layout = readLayout(dir);
      let image = layout.image;
      if (stats?.mode === 'layered') {
        const restored = entry.restored;
        if (!restored?.digest) throw new Error('the save stacked a layer, but no restored image is known');
        image = stackLayer(await this.base({ ...restored, digest: restored.digest }), layout.image);
      }
      // Once for every tag, so that the tags of one save (gomod's two) share one manifest.
      image = annotated(image, cacheAnnotations());
      let uploaded = 0;
      for (const ref of entry.write) uploaded += await pushImage(ref, image, layout.blobPath);
      return { stored: compressedSize(image.manifest), uploaded };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The slice of @actions/cache this backend uses; a test passes its own. */
export interface CacheClient {
  restoreCache(paths: string[], primaryKey: string, restoreKeys?: string[]): Promise<string | undefined>;
  saveCache(paths: string[], key: string): Promise<number>;
}

export async function actionsCacheClient(): Promise<CacheClient> {
  // Loaded only for this backend: it is the largest dependency by far.
  const cache = await import('@actions/cache');
  if (!cache.isFeatureAvailable()) {
    throw new Error('the GitHub Actions cache service is not available to this job (no ACTIONS_RESULTS_URL or ACTIONS_CACHE_URL)');
  }
  return { restoreCache: (p, k, r) => cache.restoreCache(p, k, r), saveCache: (p, k) => cache.saveCache(p, k) };
}

/** Bytes of the saved copy in `dir`: its tarball, or every part of a full GOCACHE save. */
function savedBytes(dir: string, kind: PlanEntry['kind']): number {
  return fs
    .readdirSync(dir)
    .filter((name) => isSavedPart(kind, name))
    .reduce((n, name) => n + fs.statSync(path.join(dir, name)).size, 0);
}

/**
 * actions/cache: restored into a local directory that the restore build reads
 * as a named build context; saved from a type=local export of the save build.
 */
export class GhaStore implements GoCacheStore {
  /**
   * root: a fixed directory. actions/cache versions entries by their paths,
   * so restore and save must name the same path on every run.
   */
  constructor(
    private readonly client: CacheClient,
    private readonly root: string,
    /** The REST API and the run's ref, to delete the build-cache entries a save supersedes. */
    private readonly cleanup?: { api?: GitHubApi; ref: string },
  ) {}

  private dir(entry: PlanEntry): string {
    return path.join(this.root, entry.node ? `${entry.kind}-${entry.node.name}` : entry.kind);
  }

  async find(entry: PlanEntry) {
    const workDir = this.dir(entry);
    fs.mkdirSync(workDir, { recursive: true });
    const [primary, ...rest] = entry.read.map((c) => c.ref);
    const hit = await this.client.restoreCache([workDir], primary, [primary, ...rest]);
    const tar = path.join(workDir, TAR_NAME[entry.kind]);
    if (!hit || !fs.existsSync(tar)) return undefined;
    // Only the primary key itself is an exact hit; a restore key matches by prefix.
    const c =
      entry.read.find((x) => hit === x.ref) ??
      entry.read.find((x) => x.match !== 'exact' && hit.startsWith(x.ref)) ??
      entry.read[entry.read.length - 1];
    const name = `go-buildx-${entry.kind}`;
    return {
      restored: { ref: hit, match: c.match, bytes: savedBytes(workDir, entry.kind) },
      source: { entry, from: name, buildContext: { name, dir: workDir } },
    };
  }

  output(entry: PlanEntry): string {
    fs.rmSync(this.dir(entry), { recursive: true, force: true });
    return `type=local,dest=${this.dir(entry)}`;
  }

  /** An actions/cache entry is one archive: nothing to stack on. */
  async canLayer(): Promise<boolean> {
    return false;
  }

  async finish(entry: PlanEntry): Promise<{ stored?: number }> {
    try {
      // saveCache reports a reserve conflict or a denied write as -1, not as an error.
      const id = await this.client.saveCache([this.dir(entry)], entry.write[0]);
      if (id === -1)
        throw new Error(`actions/cache did not store ${entry.write[0]} (another job is saving that key, or this job may not write caches)`);
      const bytes = savedBytes(this.dir(entry), entry.kind);
      if (entry.kind === 'build') await this.dropSuperseded(entry);
      return { stored: bytes };
    } finally {
      fs.rmSync(this.dir(entry), { recursive: true, force: true });
    }
  }

  /**
   * Only the build cache: its key changes on every save. The module cache's key is its content, and
   * other services of a monorepo share its prefix, so its entries are left to GitHub's eviction.
   */
  private async dropSuperseded(entry: PlanEntry): Promise<void> {
    const prefix = entry.read[entry.read.length - 1].ref;
    const keep = entry.write[0];
    if (!this.cleanup?.api || !this.cleanup.ref) {
      out.info(`Older ${prefix}* entries of this branch are left to GitHub's eviction: no github-token`);
      return;
    }
    try {
      const { deleted } = await deleteSuperseded(this.cleanup.api, this.cleanup.ref, prefix, keep);
      const bytes = deleted.reduce((n, d) => n + d.bytes, 0);
      out.info(
        `Deleted ${deleted.length} superseded build-cache entr${deleted.length === 1 ? 'y' : 'ies'} of ${this.cleanup.ref} (${formatBytes(bytes)}); ${keep} replaces them`,
      );
    } catch (err) {
      out.warning(
        `Superseded build-cache entries (${prefix}*) were not deleted: ${(err as Error).message}. ` +
          "Until they are, every run that compiles something adds one entry to the repository's cache quota.",
      );
    }
  }
}
