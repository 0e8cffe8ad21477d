// The build's fingerprint: a hash of everything that decides whether a step of
// the Dockerfile runs again, as far as the runner can see it: the context files
// BuildKit receives (after .dockerignore), the Dockerfile, the build args, the
// target, the platforms and the named build contexts. It is stored next to the
// layer cache ref it was exported with, as a small marker manifest that also
// names that ref's digest. When a later run has the same fingerprint and the
// ref still has that digest, every step comes from the layer cache, no step
// mounts the Go caches, and restoring them would only cost time.
//
// The images it builds from are in it too (layercache/basedigests.ts): their registry digests and the
// engine's image IDs, so a base-image bump or a nightly rebuild of the base restores the Go caches.
import * as fs from 'node:fs';
import * as path from 'node:path';
import dockerignoreModule from '@balena/dockerignore';

// The package is CommonJS (`module.exports = factory`) typed as an ES default export.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;
import { sha } from '../settings/names.js';

export interface FingerprintInputs {
  dockerfile: string;
  buildArgs: string[];
  target?: string;
  platforms: string[];
  buildContexts: string[];
  /** relative path → content hash (or link target) of each file the context sends. */
  files: Record<string, string>;
  /** What each image the Dockerfile builds from is (basedigests.ts baseLines). */
  bases: string[];
}

/** Pure: the fingerprint of the inputs (order of platforms and files does not matter; of build args it does). */
export function fingerprintOf(i: FingerprintInputs): string {
  const files = Object.keys(i.files)
    .sort()
    .map((f) => `${f}\0${i.files[f]}`);
  return sha(
    [
      'go-buildx-fingerprint/v2',
      sha(i.dockerfile),
      JSON.stringify(i.buildArgs),
      i.target ?? '',
      JSON.stringify([...i.platforms].sort()),
      JSON.stringify(i.buildContexts),
      JSON.stringify([...i.bases].sort()),
      ...files,
    ].join('\n'),
  ).slice(0, 32);
}

/** The ignore file BuildKit uses: `<Dockerfile>.dockerignore` next to the Dockerfile wins over the context's. */
export function dockerignoreText(context: string, dockerfile: string): string {
  for (const f of [`${dockerfile}.dockerignore`, path.join(context, '.dockerignore')]) {
    if (fs.existsSync(f)) return fs.readFileSync(f, 'utf8');
  }
  return '';
}

/** Patterns of a .dockerignore: comments and blank lines dropped, as the Docker CLI reads it. */
export function ignorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Every file of the context that BuildKit receives, with a hash of its content and its executable bit
 * (a symlink: its target). An ignored directory is not entered unless an exception (`!…`) could reach into it.
 */
export function contextFiles(context: string, patterns: string[]): Record<string, string> {
  const ig = dockerignore({ ignorecase: false }).add(patterns);
  const exceptions = patterns.some((p) => p.startsWith('!'));
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(context, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(context, r);
      const ignored = ig.ignores(r);
      if (entry.isDirectory()) {
        if (!ignored || exceptions) walk(r);
      } else if (!ignored) {
        if (entry.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(full)}`;
        else if (entry.isFile()) out[r] = `${fs.statSync(full).mode & 0o111 ? 'x' : '-'}${sha(fs.readFileSync(full))}`;
      }
    }
  };
  walk('');
  return out;
}
