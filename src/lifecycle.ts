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
import { run as exec, signalChildren } from './exec.js';
import { recordedSecretFiles, saveRunKey, saveTempDir } from './state.js';
import { RUN_LABEL } from './constants.js';
import { containersNoted, settleBackground } from './tracked.js';

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
  if (containersNoted()) await removeRunContainers(run.runKey).catch(() => undefined);
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

/** Removes every container this run labelled (used by main on the way out and by post). */
export async function removeRunContainers(runKey: string): Promise<number> {
  const ls = await exec('docker', ['ps', '--all', '--quiet', '--filter', `label=${RUN_LABEL}=${runKey}`], { allowFailure: true });
  const ids = ls.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (ids.length > 0) await exec('docker', ['rm', '--force', '--volumes', ...ids], { allowFailure: true });
  return ids.length;
}
