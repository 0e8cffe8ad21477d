// The file written by `buildx build --metadata-file`.
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BuildMetadata {
  raw: Record<string, unknown>;
  /** Index digest for multi-platform builds, else the manifest digest. */
  digest?: string;
  /** docker/build-push-action's imageid: the config digest; see parseMetadata. */
  imageId?: string;
  descriptor?: Descriptor;
  buildRef?: string;
  imageNames: string[];
}

export function parseMetadata(text: string): BuildMetadata {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  const digest = str('containerimage.digest');
  const names = str('image.name');
  return {
    raw,
    digest,
    // With the containerd image store buildx drops containerimage.config.digest,
    // and the engine's image ID is then the index digest (docker image inspect
    // .Id shows it), so that is what imageid falls back to.
    imageId: str('containerimage.config.digest') ?? digest,
    descriptor: raw['containerimage.descriptor'] as Descriptor | undefined,
    buildRef: str('buildx.build.ref'),
    imageNames: names
      ? names
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
      : [],
  };
}
