// A run's own resources: its temporary directory and the key that labels
// every container it starts, both handed to the post step at once. On
// cancellation (the runner sends SIGINT, then SIGTERM) the buildx client is
// stopped, which stops the build, the secret files go at once, and the rest
// (containers, builder, temp dir) is left to the post step.
import * as out from './output.js';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run as exec, signalChildren, startDetached } from './exec.js';
import { recordedSecretFiles, saveRunKey, saveTempDir } from './state.js';
import { RUN_LABEL } from './constants.js';
import { containersLeft, noteRemoved, settleBackground, takeDone } from './tracked.js';

export interface Run {
  tempDir: string;
  runKey: string;
}

export function secretsDir(run: Run): string {
  return path.join(run.tempDir, 'secrets');
}

export function startRun(): Run {
  const run = { tempDir: fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'go-buildx-')), runKey: crypto.randomUUID() };
  saveTempDir(run.tempDir);
  saveRunKey(run.runKey);
  const handler = (signal: NodeJS.Signals) => {
    const n = signalChildren('SIGINT');
    removeSecrets(run);
    out.fail(`Cancelled by ${signal}; stopped ${n} running command(s). The post step removes what this run started.`);
    const exit = () => process.exit(signal === 'SIGINT' ? 130 : 143);
    // Give the containers a moment to go, but never hang a cancelled job.
    void removeRunContainers(run.runKey).finally(exit);
    setTimeout(exit, 5000).unref();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return run;
}

/** The secret files (build secrets, a signing key): in the run's secrets folder, or recorded in the state. */
function removeSecrets(run: Run): void {
  fs.rmSync(secretsDir(run), { recursive: true, force: true });
  for (const f of recordedSecretFiles()) fs.rmSync(f, { force: true });
}

/** What main removes on the way out, whatever happened: the secret files and this run's containers. */
export async function endRun(run: Run): Promise<void> {
  removeSecrets(run);
  await settleBackground();
  // Removing a container costs the engine 0.2-0.3 s here, and the run's result does not depend on it: the
  // removal outlives main, so the job's next step need not wait for it. The post step waits for it to end
  // before it untags the run's image (sweepRunContainers).
  const ids = takeDone();
  if (ids.length > 0) {
    await startDetached('docker', ['rm', '--force', '--volumes', ...ids]);
    noteRemoved(ids.length);
  }
  // Listing the run's containers costs a docker call (0.02-0.1 s here); when each one was removed or handed
  // to the removal above, there is nothing to find.
  if (containersLeft()) await removeRunContainers(run.runKey).catch(() => undefined);
}

/**
 * Removes the containers the run is done with, now: before their image is untagged (a container, even one
 * being removed, keeps the image it runs).
 */
export async function removeDoneContainers(): Promise<void> {
  await settleBackground();
  const ids = takeDone();
  if (ids.length === 0) return;
  const r = await exec('docker', ['rm', '--force', '--volumes', ...ids], { allowFailure: true });
  if (r.exitCode === 0) noteRemoved(ids.length);
}

/** A phase of the pipeline: a log group that ends with how long it took (what `npm run bench` splits by). */
export async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return out.group(name, async () => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      out.info(`${name}: ${((Date.now() - t0) / 1000).toFixed(2)}s`);
    }
  });
}

/** Removes every container this run labelled (used by main on the way out, and on cancellation). */
export async function removeRunContainers(runKey: string): Promise<number> {
  const ids = await runContainers(runKey);
  if (ids.length > 0) await exec('docker', ['rm', '--force', '--volumes', ...ids], { allowFailure: true });
  return ids.length;
}

async function runContainers(runKey: string): Promise<string[]> {
  const ls = await exec('docker', ['ps', '--all', '--quiet', '--filter', `label=${RUN_LABEL}=${runKey}`], { allowFailure: true });
  return ls.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * Which of the containers asked for `docker rm` removed: it prints each one it removed on stdout, as it was
 * named, and an error for each other (one whose removal is already under way among them) on stderr.
 */
export function removedContainers(stdout: string, asked: string[]): string[] {
  const lines = new Set(stdout.split('\n').map((l) => l.trim()));
  return asked.filter((id) => lines.has(id));
}

/** How long post waits for the removal main started to end. */
const SWEEP_WAIT_MS = 15_000;

/**
 * The post step's sweep: removes the run's containers that are still there (a run cut short leaves them), and
 * waits for those main's last removal is still removing (the engine lists them, running or dead, until it is
 * done), so that the run's image can be untagged after it. Returns how many it removed itself: leftovers.
 */
export async function sweepRunContainers(runKey: string, waitMs = SWEEP_WAIT_MS): Promise<number> {
  const found = await runContainers(runKey);
  if (found.length === 0) return 0;
  const r = await exec('docker', ['rm', '--force', '--volumes', ...found], { allowFailure: true });
  const until = Date.now() + waitMs;
  while (Date.now() < until && (await runContainers(runKey)).length > 0) await new Promise((res) => setTimeout(res, 100));
  return removedContainers(r.stdout, found).length;
}
