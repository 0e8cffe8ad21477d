// Where the build reads from: the context and the Dockerfile (or the built-in
// one), both inside the workspace with symlinks resolved.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inputs } from '../constants.js';
import { InputError, type Reader, type ZeroConfigOptions } from './types.js';
import { parseZeroConfig } from './inputs.js';

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The path with every symlink resolved, as far as it exists (a missing tail is kept as written). */
function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realPath(parent), path.basename(p));
  }
}

/** True when p, with symlinks resolved, is inside the workspace (also resolved). */
export function inWorkspace(workspace: string, p: string): boolean {
  return isInside(realPath(workspace), realPath(p));
}

export interface Source {
  workspace: string;
  context: string;
  file: string;
  zeroConfig?: ZeroConfigOptions;
}

/**
 * context and file, inside the workspace (symlinks resolved): the lint, the Go
 * cache keys and the sizes read them, and a workflow input must not point the
 * action at the runner's other files. No Dockerfile but a go.mod: the built-in one.
 */
export function parseSource(read: Reader, workspace: string, merge: boolean): Source {
  const contextRaw = read(Inputs.context).trim() || '.';
  if (/^[a-z]+:\/\//i.test(contextRaw) || contextRaw.startsWith('git@')) {
    throw new InputError(
      Inputs.context,
      contextRaw,
      'is a remote context, which this action does not support',
      'a directory in the workspace',
    );
  }
  const context = path.resolve(workspace, contextRaw);
  const fileRaw = read(Inputs.file).trim();
  const file = fileRaw ? path.resolve(workspace, fileRaw) : path.join(context, 'Dockerfile');
  // A merge builds nothing: its context and file are never read.
  if (merge) return { workspace, context, file };
  if (!inWorkspace(workspace, context)) {
    throw new InputError(Inputs.context, contextRaw, `is outside the workspace ${workspace}`, 'a directory in the workspace');
  }
  if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) {
    throw new InputError(Inputs.context, contextRaw, `is not a directory (looked at ${context})`, 'a directory in the workspace');
  }
  const shown = fileRaw || path.relative(workspace, file);
  if (!inWorkspace(workspace, file)) {
    throw new InputError(Inputs.file, shown, `is outside the workspace ${workspace}`, 'a Dockerfile inside the workspace');
  }
  const zeroConfig =
    !fileRaw && !fs.existsSync(file) && fs.existsSync(path.join(context, 'go.mod')) ? parseZeroConfig(read, context) : undefined;
  if (!zeroConfig && (!fs.existsSync(file) || !fs.statSync(file).isFile())) {
    throw new InputError(
      Inputs.file,
      shown,
      `does not exist (looked at ${file})`,
      'the path of a Dockerfile, relative to the workspace; default <context>/Dockerfile, or none at all when the context holds a go.mod (the built-in Dockerfile is used)',
    );
  }
  return { workspace, context, file, zeroConfig };
}
