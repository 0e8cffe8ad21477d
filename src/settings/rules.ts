// The rules between inputs: combinations that each input allows alone but
// that cannot work together. Each throws an InputError naming the input that
// has to change.
import { Inputs } from '../constants.js';
import { lowercaseRepository, repositoryOf } from '../ref.js';
import { InputError } from './types.js';
import { parseList } from './values.js';

export interface Publishing {
  tags: string[];
  push: boolean;
  image?: string;
  pushByDigest: boolean;
  merge: boolean;
  digests: string[];
}

export function checkPublishing(p: Publishing): void {
  const named = p.tags.length > 0 || p.image !== undefined;
  if (p.push && !named) {
    throw new InputError(
      Inputs.push,
      'true',
      'needs at least one entry in "tags", or an "image" name for default tags',
      'push: true together with tags or image, or push: false',
    );
  }
  if (p.pushByDigest && p.merge) {
    throw new InputError(
      Inputs.pushByDigest,
      'true',
      'cannot be combined with merge: true (a job either pushes one platform by digest, or merges the digests)',
      'push-by-digest in the build jobs, merge in the final job',
    );
  }
  if (p.pushByDigest && !p.push) {
    throw new InputError(
      Inputs.pushByDigest,
      'true',
      'needs push: true, since pushing by digest is a kind of push',
      'push: true with push-by-digest: true',
    );
  }
  if (p.merge && p.digests.length === 0) {
    throw new InputError(
      Inputs.merge,
      'true',
      'needs the per-platform digests in "digests"',
      'the digest outputs of the push-by-digest jobs',
    );
  }
  if (!p.merge && p.digests.length > 0) {
    throw new InputError(Inputs.digests, p.digests[0], 'is only used with merge: true', 'merge: true with digests, or no digests');
  }
  if (p.merge && !named) {
    throw new InputError(
      Inputs.merge,
      'true',
      'needs "tags" (or an "image" name for default tags) for the merged index',
      'merge: true with tags or image',
    );
  }
}

/** Where the image goes, as `outputs`, `call` and `load` decide it, against what else was asked. */
export function checkOutputs(
  f: { outputs: string[]; call?: string; load: boolean },
  p: Pick<Publishing, 'push' | 'pushByDigest' | 'merge'>,
  maxImageSize: number | undefined,
): void {
  if (f.outputs.length > 0) {
    for (const [name, on] of [
      [Inputs.push, p.push],
      [Inputs.pushByDigest, p.pushByDigest],
      [Inputs.merge, p.merge],
      [Inputs.load, f.load],
    ] as const) {
      if (on) {
        throw new InputError(
          Inputs.outputs,
          f.outputs[0],
          `cannot be combined with ${name}: true (outputs decides where the image goes)`,
          `outputs alone, or ${name} without outputs`,
        );
      }
    }
    if (maxImageSize !== undefined) {
      throw new InputError(
        Inputs.maxImageSize,
        String(maxImageSize),
        'needs the image in the engine or a registry, which outputs replaces',
        'no max-image-size with outputs',
      );
    }
  }
  if (f.call && (p.push || p.pushByDigest || maxImageSize !== undefined)) {
    throw new InputError(
      Inputs.call,
      f.call,
      `builds no image, so there is nothing to ${maxImageSize !== undefined ? 'measure (max-image-size)' : 'push'}`,
      'call without push, push-by-digest and max-image-size, or call: build',
    );
  }
}

/**
 * Only what is in the registry can be signed: sign and attest-smoke need a push (or a merge). attest-smoke
 * needs a smoke result where it is made: not with smoke-test: false, not in the merge job (the build jobs
 * attest their own digests).
 */
export function checkSigning(
  s: { sign: boolean; attestSmoke: boolean; attestProvenance: boolean },
  p: Pick<Publishing, 'push' | 'merge'>,
  smokeEnabled = true,
): void {
  if (s.attestSmoke && p.merge) {
    throw new InputError(
      Inputs.attestSmoke,
      'true',
      'has no smoke result to attest in the merge job: each build job tested its own platform',
      'attest-smoke: true in the push-by-digest build jobs (each attests the digest it pushed), sign: true in the merge job',
    );
  }
  if (s.attestSmoke && !smokeEnabled) {
    throw new InputError(
      Inputs.attestSmoke,
      'true',
      'needs a smoke result, and smoke-test is false',
      'smoke-test: true with attest-smoke: true',
    );
  }
  for (const [name, on] of [
    [Inputs.sign, s.sign],
    [Inputs.attestSmoke, s.attestSmoke],
    [Inputs.attestProvenance, s.attestProvenance],
  ] as const) {
    if (on && !p.push && !p.merge) {
      throw new InputError(
        name,
        'true',
        'needs push: true (or merge: true): only what is in the registry can be signed or attested',
        `push: true with ${name}`,
      );
    }
  }
}

/** The attributes docker's push-by-digest recipe writes in `outputs`, and nothing else. */
const RECIPE_ATTRS = new Set(['type', 'name', 'push', 'push-by-digest', 'name-canonical']);

/**
 * Docker's "distribute the build across runners" recipe pushes by digest through `outputs`
 * (`type=image,name=…,push-by-digest=true,name-canonical=true,push=true`). Taken as it is, BuildKit would
 * push the digest before the smoke test, so it runs as this action's push-by-digest, which tests the image
 * first. The repository is the output's `name`, else `image`, else the first tag's. Any other attribute
 * keeps `outputs` as written (the user's outputs decide, and nothing is tested).
 */
export function outputsAsPushByDigest(outputs: string[], p: Publishing): { publishing: Publishing; outputs: string[]; note?: string } {
  if (outputs.length !== 1) return { publishing: p, outputs };
  // The list parser has already unquoted `"name=a,b"`: a part with no `=` continues the value before it.
  const attrs = new Map<string, string>();
  let last: string | undefined;
  for (const part of parseList(outputs[0], { commas: true })) {
    const eq = part.indexOf('=');
    if (eq === -1 && last !== undefined) attrs.set(last, `${attrs.get(last)},${part}`);
    else attrs.set((last = eq === -1 ? part : part.slice(0, eq)), eq === -1 ? '' : part.slice(eq + 1));
  }
  const recipe =
    ['image', 'registry'].includes(attrs.get('type') ?? '') &&
    attrs.get('push-by-digest') === 'true' &&
    (attrs.get('push') === 'true' || attrs.get('type') === 'registry') &&
    [...attrs.keys()].every((k) => RECIPE_ATTRS.has(k));
  if (!recipe) return { publishing: p, outputs };
  const named = attrs.get('name')?.split(',')[0] || p.image || (p.tags[0] && repositoryOf(p.tags[0]));
  if (!named) {
    throw new InputError(Inputs.outputs, outputs[0], 'pushes by digest but names no repository', 'name=<repository> in outputs, or image');
  }
  const image = lowercaseRepository(repositoryOf(named));
  const publishing = { ...p, image, push: true, pushByDigest: true };
  checkPublishing(publishing);
  return {
    publishing,
    outputs: [],
    note: `${Inputs.outputs}: ${outputs[0]} is docker's push-by-digest recipe: it runs as ${Inputs.pushByDigest}: true to ${image}, so the digest is smoke-tested before it is pushed`,
  };
}
