// The image-reference grammar: what a tag, a cache ref or an image name may
// hold, how it splits into repository and tag, and which registry host it
// lives on (with Docker Hub's own rules).

// docker/distribution reference grammar, reduced to what a tag or cache ref
// may hold here: lowercase path components, optional host[:port], optional tag.
const HOST = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const REPO_RE = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);

/** Splits "repo[:tag]" where the repo may contain a host:port. */
export function splitRef(ref: string): { repository: string; tag?: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref };
}

/**
 * The repository part of a reference lowercased, the tag kept as written: `ghcr.io/${{ github.repository }}`
 * holds the owner's capitals, registries refuse them, and GitHub expressions have no lower().
 */
export function lowercaseRepository(ref: string): string {
  const { repository, tag } = splitRef(ref);
  return tag === undefined ? repository.toLowerCase() : `${repository.toLowerCase()}:${tag}`;
}

/** The repository of an image reference: host and path, without tag or digest. */
export function repositoryOf(ref: string): string {
  return splitRef(ref.replace(/@sha256:[a-f0-9]{64}$/, '')).repository;
}

export function isValidImageRef(ref: string): boolean {
  if (ref.includes('@')) {
    const [name, digest] = ref.split('@', 2);
    return /^sha256:[a-f0-9]{64}$/.test(digest) && isValidImageRef(name);
  }
  const { repository, tag } = splitRef(ref);
  return REPO_RE.test(repository) && (tag === undefined || TAG_RE.test(tag));
}

/**
 * A registry's (or BuildKit's, or buildx's) words for a ref that does not
 * exist, as opposed to a registry that cannot be reached or refuses access.
 */
export function isMissingRef(message: string): boolean {
  return /: not found\b|manifest unknown|name unknown|\b404\b/i.test(message);
}

/** Docker Hub's API host, and the key its credentials are stored under in config.json. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface Registry {
  /** The host the registry API is on: registry-1.docker.io for Docker Hub names. */
  host: string;
  /** The repository path on that host: library/alpine for "alpine". */
  path: string;
  /** https://host, or http:// for a loopback registry, as the docker CLI does. */
  base: string;
  /** Where the docker CLI keeps this registry's credentials in config.json. */
  authKey: string;
}

/** "ghcr.io/acme/api" → host and path; "acme/api", "docker.io/acme/api" and "index.docker.io/acme/api" are Docker Hub. */
export function registryOf(repository: string): Registry {
  const first = repository.split('/')[0];
  const hasHost = repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const named = hasHost ? first : 'docker.io';
  const hub = named === 'docker.io' || named === 'index.docker.io' || named === DOCKER_HUB_HOST;
  let p = hasHost ? repository.slice(first.length + 1) : repository;
  if (hub && !p.includes('/')) p = `library/${p}`;
  const host = hub ? DOCKER_HUB_HOST : named;
  const plain = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
  return { host, path: p, base: `${plain ? 'http' : 'https'}://${host}`, authKey: hub ? DOCKER_HUB_AUTH_KEY : host };
}
