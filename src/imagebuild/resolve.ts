// Everything the build needs, computed once from the settings and the
// builder: the tags, the Dockerfile (the built-in one when there is none), the
// build args (GOPRIVATE and the built-in Dockerfile's VERSION included), where
// the image goes, the ref the smoke test and the sizes read, the secret files,
// and the argv. Nothing after this step changes any of it.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NETRC_SECRET_ID } from '../constants.js';
import type { Settings } from '../settings/types.js';
import type { Builder } from '../buildx/builder.js';
import { repositoryOf } from '../ref.js';
import { saveEngineImage } from '../state.js';
import { type Run, secretsDir } from '../lifecycle.js';
import { cacheEntries } from '../cacherefs/refs.js';
import { useBuiltinDockerfile } from '../dockerfile/builtin.js';
import { annotateLint } from '../dockerfile/lint.js';
import { resolveTagsAndLabels } from './tags.js';
import { buildArgs, chooseOutput, defaultProvenance, hasGate, type OutputMode, ownExportSplit } from './args.js';

export interface ResolvedBuild {
  settings: Settings;
  output: OutputMode;
  /** push-by-digest: the repository the digest is pushed to. */
  byDigest?: string;
  argv: string[];
  /**
   * When the action exports a layer cache of its own: the ref, the argv without that export (a run whose
   * fingerprint matched that ref), and the argv that exports it alone (layercache/layerexport.ts).
   */
  ownCache?: { ref: string; argvKeeping: string[]; exportArgv: string[]; exportMetadataFile: string };
  metadataFile: string;
  /** The run-unique local tag of an image built into the engine (args.ts BuildPlan.localTag). */
  localTag?: string;
  /** What the smoke test runs and the sizes are read from, once the build told its digest. */
  refToTest(digest: string | undefined): string | undefined;
  /** Removes the secret files: they must not outlive the build. */
  disposeSecrets(): void;
}

/**
 * The part that does not depend on the builder, so that what needs only the inputs (the fingerprint
 * check) can run while the builder is set up: tags and labels, the Dockerfile (the built-in one when
 * there is none), GOPRIVATE.
 */
export async function prepareSettings(input: Settings, run: Pick<Run, 'tempDir'>): Promise<Settings> {
  const meta = await resolveTagsAndLabels(input);
  const built = useBuiltinDockerfile(meta.settings, run.tempDir, meta.version);
  annotateLint(built);
  // GOPRIVATE is not a secret; the credentials for it travel as the netrc secret.
  const goPrivate = built.goPrivate && !built.buildArgs.some((a) => a.startsWith('GOPRIVATE=')) ? [`GOPRIVATE=${built.goPrivate}`] : [];
  return { ...built, buildArgs: [...built.buildArgs, ...goPrivate] };
}

/** The rest, once the builder is known; `prepared` comes from prepareSettings. */
export async function resolveBuild(prepared: Settings, builder: Builder, run: Run): Promise<ResolvedBuild> {
  const byDigest = prepared.pushByDigest ? (prepared.image ?? repositoryOf(prepared.tags[0])) : undefined;
  // The docker driver cannot push by digest: the engine keeps the image under a local tag
  // that is never pushed, and publish/bydigest.ts uploads it by digest after the smoke test.
  const tags = byDigest && builder.driver === 'docker' ? [`${byDigest}:go-buildx-${run.runKey.slice(0, 8)}`] : prepared.tags;
  if (tags !== prepared.tags) saveEngineImage(tags[0]);
  const settings: Settings = {
    ...prepared,
    tags,
    provenance: defaultProvenance(prepared, builder.exportsCache !== false),
    ...(builder.exportsCache === false ? noExports(prepared) : {}),
  };

  const output = chooseOutput(
    builder.driver,
    settings.push,
    hasGate(settings),
    tags,
    path.join(run.tempDir, 'image-oci.tar'),
    byDigest,
    settings.flags,
  );
  const metadataFile = path.join(run.tempDir, 'metadata.json');
  const cache = cacheEntries(settings, builder.exportsCache !== false);
  const secretFiles = writeSecretFiles(settings, secretsDir(run));
  // push-by-digest's local tag is run-unique already; any other image in the engine gets one (args.ts).
  const localTag = output.kind === 'engine' && !byDigest ? runLocalTag(run.runKey) : undefined;
  if (localTag) saveEngineImage(localTag);
  const plan = { builder: builder.name, driver: builder.driver, settings, cache, secretFiles, metadataFile, output, localTag };
  const argv = buildArgs(plan);
  const exportMetadataFile = path.join(run.tempDir, 'metadata-cache-export.json');
  const split = settings.flags.call ? undefined : ownExportSplit(plan, exportMetadataFile);
  const ownCache =
    split && cache.own
      ? { ref: cache.own.ref, argvKeeping: buildArgs(split.keep), exportArgv: buildArgs(split.exportOnly), exportMetadataFile }
      : undefined;
  out.debug(`output: ${JSON.stringify(output)}`);
  out.debug(`cache entries: ${JSON.stringify(cache)}`);
  out.debug(`buildx build argv: ${JSON.stringify(argv)}`);
  return {
    settings,
    output,
    byDigest,
    argv,
    ...(ownCache ? { ownCache } : {}),
    metadataFile,
    localTag,
    refToTest: (digest) => refToTest(output, localTag ? [localTag] : tags, digest),
    disposeSecrets: () => fs.rmSync(secretsDir(run), { recursive: true, force: true }),
  };
}

/** A builder that exports nothing (builder.ts exportsCache): no own layer cache export, no Go caches. */
function noExports(s: Settings): Pick<Settings, 'cacheRef' | 'goCache'> {
  return {
    // cache-ref still names what is read: a layer cache import works on that builder.
    cacheRef: s.cacheRef,
    goCache: s.goCache.enabled
      ? {
          ...s.goCache,
          enabled: false,
          offReason:
            'the docker driver on the classic image store cannot export them (driver: docker-container, or the containerd image store, can)',
        }
      : s.goCache,
  };
}

/** A local image name no registry serves and no other run uses: never pushed, removed by main and post. */
export function runLocalTag(runKey: string): string {
  return `go-buildx-run:${runKey.replace(/-/g, '').slice(0, 32)}`;
}

/** What the smoke test runs and the sizes are read from: nothing when the user's outputs or call decide. */
function refToTest(output: OutputMode, tags: string[], digest: string | undefined): string | undefined {
  if (output.kind === 'custom' || output.kind === 'none') return undefined;
  if (output.kind === 'stage') return digest ? `${output.repository}@${digest}` : undefined;
  return tags[0] ?? digest;
}

/** Each secret (and go-netrc as the secret "netrc") in a file only this user can read. */
function writeSecretFiles(settings: Settings, dir: string): { id: string; path: string }[] {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secrets = [...settings.secrets, ...(settings.goNetrc ? [{ id: NETRC_SECRET_ID, value: settings.goNetrc }] : [])];
  return secrets.map((s, i) => {
    const p = path.join(dir, `secret-${i}`);
    fs.writeFileSync(p, s.value, { mode: 0o600 });
    return { id: s.id, path: p };
  });
}
