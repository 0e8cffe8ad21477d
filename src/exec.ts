// The one place that starts processes, through @actions/exec. Every command is
// logged at debug level with its argv; failures carry the command, exit code
// and stderr tail. A cancelled run stops the running children (a buildx client
// that outlives the action would keep the build running).
import * as out from './output.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import * as exec from '@actions/exec';

export interface RunOptions {
  /** Text written to the child's stdin. */
  input?: string;
  /** Echo output to the log, as untrusted text (by default callers decide what to show). */
  echo?: boolean;
  /** Return the result instead of throwing on a non-zero exit or a missing command. */
  allowFailure?: boolean;
  onStderr?: (chunk: string) => void;
  /** Extra environment for this command (e.g. COSIGN_PASSWORD), over the action's own. */
  env?: Record<string, string>;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** A stream was longer than MAX_CAPTURE: only its last MAX_CAPTURE characters are kept. */
  truncated?: boolean;
}

/**
 * What is kept of one stream of one command (trust, round 2, item 13): a build, a container or a registry
 * decides how much it prints, and the action must not hold all of it. The last part is kept, which is where
 * a failure's reason is; streaming callers (onStderr) see every chunk regardless.
 */
export const MAX_CAPTURE = 16 * 1024 * 1024;

/** Appends to a captured stream, keeping at most `max` characters (the newest). */
export function capped(kept: string, more: string, max = MAX_CAPTURE): { text: string; cut: boolean } {
  const text = kept + more;
  return text.length > max ? { text: text.slice(text.length - max), cut: true } : { text, cut: false };
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

/**
 * Our running children, by parent pid. @actions/exec does not hand out the
 * ChildProcess, so a cancelled run finds them in /proc (Linux, where the
 * engine runs; elsewhere there is nothing to find and nothing is signalled).
 */
export function childPids(procRoot = '/proc', parent = process.pid): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(procRoot);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
      const stat = fs.readFileSync(path.join(procRoot, e, 'stat'), 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Signals every running child; returns how many there were. */
export function signalChildren(signal: NodeJS.Signals): number {
  const pids = childPids();
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
  return pids.length;
}

function definedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * Starts a command that outlives the action: no pipes, not waited for, its result unread. Only for work
 * whose end something else makes sure of (a removal the post step checks). A shell starts it in the
 * background with its streams on /dev/null and exits at once; the command's words are the shell's
 * arguments, never part of its script.
 */
export async function startDetached(cmd: string, args: string[]): Promise<void> {
  await run('sh', ['-c', '"$@" </dev/null >/dev/null 2>&1 &', 'sh', cmd, ...args], { allowFailure: true });
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const display = [cmd, ...args].join(' ');
  out.debug(`exec: ${JSON.stringify([cmd, ...args])}`);
  let stdout = '';
  let stderr = '';
  let truncated = false;
  // Decoders, so that a multi-byte character split across two chunks is not mangled.
  const outText = new StringDecoder('utf8');
  const errText = new StringDecoder('utf8');
  const onStdout = (s: string) => {
    const c = capped(stdout, s);
    stdout = c.text;
    truncated ||= c.cut;
    if (opts.echo && s) out.info(s.replace(/\r?\n$/, ''));
  };
  const onStderr = (s: string) => {
    const c = capped(stderr, s);
    stderr = c.text;
    truncated ||= c.cut;
    if (s) opts.onStderr?.(s);
    if (opts.echo && s) out.info(s.replace(/\r?\n$/, ''));
  };
  let exitCode: number;
  // Input goes through a file that the child reads as its stdin (see below); a private directory, removed after.
  const inputDir = opts.input === undefined ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'gba-stdin-'));
  try {
    let stdin = '/dev/null';
    if (inputDir) {
      stdin = path.join(inputDir, 'stdin');
      fs.writeFileSync(stdin, opts.input ?? '', { mode: 0o600 });
    }
    // Through a shell, so that the command's stdin is a file, never a pipe that this process writes
    // to: @actions/exec writes `input` to the child's stdin with no error listener, so a child that
    // exits before reading would crash the action with EPIPE (the race of sindresorhus/execa#474).
    // `exec` keeps the command's own pid (for cancellation) and exit code.
    const code: number | null = await exec.exec('sh', ['-c', 'exec "$@" <"$GBA_STDIN"', 'sh', cmd, ...args], {
      // The library would print the command line and the output as they come: this wrapper decides what is shown.
      silent: true,
      ignoreReturnCode: true,
      env: { ...definedEnv(), ...opts.env, GBA_STDIN: stdin },
      listeners: { stdout: (b: Buffer) => onStdout(outText.write(b)), stderr: (b: Buffer) => onStderr(errText.write(b)) },
    });
    // null: ended by a signal (a cancelled run).
    exitCode = code ?? 143;
  } catch (err) {
    // sh itself could not be started.
    exitCode = 127;
    stderr += (err as Error).message;
  } finally {
    if (inputDir) fs.rmSync(inputDir, { recursive: true, force: true });
  }
  onStdout(outText.end());
  onStderr(errText.end());
  if (truncated) out.info(`${cmd} printed more than ${MAX_CAPTURE / 1024 / 1024} MiB on a stream; only the last part was kept`);
  const result = { exitCode, stdout, stderr, ...(truncated ? { truncated } : {}) };
  if (exitCode !== 0 && !opts.allowFailure) throw new ExecError(display, result);
  return result;
}
