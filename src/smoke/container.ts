// Runs one platform's container and probes it until it is healthy, it fails,
// or smoke-timeout runs out. The container is always removed.
import * as out from '../output.js';
import * as net from 'node:net';
import { failureTail, run } from '../exec.js';
import { OWNER_LABEL, RUN_LABEL } from '../constants.js';
import type { SmokeSettings } from '../settings/types.js';
import { doneWith, inBackground, noteContainer } from '../tracked.js';
import { describeProbe, parsePortOutput, type Probe, statusMatches } from './probe.js';

export interface PlatformSmoke {
  platform: string;
  passed: boolean;
  skipped?: boolean;
  probe: string;
  attempts: number;
  /** Milliseconds from container start to the first passing probe. */
  ms: number | null;
  /** Milliseconds spent on this platform, pass or fail. */
  elapsedMs: number;
  /** What the last failing attempt saw. */
  detail?: string;
  logs?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One platform's smoke test. */
export interface SmokeRun {
  ref: string;
  platform: string;
  probe: Probe;
  settings: SmokeSettings;
  /** Label value that marks this run's containers. */
  runKey: string;
  /** "never" for an image the engine holds, "missing" for one staged in a registry. */
  pull: 'never' | 'missing';
}

export function runArgs({ ref, platform, probe, settings: s, runKey, pull }: SmokeRun): string[] {
  const argv = [
    'run',
    '--detach',
    '--platform',
    platform,
    '--pull',
    pull,
    '--label',
    `${OWNER_LABEL}=smoke`,
    '--label',
    `${RUN_LABEL}=${runKey}`,
  ];
  if (s.network) argv.push('--network', s.network);
  for (const h of s.addHosts) argv.push('--add-host', h);
  // Loopback only, on a port the engine picks, so parallel jobs never collide. On the host's network the
  // container's port is the host's own (and platforms run one after the other).
  if ((probe.kind === 'http' || probe.kind === 'tcp') && s.network !== 'host') argv.push('--publish', `127.0.0.1::${probe.port}`);
  for (const e of s.env) argv.push('--env', e);
  argv.push(ref, ...s.args);
  return argv;
}

interface Attempt {
  ok: boolean;
  detail: string;
  /** Nothing answered yet (refused or reset: the server is not up): the next attempt comes sooner. */
  noAnswer?: boolean;
}

interface ContainerState {
  running: boolean;
  exitCode: number;
  status: string;
}

async function containerState(id: string): Promise<ContainerState> {
  const res = await run('docker', ['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}', id], {
    allowFailure: true,
  });
  const [status, running, code] = res.stdout.trim().split(' ');
  return { status: status ?? 'unknown', running: running === 'true', exitCode: Number(code ?? -1) };
}

/** Checks of the container's state at most this often while a probe is failing. */
const STATE_EVERY_MS = 100;

/**
 * The container's state, checked beside the probe rather than between its attempts: a `docker inspect`
 * takes 30-80 ms here, longer than the pause between two attempts on a port nothing answers yet, and the
 * emulated platform's server comes up while it runs. `latest` gives the last state seen and starts the
 * next check when none is under way (and the last one began STATE_EVERY_MS ago); an exited container is
 * then seen one check later.
 */
function stateWatch(id: string): { latest(): ContainerState | undefined; settled(): Promise<void> } {
  let seen: ContainerState | undefined;
  let inFlight: Promise<void> | undefined;
  let began = 0;
  return {
    latest() {
      if (!inFlight && Date.now() - began >= STATE_EVERY_MS) {
        began = Date.now();
        inFlight = containerState(id).then((st) => {
          seen = st;
          inFlight = undefined;
        });
      }
      return seen;
    },
    settled: () => inFlight ?? Promise.resolve(),
  };
}

/** What is read of a probe's answer, and of each container log line (trust, round 2, item 13). */
export const MAX_BODY = 64 * 1024;
export const MAX_LOG_LINE = 2000;

/** At most `max` bytes of a response body, and whether there was more (the rest is not read). */
export async function readCapped(res: Response, max = MAX_BODY): Promise<{ text: string; cut: boolean }> {
  if (!res.body) return { text: '', cut: false };
  const reader = res.body.getReader();
  const chunks: Buffer[] = [];
  let n = 0;
  let cut = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    n += value.length;
    if (n > max) {
      cut = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return { text: Buffer.concat(chunks).subarray(0, max).toString('utf8'), cut };
}

/** Container log lines, each cut to MAX_LOG_LINE characters, saying so. */
export function capLogLines(text: string, max = MAX_LOG_LINE): string {
  return text
    .split('\n')
    .map((l) => (l.length > max ? `${l.slice(0, max)}… [${l.length - max} more characters cut]` : l))
    .join('\n');
}

async function httpAttempt(url: string, probe: Extract<Probe, { kind: 'http' }>, timeoutMs: number): Promise<Attempt> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, timeoutMs)), redirect: 'manual' });
    const read = await readCapped(res);
    // A body that goes on past MAX_BODY is judged on its first MAX_BODY bytes.
    const body = read.text;
    const excerpt = `${JSON.stringify(body.length > 200 ? `${body.slice(0, 200)}…` : body)}${read.cut ? ` (over ${MAX_BODY / 1024} KiB; the rest was not read)` : ''}`;
    if (!statusMatches(res.status, probe.status)) return { ok: false, detail: `status ${res.status}, body ${excerpt}` };
    if (probe.body && !body.includes(probe.body))
      return { ok: false, detail: `status ${res.status}, but the body ${excerpt} lacks ${JSON.stringify(probe.body)}` };
    return { ok: true, detail: `status ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { ok: false, detail: 'no answer (request timed out)' };
    return { ok: false, detail: `no answer (${e.cause?.code ?? e.message})`, noAnswer: true };
  }
}

/**
 * How long a connection must stay open to count. Docker's userland proxy (and rootlesskit's port driver)
 * accept on the published port whatever the container does, then close at once when nothing listens behind.
 */
const PROXY_HOLD_MS = 50;

/**
 * A refused TCP connect costs nothing, and a server comes up within tens of milliseconds of its process:
 * the TCP probe, and an HTTP probe that no server answered yet, poll at most every 50 ms rather than every
 * smoke-interval. An HTTP answer that fails the check waits smoke-interval, so a slow app is not hammered.
 */
export function pollInterval(probe: Probe, intervalMs: number, last?: { noAnswer?: boolean }): number {
  return probe.kind === 'tcp' || last?.noAnswer ? Math.min(intervalMs, 50) : intervalMs;
}

/** A TCP connect to the published port that is still open (or has sent data) PROXY_HOLD_MS later. */
export function tcpAttempt(host: string, port: number, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let timer: NodeJS.Timeout | undefined;
    const done = (a: Attempt) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      resolve(a);
    };
    timer = setTimeout(() => done({ ok: false, detail: 'no answer (connect timed out)' }), Math.max(100, timeoutMs));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, detail: `no answer (${e.code ?? e.message})` }));
    sock.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => done({ ok: true, detail: `port ${port} accepts connections` }), PROXY_HOLD_MS);
      sock.once('data', () => done({ ok: true, detail: `port ${port} accepts connections and speaks first` }));
      sock.once('end', () => done({ ok: false, detail: 'connection closed at once (nothing listens in the container yet)' }));
      sock.once('close', () => done({ ok: false, detail: 'connection closed at once (nothing listens in the container yet)' }));
    });
  });
}

async function execAttempt(id: string, argv: string[]): Promise<Attempt> {
  const res = await run('docker', ['exec', id, ...argv], { allowFailure: true });
  const out = failureTail(res, 2);
  return res.exitCode === 0
    ? { ok: true, detail: 'exit code 0' }
    : { ok: false, detail: `exit code ${res.exitCode}${out ? `: ${out}` : ''}` };
}

/** What `docker port` says the probe's port is published at, or why it is not (the container may have exited). */
async function publishedAt(id: string, port: number): Promise<{ host: string; port: number } | Attempt> {
  const res = await run('docker', ['port', id, `${port}/tcp`], { allowFailure: true });
  const addr = parsePortOutput(res.stdout, port);
  if (addr) return addr;
  // An exited container has no published ports: report the exit, not the port.
  const now = await containerState(id);
  return now.running
    ? { ok: false, detail: `port ${port} was not published (${(res.stderr || res.stdout).trim()})` }
    : { ok: false, detail: `the container exited with code ${now.exitCode} (${now.status})` };
}

/** One attempt of a probe that is not `alive`; `final` ends the attempts early (no published port). */
async function attemptOnce(
  id: string,
  probe: Exclude<Probe, { kind: 'alive' }>,
  addr: { current?: { host: string; port: number } },
  timeoutMs: number,
  hostNetwork: boolean,
): Promise<Attempt & { final?: boolean }> {
  if (probe.kind === 'cmd' || probe.kind === 'healthcheck') return execAttempt(id, probe.argv);
  if (!addr.current) {
    const found = hostNetwork ? { host: '127.0.0.1', port: probe.port } : await publishedAt(id, probe.port);
    if ('ok' in found) return { ...found, final: true };
    addr.current = found;
    const target = probe.kind === 'http' ? `http://${found.host}:${found.port}${probe.path}` : `tcp ${found.host}:${found.port}`;
    out.debug(`smoke ${id.slice(0, 12)}: probing ${target}`);
  }
  const { host, port } = addr.current;
  if (probe.kind === 'tcp') return tcpAttempt(host, port, timeoutMs);
  return httpAttempt(`http://${host}:${port}${probe.path}`, probe, timeoutMs);
}

