// Every input, output and state name lives here, so that action.yml, the
// settings parser, the outputs writer and the post step cannot drift apart.

export const Inputs = {
  context: 'context',
  file: 'file',
  platforms: 'platforms',
  tags: 'tags',
  push: 'push',
  buildArgs: 'build-args',
  labels: 'labels',
  secrets: 'secrets',
  target: 'target',
  network: 'network',
  githubToken: 'github-token',
  sign: 'sign',
  signKey: 'sign-key',
  signKeyPassword: 'sign-key-password',
  signTlog: 'sign-tlog',
  cosignDownloadUrl: 'cosign-download-url',
  attestSmoke: 'attest-smoke',
  attestProvenance: 'attest-provenance',
  addHosts: 'add-hosts',
  allow: 'allow',
  annotations: 'annotations',
  attests: 'attests',
  buildContexts: 'build-contexts',
  call: 'call',
  cgroupParent: 'cgroup-parent',
  load: 'load',
  noCache: 'no-cache',
  noCacheFilters: 'no-cache-filters',
  outputs: 'outputs',
  pull: 'pull',
  secretEnvs: 'secret-envs',
  secretFiles: 'secret-files',
  shmSize: 'shm-size',
  ssh: 'ssh',
  ulimit: 'ulimit',
  cacheRef: 'cache-ref',
  cacheMode: 'cache-mode',
  cacheFrom: 'cache-from',
  cacheTo: 'cache-to',
  cacheStrict: 'cache-strict',
  driver: 'driver',
  buildxVersion: 'buildx-version',
  buildxDownloadUrl: 'buildx-download-url',
  buildkitImage: 'buildkit-image',
  builder: 'builder',
  driverOpts: 'driver-opts',
  buildkitdConfig: 'buildkitd-config',
  buildkitdConfigInline: 'buildkitd-config-inline',
  endpoint: 'endpoint',
  append: 'append',
  qemuImage: 'qemu-image',
  provenance: 'provenance',
  sbom: 'sbom',
  smokeTest: 'smoke-test',
  healthPath: 'health-path',
  healthPort: 'health-port',
  healthStatus: 'health-status',
  healthBody: 'health-body',
  healthCmd: 'health-cmd',
  smokeGrace: 'smoke-grace',
  smokeTimeout: 'smoke-timeout',
  smokeInterval: 'smoke-interval',
  smokeEnv: 'smoke-env',
  smokeArgs: 'smoke-args',
  smokeNetwork: 'smoke-network',
  smokeAddHosts: 'smoke-add-hosts',
  smokePlatforms: 'smoke-platforms',
  smokeStrict: 'smoke-strict',
  retries: 'retries',
  goPrivate: 'go-private',
  goNetrc: 'go-netrc',
  maxImageSize: 'max-image-size',
  goCache: 'go-cache',
  goCacheBackend: 'go-cache-backend',
  goCacheMounts: 'go-cache-mounts',
  goCacheMaxSize: 'go-cache-max-size',
  goCacheImage: 'go-cache-image',
  saveOn: 'save-on',
  image: 'image',
  pushByDigest: 'push-by-digest',
  merge: 'merge',
  digests: 'digests',
  goMain: 'go-main',
  goVersion: 'go-version',
  baseImage: 'base-image',
  ldflags: 'ldflags',
  cgo: 'cgo',
  printDockerfile: 'print-dockerfile',
  lint: 'lint',
  cleanup: 'cache-cleanup',
  cleanupScopes: 'cache-cleanup-scopes',
  cleanupOlderThan: 'cache-cleanup-older-than',
  cleanupUntagged: 'cache-cleanup-untagged',
  cleanupApi: 'cache-cleanup-api',
  cleanupDryRun: 'cache-cleanup-dry-run',
} as const;

export const Outputs = {
  signatures: 'signatures',
  provenanceAttestations: 'provenance-attestations',
  digest: 'digest',
  imageid: 'imageid',
  metadata: 'metadata',
  imageSize: 'image-size',
  imageSizes: 'image-sizes',
  cacheHitRate: 'cache-hit-rate',
  cacheHits: 'cache-hits',
  cacheSteps: 'cache-steps',
  builder: 'builder',
  driver: 'driver',
  pushed: 'pushed',
  smokeResult: 'smoke-result',
  smokePassed: 'smoke-passed',
  goCacheHit: 'go-cache-hit',
  goCacheRestored: 'go-cache-restored',
  goCacheStats: 'go-cache-stats',
  goCacheSavedSeconds: 'go-cache-saved-seconds',
  tags: 'tags',
  lintFindings: 'lint-findings',
  cleanupResult: 'cache-cleanup-result',
} as const;

