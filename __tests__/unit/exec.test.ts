// The one exec wrapper, on @actions/exec, with real processes: output capture,
// the failure tail, a missing command, stdin, and the cancellation path that
// finds our children by parent pid because the library does not hand them out.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childPids, ExecError, run, signalChildren, startDetached } from '../../src/exec.js';

describe('run (on @actions/exec)', () => {
  it('captures stdout and stderr whole, multi-byte characters included', async () => {
    const r = await run('sh', ['-c', 'printf "héllo "; printf "wörld\\n"; echo oops >&2']);
    expect(r).toEqual({ exitCode: 0, stdout: 'héllo wörld\n', stderr: 'oops\n' });
  });

  it('passes input on stdin, and gives an empty stdin when there is none', async () => {
    expect((await run('cat', [], { input: 'piped' })).stdout).toBe('piped');
    expect((await run('cat', [])).stdout).toBe('');
  });

  it('a command that exits without reading its input is no crash (no EPIPE), and keeps its exit code', async () => {
    for (let i = 0; i < 20; i++) {
      expect((await run('sh', ['-c', 'exit 5'], { input: 'x'.repeat(256 * 1024), allowFailure: true })).exitCode).toBe(5);
      expect((await run('true', [])).exitCode).toBe(0);
    }
  });

  it('arguments reach the command as they are: spaces, quotes, $ and globs', async () => {
    const args = ['a b', '"q"', "'s'", '$HOME', '*', '', '-n'];
    expect((await run('printf', ['%s|', ...args])).stdout).toBe(`${args.join('|')}|`);
  });

  it('a failure throws with the command, the exit code and the stderr tail; allowFailure returns it', async () => {
    const err = await run('sh', ['-c', 'echo one >&2; echo two >&2; exit 3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).message).toBe('sh -c echo one >&2; echo two >&2; exit 3 failed with exit code 3:\none\ntwo');
    expect((await run('sh', ['-c', 'exit 4'], { allowFailure: true })).exitCode).toBe(4);
  });

  it('a command that does not exist is exit code 127 with the reason', async () => {
    const r = await run('no-such-command-gba', [], { allowFailure: true });
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/no-such-command-gba/);
  });

  it('cancellation finds the running children by parent pid and stops them', async () => {
    const pending = run('sleep', ['30'], { allowFailure: true });
    let pids: number[] = [];
    for (let i = 0; i < 50 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      pids = childPids().filter((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep\0'));
    }
    expect(pids).toHaveLength(1);
    expect(signalChildren('SIGTERM')).toBeGreaterThanOrEqual(1);
    const r = await pending;
    expect(r.exitCode).toBe(143);
    expect(childPids()).not.toContain(pids[0]);
  });
});

describe('startDetached', () => {
  it('returns while the command still runs, which then finishes on its own; its words are never shell script', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-detached-'));
    const done = path.join(dir, 'done');
    const t0 = Date.now();
    await startDetached('sh', ['-c', 'sleep 0.5; echo "$1" > "$2"', 'sh', 'x; touch injected', done]);
    expect(Date.now() - t0, 'not waited for').toBeLessThan(400);
    expect(fs.existsSync(done)).toBe(false);
    for (let i = 0; i < 50 && !fs.existsSync(done); i++) await new Promise((r) => setTimeout(r, 100));
    expect(fs.readFileSync(done, 'utf8')).toBe('x; touch injected\n');
    expect(fs.existsSync(path.join(process.cwd(), 'injected'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