export async function smokePlatform(sr: SmokeRun): Promise<PlatformSmoke> {
  const { platform, probe, settings: s } = sr;
  const result: PlatformSmoke = { platform, passed: false, probe: describeProbe(probe), attempts: 0, ms: null, elapsedMs: 0 };
  const begun = Date.now();
  noteContainer();
  const started = await run('docker', runArgs(sr), { allowFailure: true });
  if (started.exitCode !== 0) {
    result.detail = `the container did not start: ${(started.stderr || started.stdout).trim()}`;
    result.elapsedMs = Date.now() - begun;
    return result;
  }
  const id = started.stdout.trim();
  const t0 = Date.now();
  const deadline = t0 + s.timeoutMs;
  const watch = stateWatch(id);
  try {
    const addr: { current?: { host: string; port: number } } = {};
    let last: Attempt & { final?: boolean } = { ok: false, detail: 'no attempt finished before the timeout' };
    for (;;) {
      // A probe first; after a failed one, the container's state (a passing probe needs no other call). The
      // `alive` probe is that state, so it waits for it; the others read the last state seen (stateWatch).
      if (probe.kind !== 'alive') {
        result.attempts++;
        last = await attemptOnce(id, probe, addr, Math.min(2000, deadline - Date.now()), s.network === 'host');
        if (last.ok || last.final) break;
      }
      const state = probe.kind === 'alive' ? await containerState(id) : watch.latest();
      if (state && !state.running) {
        last = { ok: false, detail: `the container exited with code ${state.exitCode} (${state.status})` };
        break;
      }
      if (probe.kind === 'alive' && Date.now() - t0 >= probe.graceMs) {
        last = { ok: true, detail: 'still running' };
        result.attempts++;
        break;
      }
      const wait = pollInterval(probe, s.intervalMs, last);
      if (Date.now() + wait > deadline) {
        last = { ok: false, detail: `timed out after ${(s.timeoutMs / 1000).toFixed(1)}s; last attempt: ${last.detail}` };
        break;
      }
      await sleep(wait);
    }
    if (last.ok && probe.kind === 'tcp') {
      // The connection was held open PROXY_HOLD_MS already: that counts toward the settle time.
      await sleep(Math.max(0, probe.settleMs - PROXY_HOLD_MS));
      const now = await containerState(id);
      if (!now.running)
        last = { ok: false, detail: `port ${probe.port} accepted a connection, then the container exited with code ${now.exitCode}` };
    }
    result.passed = last.ok;
    if (last.ok) result.ms = Date.now() - t0;
    else {
      result.detail = last.detail;
      const logs = await run('docker', ['logs', '--tail', '100', id], { allowFailure: true });
      result.logs = capLogLines(`${logs.stdout}${logs.stderr}`.trimEnd());
    }
    result.elapsedMs = Date.now() - begun;
    return result;
  } finally {
    // The verdict is in; removing the container need not hold up the next phase.
    inBackground(watch.settled());
    doneWith(id);
  }
}
