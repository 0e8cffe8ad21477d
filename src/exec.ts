// The one place that starts processes. Every command is logged at debug level
// with its argv; failures carry the command, exit code and stderr tail. Live
// children are tracked so that a cancelled run can stop them (a buildx client
// that outlives the action would keep the build running).
import { type ChildProcess, spawn } from 'node:child_process';
import * as core from '@actions/core';
import { printUntrusted } from './untrusted.js';

export interface RunOptions {
  /** Text written to the child's stdin. */
  input?: string;
  /** Echo output to the log, as untrusted text (by default callers decide what to show). */
  echo?: boolean;
  /** Return the result instead of throwing on a non-zero exit or a missing command. */
  allowFailure?: boolean;
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

/** The last lines of a failed command's output, on one line, for an error message. */
export function failureTail(res: RunResult, n = 3): string {
  return lastLines(res.stderr || res.stdout, n)
    .split('\n')
    .join(' ');
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

const live = new Set<ChildProcess>();

/** Signals every running child; returns how many there were. */
export function signalChildren(signal: NodeJS.Signals): number {
  for (const c of live) c.kill(signal);
  return live.size;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const display = [cmd, ...args].join(' ');
  core.debug(`exec: ${JSON.stringify([cmd, ...args])}`);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      stdout += s;
      if (opts.echo) printUntrusted(s.replace(/\r?\n$/, ''));
    });
    child.stderr.on('data', (s: string) => {
      stderr += s;
      opts.onStderr?.(s);
      if (opts.echo) printUntrusted(s.replace(/\r?\n$/, ''));
    });
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      const exitCode = spawnError ? 127 : (code ?? 128 + (signal ? 15 : 0));
      const result = { exitCode, stdout, stderr: spawnError ? `${stderr}${spawnError.message}` : stderr };
      if (exitCode !== 0 && !opts.allowFailure) reject(new ExecError(display, result));
      else resolve(result);
    });
    child.stdin.on('error', () => undefined); // a child that exits before reading its input
    child.stdin.end(opts.input ?? '');
  });
}
