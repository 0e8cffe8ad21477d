// The typed settings every other module receives, and the error a bad input
// raises. Parsing lives in parse.ts (per input in inputs.ts, the value grammar
// in values.ts, paths in paths.ts) and the rules between inputs in rules.ts.
import type { WorkflowContext } from '../context.js';

export type Driver = 'auto' | 'docker' | 'docker-container' | 'remote' | 'kubernetes';
export type CacheMode = 'min' | 'max';

export interface ImageRef {
  /** registry host and path, e.g. ghcr.io/acme/app-cache */
  repository: string;
  tag: string;
}

export interface Secret {
  id: string;
  value: string;
}

/** docker/build-push-action's remaining inputs (settings/buildflags.ts parses them). */
export interface BuildFlags {
  addHosts: string[];
  allow: string[];
  annotations: string[];
  attests: string[];
  buildContexts: string[];
  /** `--call`: build (the default), check, outline, targets, or a frontend method. */
  call?: string;
  cgroupParent?: string;
  noCache: boolean;
  noCacheFilters: string[];
  pull: boolean;
  shmSize?: string;
  ssh: string[];
  ulimit: string[];
  /** `--secret` values for secret-envs (`id=X,env=VAR`) and secret-files (`id=X,src=/abs/path`). */
  secretRefs: string[];
  /** Raw `--output` entries; they replace the action's own output. */
  outputs: string[];
  load: boolean;
}

/** One more BuildKit node for the builder (docker/setup-buildx-action's `append`). */
export interface BuilderNode {
  name?: string;
  endpoint?: string;
  platforms: string[];
  driverOpts: string[];
}

/** docker/setup-buildx-action's builder options (settings/nodes.ts parses them). */
export interface BuilderOptions {
  driverOpts: string[];
  /** An absolute path; buildkitd-config-inline is written to a file at setup. */
  buildkitdConfig?: string;
  buildkitdConfigInline?: string;
  endpoint?: string;
  append: BuilderNode[];
}

/** Signing what passed (settings/signing.ts parses it). */
export interface SigningSettings {
  sign: boolean;
  attestSmoke: boolean;
  /** PEM of a cosign private key; without one, keyless signing with the job's OIDC token. */
  key?: string;
  keyPassword?: string;
  tlog: boolean;
  cosignDownloadUrl: string;
  /** A GitHub artifact attestation of build provenance (@actions/attest), stored by GitHub and in the registry. */
  attestProvenance: boolean;
  /** github-token, which writes the attestation (permissions: attestations: write). */
  githubToken?: string;
}

/** An inclusive range of accepted HTTP status codes. */
export type StatusRange = [number, number];

export interface SmokeSettings {
  enabled: boolean;
  healthPath?: string;
  healthPort?: number;
  healthStatus: StatusRange[];
  healthBody?: string;
  healthCmd?: string;
  graceMs: number;
  timeoutMs: number;
  intervalMs: number;
  env: string[];
  args: string[];
  /** smoke-network: a network name, or `host` (then the probe reaches the container's own port on loopback). */
  network?: string;
  /** smoke-add-hosts, as `host:ip`. */
  addHosts: string[];
  /** The platforms to test: smoke-platforms, else every built platform. */
  platforms: string[];
  strict: boolean;
}

export interface Settings {
  workspace: string;
  context: string;
  file: string;
  platforms: string[];
  tags: string[];
  push: boolean;
  buildArgs: string[];
  labels: string[];
  secrets: Secret[];
  /** docker/build-push-action's remaining inputs, passed to buildx as it passes them. */
  flags: BuildFlags;
  /** docker/setup-buildx-action's builder options. */
  builderOptions: BuilderOptions;
  signing: SigningSettings;
  target?: string;
  network?: string;
  cacheRef?: ImageRef;
  cacheMode: CacheMode;
  cacheFrom: string[];
  cacheTo: string[];
  cacheStrict: boolean;
  driver: Driver;
  buildxVersion?: string;
  buildxDownloadUrl: string;
  buildkitImage: string;
  builder?: string;
  qemuImage: string;
  provenance?: string;
  sbom?: string;
  smoke: SmokeSettings;
  /** Extra attempts after a transient module-download failure. */
  retries: number;
  /** GOPRIVATE, passed as a build arg (it is not a secret). */
  goPrivate?: string;
  /** netrc credentials for private modules, passed only as a BuildKit secret. */
  goNetrc?: string;
  /** Budget for each platform's compressed size, in bytes. */
  maxImageSize?: number;
  goCache: GoCacheSettings;
  /** Where caches (layer cache export and Go caches) are saved. */
  saveOn: 'all' | 'default-branch' | 'any-event';
  /** The workflow context: event, ref, cache scope, default branch, run id. */
  workflow: WorkflowContext;
  /** A short id of the context, Dockerfile and target, which cache refs carry. */
  buildId: string;
  /** Repository for default tags and push-by-digest, e.g. ghcr.io/acme/api. */
  image?: string;
  pushByDigest: boolean;
  /** Merge mode: no build; an index of these digests under the tags. */
  merge: boolean;
  digests: string[];
  /** Set when the context has a go.mod and no Dockerfile: the built-in Dockerfile is used. */
  zeroConfig?: ZeroConfigOptions;
  printDockerfile: boolean;
  lint: 'off' | 'warn' | 'strict';
}

export interface GoCacheSettings {
  enabled: boolean;
  /** Why the Go caches are not carried, when they are not. */
  offReason?: string;
  backend: 'registry' | 'gha';
  /** Mount targets or ids named by go-cache-mounts, instead of the guess from paths. */
  mounts?: { mod?: string; build?: string };
  /** Cap on each saved cache, in bytes. */
  maxBytes: number;
  /** Image with a shell and tar for the restore/save builds; default the Go stage's own base. */
  image?: string;
}

export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly value: string,
    readonly problem: string,
    readonly accepted: string,
  ) {
    super(`Input "${input}" is invalid: ${JSON.stringify(value)} ${problem}. Accepted: ${accepted}.`);
    this.name = 'InputError';
  }
}

export interface ZeroConfigOptions {
  /** e.g. 1.24, from go.mod unless given */
  goVersion: string;
  /** the package to build, default "." */
  goMain: string;
  cgo: boolean;
  /** undefined: the built-in static image; "scratch": the binary alone; else an image to copy the binary onto */
  baseImage?: string;
  /** extra -ldflags after -s -w -X main.version=<version> */
  ldflags: string;
}

/** Reads one input by its action.yml name (core.getInput in the action). */
export type Reader = (name: string) => string;
/** Registers a value with the runner's log masking (core.setSecret in the action). */
export type Mask = (value: string) => void;

/** Platforms Go can target and BuildKit can name. */
export const KNOWN_PLATFORMS = [
  'linux/amd64',
  'linux/amd64/v2',
  'linux/amd64/v3',
  'linux/amd64/v4',
  'linux/arm64',
  'linux/arm64/v8',
  'linux/arm/v7',
  'linux/arm/v6',
  'linux/386',
  'linux/ppc64le',
  'linux/s390x',
  'linux/riscv64',
  'linux/mips64le',
  'linux/loong64',
] as const;

export const DEFAULT_PLATFORMS = 'linux/amd64,linux/arm64';

/** Where the REST API is and who may call it: the runner's GITHUB_API_URL and GITHUB_REPOSITORY, and a token. */
export interface GitHubApi {
  url: string;
  repository: string;
  token: string;
}