export const State = {
  isPost: 'isPost',
  createdBuilder: 'createdBuilder',
  buildxCommand: 'buildxCommand',
  tempDir: 'tempDir',
  runKey: 'runKey',
  goCachePlan: 'goCachePlan',
  layerExport: 'layerExport',
  engineImages: 'engineImages',
  secretFiles: 'secretFiles',
  sizeMemo: 'sizeMemo',
} as const;

/** Pinned buildx installed when none is found (rawjson progress needs >= 0.12). */
export const PINNED_BUILDX_VERSION = '0.19.3';
/**
 * The sha256 of the pinned releases, by <os>-<arch> of the release file name, checked before a download or a
 * tool-cache hit runs (buildx: the release's checksums.txt, as docker-library's docker:dind images pin it;
 * cosign: the release's cosign_checksums.txt, as sigstore/cosign-installer pins it). Other platforms, and
 * versions a workflow chooses, are checked against the release's checksums file.
 */
export const PINNED_BUILDX_SHA256: Record<string, string> = {
  'linux-amd64': '32ed111e941e385c2fb8261eba06a4056915718fd606f8278834ac1931d261a2',
  'linux-arm64': '138b587399b27bb61945a36d67866177b85dea1155101a2be63c7ab715f18a2e',
};
/**
 * The oldest buildx the action runs as it finds it: the oldest the tests cover (the "oldest" engine leg runs
 * Debian trixie's 0.13.1; rawjson progress itself came with 0.12). An older one gets the pinned install.
 */
export const MIN_BUILDX_VERSION = '0.13.0';
export const DEFAULT_BUILDX_DOWNLOAD_URL = 'https://github.com/docker/buildx/releases/download';
/** cosign installed when the one on PATH is missing or too old; its release checksums are checked. */
export const PINNED_COSIGN_VERSION = '2.5.0';
export const PINNED_COSIGN_SHA256: Record<string, string> = {
  'linux-amd64': '1f6c194dd0891eb345b436bb71ff9f996768355f5e0ce02dde88567029ac2188',
  'linux-arm64': '080a998f9878f22dafdb9ad54d5b2e2b8e7a38c53527250f9d89a6763a28d545',
};
export const DEFAULT_COSIGN_DOWNLOAD_URL = 'https://github.com/sigstore/cosign/releases/download';
/** The in-toto predicate type of the smoke-test attestation (README, "Release pipeline"). */
export const SMOKE_PREDICATE_TYPE = 'https://go-buildx-action.dev/attestations/smoke-test/v1';
export const DEFAULT_BUILDKIT_IMAGE = 'moby/buildkit:buildx-stable-1';
/**
 * The binfmt image runs privileged, so it is pinned to a release and its digest, and moved on
 * deliberately (docker/setup-qemu-action's default is the unpinned :latest). The tag is there for
 * the reader; the digest is what the engine pulls.
 */
export const DEFAULT_QEMU_IMAGE =
  'docker.io/tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0';
/** Tag used for the BuildKit layer cache when cache-ref names only a repository. */
export const DEFAULT_CACHE_TAG = 'buildcache';
/** BuildKit secret id that carries go-netrc; mount it at /root/.netrc in the Dockerfile. */
export const NETRC_SECRET_ID = 'netrc';
/**
 * Annotations on every manifest the action writes into the cache repository itself (fingerprints, Go cache
 * images, their stats): when it was written and by which repository. `cache-cleanup` reads them to tell a scope's
 * last write and whose it is, since the registry API has no dates.
 */
export const CacheAnnotations = {
  created: 'org.opencontainers.image.created',
  repository: 'dev.go-buildx-action.repository',
} as const;
/** Label on every container and builder the action starts, so strays can be found. */
export const OWNER_LABEL = 'io.github.go-buildx-action';
/** Label carrying the run key, so the post step removes exactly this run's strays. */
export const RUN_LABEL = `${OWNER_LABEL}.run`;
