// The one place that starts processes. Every command is logged at debug level
// with its argv, and failures carry the command, exit code and stderr tail.
import * as actionsExec from '@actions/exec';
import * as core from '@actions/core';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Text written to the child's stdin. */
  input?: string;
  /** Do not echo output to the log (the default: callers decide what to show). */
  echo?: boolean;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class ExecError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    const tail = lastLines(result.stderr || result.stdout, 20);
    super(`${command} failed with exit code ${result.exitCode}${tail ? `:\n${tail}` : ''}`);
    this.name = 'ExecError';
  }
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const display = [cmd, ...args].join(' ');
  core.debug(`exec: ${JSON.stringify([cmd, ...args])}`);
  const env = opts.env ? { ...(process.env as Record<string, string>), ...opts.env } : undefined;
  const result = await actionsExec.getExecOutput(cmd, args, {
    cwd: opts.cwd,
    env,
    input: opts.input !== undefined ? Buffer.from(opts.input) : undefined,
    silent: !opts.echo,
    ignoreReturnCode: true,
    listeners: {
      stdout: opts.onStdout ? (b: Buffer) => opts.onStdout!(b.toString('utf8')) : undefined,
      stderr: opts.onStderr ? (b: Buffer) => opts.onStderr!(b.toString('utf8')) : undefined,
    },
  });
  if (result.exitCode !== 0 && !opts.allowFailure) {
    throw new ExecError(display, result);
  }
  return result;
}
