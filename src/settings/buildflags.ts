// docker/build-push-action's remaining inputs, with its names, list syntax
// and meaning, so that a workflow moves over without changing a line. Most
// are passed to `buildx build` as they are; the secret ones are masked first.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inputs } from '../constants.js';
import { inWorkspace } from './paths.js';
import { type BuildFlags, InputError, type Mask, type Reader } from './types.js';
import { maskValue, optional, parseBool, parseList } from './values.js';

const ID_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * `id=VALUE` entries of secret-envs and secret-files; errors name the entry, never a value.
 * As in build-push-action, secret-envs may also be comma-separated; a file path may hold a comma.
 */
function idPairs(read: Reader, name: string, what: string): { id: string; ref: string }[] {
  const entries = parseList(read(name), { commas: name === Inputs.secretEnvs }).filter((e) => e !== '');
  return entries.map((e, i) => {
    const eq = e.indexOf('=');
    const id = eq > 0 ? e.slice(0, eq).trim() : '';
    const ref = eq > 0 ? e.slice(eq + 1).trim() : '';
    if (!ID_RE.test(id) || ref === '') {
      throw new InputError(
        name,
        `<entry ${i + 1} of ${entries.length}>`,
        `is not id=${what}`,
        `one id=${what} per line, e.g. github_token=${what === 'ENV' ? 'GITHUB_TOKEN' : 'secrets/token.txt'}`,
      );
    }
    return { id, ref };
  });
}

/** secret-envs and secret-files as build-push-action takes them; the values they point at are masked here. */
export function parseSecretRefs(read: Reader, env: NodeJS.ProcessEnv, workspace: string, mask: Mask): string[] {
  const out: string[] = [];
  for (const { id, ref } of idPairs(read, Inputs.secretEnvs, 'ENV')) {
    const value = env[ref];
    if (value === undefined)
      throw new InputError(
        Inputs.secretEnvs,
        `${id}=${ref}`,
        `names the environment variable ${ref}, which is not set`,
        'id=ENV with ENV set for this step (env: in the workflow)',
      );
    maskValue(mask, value);
    out.push(`id=${id},env=${ref}`);
  }
  for (const { id, ref } of idPairs(read, Inputs.secretFiles, 'PATH')) {
    const file = path.resolve(workspace, ref);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new InputError(
        Inputs.secretFiles,
        `${id}=${ref}`,
        `names ${file}, which is not a file`,
        'id=PATH with PATH a file, relative to the workspace or absolute',
      );
    }
    maskValue(mask, fs.readFileSync(file, 'utf8'));
    out.push(`id=${id},src=${file}`);
  }
  return out;
}

function list(read: Reader, name: string): string[] {
  return parseList(read(name), { commas: true }).filter((e) => e !== '');
}

export function parseBuildFlags(read: Reader, env: NodeJS.ProcessEnv, workspace: string, mask: Mask): BuildFlags {
  // The secret values first: masked before any other input here can fail or print.
  const secretRefs = parseSecretRefs(read, env, workspace, mask);
  const buildContexts = parseList(read(Inputs.buildContexts), { commas: false });
  for (const c of buildContexts) {
    const eq = c.indexOf('=');
    if (eq <= 0 || eq === c.length - 1) {
      throw new InputError(
        Inputs.buildContexts,
        c,
        'is not name=source',
        'one name=source per line: a directory, docker-image://…, oci-layout://… or a URL',
      );
    }
    const source = c.slice(eq + 1);
    // A local directory must stay inside the workspace, as the context must.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !inWorkspace(workspace, path.resolve(workspace, source))) {
      throw new InputError(
        Inputs.buildContexts,
        c,
        `names a directory outside the workspace ${workspace}`,
        'a directory in the workspace, or docker-image://, oci-layout://, a URL',
      );
    }
  }
  const call = optional(read, Inputs.call);
  if (call !== undefined && !/^[a-z][a-z0-9-]*(,[a-z]+=[a-z0-9]+)*$/.test(call)) {
    throw new InputError(Inputs.call, call, 'is not a method', 'build, check, outline or targets');
  }
  return {
    // Hosts are host:ip or host=ip (build-push-action accepts both); comma-separated or one per line.
    addHosts: list(read, Inputs.addHosts),
    allow: list(read, Inputs.allow),
    annotations: parseList(read(Inputs.annotations), { commas: false }),
    attests: parseList(read(Inputs.attests), { commas: false }),
    buildContexts,
    call: call === 'build' ? undefined : call,
    cgroupParent: optional(read, Inputs.cgroupParent),
    noCache: parseBool(read, Inputs.noCache, false),
    noCacheFilters: list(read, Inputs.noCacheFilters),
    pull: parseBool(read, Inputs.pull, false),
    shmSize: optional(read, Inputs.shmSize),
    ssh: parseList(read(Inputs.ssh), { commas: false }),
    ulimit: parseList(read(Inputs.ulimit), { commas: false }),
    secretRefs,
    outputs: parseList(read(Inputs.outputs), { commas: false }),
    load: parseBool(read, Inputs.load, false),
  };
}
