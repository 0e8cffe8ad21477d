// Where saved Go caches live: registry images (default) or actions/cache.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import { failureTail, run } from '../exec.js';
import { args, type BuildxCommand } from '../buildx/command.js';
import { isMissingRef, repositoryOf } from '../ref.js';
import type { OciIndex, OciManifest } from '../report/sizes.js';
import { compressedSize, isAttestation } from '../report/sizes.js';
import { type GoCacheStore, type PlanEntry, registryOutput } from './transfer.js';
import { TAR_NAME } from './scripts.js';
import { deleteSuperseded, type GitHubApi } from './ghaentries.js';
import { formatBytes } from '../report/outputs.js';

interface InspectedManifest {
  digest: string;
  mediaType?: string;
  manifests?: OciIndex['manifests'];
}

export class RegistryStore implements GoCacheStore {
  constructor(
    private readonly buildx: BuildxCommand,
    /** The docker driver also keeps every image it pushes in the engine; those copies are removed. */
    private readonly driver: string,
  ) {}

  async find(entry: PlanEntry) {
    let lastError: string | undefined;
    for (const c of entry.read) {
      const res = await run(...args(this.buildx, 'imagetools', 'inspect', c.ref, '--format', '{{json .Manifest}}'), { allowFailure: true });
      if (res.exitCode !== 0) {
        if (!isMissingRef(res.stderr)) lastError = failureTail(res, 1);
        continue;
      }
      const m = JSON.parse(res.stdout) as InspectedManifest;
      const repo = repositoryOf(c.ref);
      let digest = m.digest;
      if (m.manifests) {
        const child = m.manifests.find((d) => !isAttestation(d));
        if (!child) continue;
        digest = child.digest;
      }
      const raw = await run(...args(this.buildx, 'imagetools', 'inspect', '--raw', `${repo}@${digest}`));
      const bytes = compressedSize(JSON.parse(raw.stdout) as OciManifest);
      return { restored: { ref: c.ref, match: c.match, bytes }, source: { entry, from: `${repo}@${digest}` } };
    }
    if (lastError) throw new Error(lastError);
    return undefined;
  }

  output(entry: PlanEntry): string {
    return registryOutput(entry.write);
  }

  async finish(entry: PlanEntry): Promise<number | undefined> {
    if (this.driver === 'docker') await run('docker', ['image', 'rm', ...entry.write], { allowFailure: true });
    const res = await run(...args(this.buildx, 'imagetools', 'inspect', '--raw', entry.write[0]), { allowFailure: true });
    if (res.exitCode !== 0) return undefined;
    const m = JSON.parse(res.stdout) as OciManifest;
    return compressedSize(m);
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
      restored: { ref: hit, match: c.match, bytes: fs.statSync(tar).size },
      source: { entry, from: name, buildContext: { name, dir: workDir } },
    };
  }

  output(entry: PlanEntry): string {
    fs.rmSync(this.dir(entry), { recursive: true, force: true });
    return `type=local,dest=${this.dir(entry)}`;
  }

  async finish(entry: PlanEntry): Promise<number | undefined> {
    try {
      // saveCache reports a reserve conflict or a denied write as -1, not as an error.
      const id = await this.client.saveCache([this.dir(entry)], entry.write[0]);
      if (id === -1)
        throw new Error(`actions/cache did not store ${entry.write[0]} (another job is saving that key, or this job may not write caches)`);
      const bytes = fs.statSync(path.join(this.dir(entry), TAR_NAME[entry.kind])).size;
      if (entry.kind === 'build') await this.dropSuperseded(entry);
      return bytes;
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
      core.info(`Older ${prefix}* entries of this branch are left to GitHub's eviction: no github-token`);
      return;
    }
    try {
      const { deleted } = await deleteSuperseded(this.cleanup.api, this.cleanup.ref, prefix, keep);
      const bytes = deleted.reduce((n, d) => n + d.bytes, 0);
      core.info(
        `Deleted ${deleted.length} superseded build-cache entr${deleted.length === 1 ? 'y' : 'ies'} of ${this.cleanup.ref} (${formatBytes(bytes)}); ${keep} replaces them`,
      );
    } catch (err) {
      core.warning(
        `Superseded build-cache entries (${prefix}*) were not deleted: ${(err as Error).message}. ` +
          "Until they are, every run that compiles something adds one entry to the repository's cache quota.",
      );
    }
  }
}
