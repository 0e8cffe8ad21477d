// Runs the bundled action the way a GitHub runner does: INPUT_* variables,
// GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files, `node dist/index.js`,
// then the post step with the saved state as STATE_* variables.
// Used by the e2e tests, `npm run demo` and `npm run bench`.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(ROOT, 'dist', 'index.js');

/** Parses the runner's file-command format: name<<DELIM\nvalue\nDELIM (and legacy name=value). */
export function parseFileCommands(text) {
  const out = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const m = /^([^=<]+)<<(.+)$/.exec(line);
    if (m) {
      const [, name, delim] = m;
      const value = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]);
      out[name] = value.join('\n');
    } else if (line.includes('=')) {
      const eq = line.indexOf('=');
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

function spawnStep(env, { cwd, signalAfterMs, signalWhen, signal = 'SIGINT', echo }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BUNDLE], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let signalled = false;
    const onData = (b) => {
      const s = b.toString();
      log += s;
      if (echo) process.stdout.write(s);
      // Signal once the log shows the moment the caller waits for (then a short pause).
      if (signalWhen && !signalled && signalWhen(log)) {
        signalled = true;
        setTimeout(() => child.kill(signal), 1500);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let timer;
    if (signalAfterMs !== undefined) timer = setTimeout(() => child.kill(signal), signalAfterMs);
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode: code ?? (sig ? 128 : 1), log });
    });
  });
}

/**
 * @param {Record<string,string>} inputs action inputs by their action.yml names
 * @param {{workspace?: string, env?: Record<string,string>, post?: boolean, echo?: boolean,
 *          signalAfterMs?: number, signalWhen?: (log: string) => boolean, signal?: NodeJS.Signals, toolCache?: string,
 *          beforePost?: (main: {exitCode: number, log: string, outputs: Record<string,string>, state: Record<string,string>}) => Promise<void> | void}} [opts]
 */
export async function runAction(inputs, opts = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-run-'));
  const files = {
    output: path.join(home, 'output'),
    state: path.join(home, 'state'),
    summary: path.join(home, 'summary.md'),
  };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  const runnerTemp = path.join(home, 'runner-temp');
  const toolCache = opts.toolCache ?? path.join(home, 'tool-cache');
  fs.mkdirSync(runnerTemp);
  fs.mkdirSync(toolCache, { recursive: true });
  const workspace = opts.workspace ?? ROOT;

  const base = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('INPUT_') || k.startsWith('STATE_')) delete base[k];
  const env = {
    ...base,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: toolCache,
    GITHUB_RUN_ID: base.GITHUB_RUN_ID ?? String(process.pid),
    ...opts.env,
  };
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }

  const t0 = Date.now();
  const main = await spawnStep(env, {
    cwd: workspace,
    signalAfterMs: opts.signalAfterMs,
    signalWhen: opts.signalWhen,
    signal: opts.signal,
    echo: opts.echo,
  });
  const seconds = (Date.now() - t0) / 1000;
  const outputs = parseFileCommands(fs.readFileSync(files.output, 'utf8'));
  const state = parseFileCommands(fs.readFileSync(files.state, 'utf8'));
  const summary = fs.readFileSync(files.summary, 'utf8');

  if (opts.beforePost) await opts.beforePost({ exitCode: main.exitCode, log: main.log, outputs, state });
  let post = { exitCode: 0, log: '' };
  let postSeconds = 0;
  if (opts.post !== false) {
    const postEnv = { ...env };
    for (const [k, v] of Object.entries(state)) postEnv[`STATE_${k}`] = v;
    const p0 = Date.now();
    post = await spawnStep(postEnv, { cwd: workspace, echo: opts.echo });
    postSeconds = (Date.now() - p0) / 1000;
  }
  fs.rmSync(home, { recursive: true, force: true });
  return { exitCode: main.exitCode, log: main.log, outputs, state, summary, seconds, post: { ...post, seconds: postSeconds } };
}
