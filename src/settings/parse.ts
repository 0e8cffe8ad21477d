// Parses and validates every input once. Nothing else in the action reads
// inputs: the rest of the code receives a typed Settings object. Every error
// names the input, the value given and what is accepted, and is thrown before
// anything starts, so bad input never pushes anything.
import * as out from '../output.js';
import * as path from 'node:path';
import * as core from '@actions/core';
import { DEFAULT_BUILDKIT_IMAGE, DEFAULT_QEMU_IMAGE, Inputs } from '../constants.js';
import { workflowContext } from '../context.js';
import { buildId } from './names.js';
import type { Mask, Reader, Settings } from './types.js';
import type { GitHubApi } from './types.js';
import { optional, parseBool, parseChoice, parseCount, parseKeyValues, parseList } from './values.js';
import {
  parseBuildxDownloadUrl,
  parseBuildxVersion,
  parseCacheRef,
  parseDigests,
  parseGoCache,
  parseGoPrivate,
  parseImage,
  parseImageRef,
  parseLint,
  parseMaxImageSize,
  parseName,
  parseNetrc,
  parsePlatforms,
  parseSecrets,
  parseTags,
} from './inputs.js';
import { parseSource } from './paths.js';
import { parseSmoke } from './smokeinputs.js';
import { parseBuildFlags } from './buildflags.js';
import { parseBuilderOptions } from './nodes.js';
import { parseSigning } from './signing.js';
import { checkOutputs, checkPublishing, checkSigning, outputsAsPushByDigest, type Publishing } from './rules.js';

/** The settings from the action's own inputs; secret inputs are masked before anything is checked or could be printed. */
export function settingsFromInputs(): Settings {
  return parseSettings(
    (name) => core.getInput(name),
    process.env,
    (value) => core.setSecret(value),
  );
}

/**
 * The REST API for the post step's actions/cache cleanup: the runner's API URL and repository, and
 * `github-token` (masked here, read only when the post step needs it). Undefined without a token.
 */
export function githubApiFromInputs(env: NodeJS.ProcessEnv = process.env): GitHubApi | undefined {
  return parseGitHubApi(
    (name) => core.getInput(name),
    env,
    (value) => core.setSecret(value),
  );
}

export function parseGitHubApi(read: Reader, env: NodeJS.ProcessEnv, mask: Mask): GitHubApi | undefined {
  const token = read(Inputs.githubToken).trim();
  if (token === '') return undefined;
  // Masked here, the one place, before anything else reads it (parseSigning reads it for attest-provenance).
  mask(token);
  if (!env.GITHUB_REPOSITORY) return undefined;
  return { url: env.GITHUB_API_URL || 'https://api.github.com', repository: env.GITHUB_REPOSITORY, token };
}

export function parseSettings(read: Reader, env: NodeJS.ProcessEnv = process.env, mask: Mask = () => undefined): Settings {
  // Secret inputs first: every value is masked before anything else can fail or print.
  const secrets = parseSecrets(read, mask);
  parseGitHubApi(read, env, mask);
  const goNetrc = parseNetrc(read, mask);
  const signing = parseSigning(read, mask);
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());
  const written = parseBuildFlags(read, env, workspace, mask);
  const recipe = outputsAsPushByDigest(written.outputs, parsePublishing(read));
  if (recipe.note) out.info(recipe.note);
  const flags = { ...written, outputs: recipe.outputs };
  const publishing = recipe.publishing;
  const source = parseSource(read, workspace, publishing.merge);
  const target = parseName(read, Inputs.target, 'stage name', 'the name of a stage in the Dockerfile');
  const platforms = parsePlatforms(read);
  const cacheRef = parseCacheRef(read);
  const builderInputs = parseBuilderInputs(read);
  const settings: Settings = {
    ...source,
    ...publishing,
    ...builderInputs,
    builderOptions: parseBuilderOptions(read, builderInputs.driver, workspace),
    signing,
    platforms,
    target,
    secrets,
    flags,
    goNetrc,
    buildArgs: parseKeyValues(read, Inputs.buildArgs, false),
    labels: parseKeyValues(read, Inputs.labels, false),
    network: parseName(read, Inputs.network, 'network name', 'default, host, none, or a network name'),
    cacheRef,
    cacheMode: parseChoice(read, Inputs.cacheMode, ['min', 'max'] as const, 'max'),
    cacheFrom: parseList(read(Inputs.cacheFrom), { commas: false }),
    cacheTo: parseList(read(Inputs.cacheTo), { commas: false }),
    cacheStrict: parseBool(read, Inputs.cacheStrict, false),
    // Unset means buildx's own default, with push-by-digest too: the job's digest is then a
    // one-platform index with its attestation, and `imagetools create` in the merge job carries the
    // attestation into the merged index (measured with buildx 0.13: 2 platforms + 2 attestations).
    provenance: optional(read, Inputs.provenance),
    sbom: optional(read, Inputs.sbom),
    smoke: parseSmoke(read, platforms),
    retries: parseCount(read, Inputs.retries, 2, 10),
    goPrivate: parseGoPrivate(read),
    maxImageSize: parseMaxImageSize(read),
    goCache: parseGoCache(read, cacheRef, flags.noCache),
    saveOn: parseChoice(read, Inputs.saveOn, ['all', 'default-branch', 'any-event'] as const, 'all'),
    workflow: workflowContext(env),
    buildId: buildId(env.GITHUB_REPOSITORY ?? '', path.relative(workspace, source.context), path.relative(workspace, source.file), target),
    printDockerfile: parseBool(read, Inputs.printDockerfile, false),
    lint: parseLint(read),
  };
  checkOutputs(flags, publishing, settings.maxImageSize);
  checkSigning(signing, publishing, settings.smoke.enabled);
  return settings;
}

/** Where the image goes: tags, push, image, push-by-digest, merge and digests, and the rules between them. */
function parsePublishing(read: Reader): Publishing {
  const p: Publishing = {
    tags: parseTags(read),
    push: parseBool(read, Inputs.push, false),
    image: parseImage(read),
    pushByDigest: parseBool(read, Inputs.pushByDigest, false),
    merge: parseBool(read, Inputs.merge, false),
    digests: parseDigests(read),
  };
  checkPublishing(p);
  return p;
}

/** Which buildx, which builder, which images for BuildKit and QEMU. */
function parseBuilderInputs(
  read: Reader,
): Pick<Settings, 'driver' | 'buildxVersion' | 'buildxDownloadUrl' | 'buildkitImage' | 'builder' | 'qemuImage'> {
  return {
    driver: parseChoice(read, Inputs.driver, ['auto', 'docker', 'docker-container', 'remote', 'kubernetes'] as const, 'auto'),
    buildxVersion: parseBuildxVersion(read),
    buildxDownloadUrl: parseBuildxDownloadUrl(read),
    buildkitImage: parseImageRef(read, Inputs.buildkitImage, DEFAULT_BUILDKIT_IMAGE),
    builder: parseName(read, Inputs.builder, 'builder name', 'the name shown by docker buildx ls'),
    qemuImage: parseImageRef(read, Inputs.qemuImage, DEFAULT_QEMU_IMAGE),
  };
}
