// Runs the bundled action the way a GitHub runner does:
// - every input: the workflow's `with:` values over every `default:` in
//   action.yml (the runner always passes the defaults, as INPUT_<NAME>);
// - the GITHUB_* and RUNNER_* environment, with GITHUB_EVENT_PATH holding a
//   real payload for the event (scripts/runner-events.mjs);
// - the file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, GITHUB_PATH,
//   GITHUB_STEP_SUMMARY), `node dist/index.js` in the workspace, then the post
//   step with the saved state as STATE_* variables;
// - stdout and stderr read line by line for workflow commands, as the runner
//   reads them. A command the action did not mean to send fails the run
//   (unless the test asks to see them with allowUnintended).
// Used by the e2e tests, `npm run demo` and `npm run bench`.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { eventOf } from './runner-events.mjs';
import { CommandProcessor, honoured, unintendedCommands } from './workflow-commands.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(ROOT, 'dist', 'index.js');

/**
 * Every input's default from action.yml, as the runner passes it (an input without one is '').
 * The runner evaluates expressions in defaults; the only one action.yml uses is the job's token,
 * for which a made-up token of the same shape stands in.
 */
export function actionDefaults(file = path.join(ROOT, 'action.yml'), token = 'ghs_0harness0token0of0the0job0000000000') {
  const action = YAML.parse(fs.readFileSync(file, 'utf8'));
  const out = {};
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    const v = spec?.default === undefined ? '' : String(spec.default).replace(/\$\{\{\s*github\.token\s*\}\}/g, token);
    if (/\$\{\{/.test(v)) throw new Error(`action.yml: the default of ${name} is an expression the harness does not evaluate: ${v}`);
    out[name] = v;
  }
  return out;
}

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

function spawnStep(env, { cwd, signalAfterMs, signalWhen, signal = 'SIGINT', echo, whenLog }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BUNDLE], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let signalled = false;
    // The runner reads stdout and stderr line by line, each on its own, into one command processor.
    const processor = new CommandProcessor();
    const pending = { out: '', err: '' };
    const feed = (stream, s, end = false) => {
      // A \r at a chunk's end may be half of a \r\n: it waits for the next chunk.
      const lines = (pending[stream] + s).split(end ? /\r\n|\n|\r/ : /\r\n|\n|\r(?!$)/);
      pending[stream] = end ? '' : (lines.pop() ?? '');
      for (const l of lines) processor.line(l);
    };
    const onData = (stream) => (b) => {
      const s = b.toString();
      log += s;
      feed(stream, s);
      if (echo) process.stdout.write(s);
      // Something the test does once the log shows a moment (another job on the same engine, say), at once.
      if (whenLog && !whenLog.done && whenLog.match.test(log)) {
        whenLog.done = true;
        whenLog.run();
      }
      // Signal once the log shows the moment the caller waits for (then a short pause).
      if (signalWhen && !signalled && signalWhen(log)) {
        signalled = true;
        setTimeout(() => child.kill(signal), 1500);
      }
    };
    child.stdout.on('data', onData('out'));
    child.stderr.on('data', onData('err'));
    let timer;
    if (signalAfterMs !== undefined) timer = setTimeout(() => child.kill(signal), signalAfterMs);
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      for (const stream of ['out', 'err']) if (pending[stream]) feed(stream, '', true);
      resolve({ exitCode: code ?? (sig ? 128 : 1), log, commands: processor.commands });
    });
  });
}

/**
 * The log as the runner shows it: the lines that open and close a
 * stop-commands block are processed, not printed. Every other line stays,
 * workflow commands included, for the tests to read.
 */
export function displayedLog(raw) {
  const out = [];
  let token;
  for (const line of raw.split('\n')) {
    const t = line.trimStart();
    if (token === undefined) {
      const m = /^::stop-commands::(.+)$/.exec(t);
      if (m) {
        token = m[1].trim();
        continue;
      }
    } else if (t.trim() === `::${token}::`) {
      token = undefined;
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

/** A state value as main saved it: src/state.ts wraps each in {"v": value, "mac": …}; the value, or the raw text. */
export function savedValue(raw) {
  try {
    const doc = JSON.parse(raw);
    if (doc && typeof doc.v === 'string') return doc.v;
  } catch {
    // not a wrapped value
  }
  return raw;
}

/** An event spec from a bare GITHUB_REF override, so older call sites still get a matching payload. */
function eventFromRef(ref) {
  if (ref?.startsWith('refs/tags/')) return { kind: 'tag', tag: ref.slice('refs/tags/'.length) };
  if (ref?.startsWith('refs/heads/')) return { kind: 'push', branch: ref.slice('refs/heads/'.length) };
  return { kind: 'push' };
}

/**
 * @param {Record<string,string>} inputs the workflow's `with:` block, by action.yml names
 * @param {import('./run-action.d.mts').RunOptions} [opts]
 */
export async function runAction(inputs, opts = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-run-'));
  const files = {
    output: path.join(home, 'output'),
    state: path.join(home, 'state'),
    env: path.join(home, 'env'),
    path: path.join(home, 'path'),
    summary: path.join(home, 'summary.md'),
  };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  const runnerTemp = path.join(home, 'runner-temp');
  const toolCache = opts.toolCache ?? path.join(home, 'tool-cache');
  fs.mkdirSync(runnerTemp);
  fs.mkdirSync(toolCache, { recursive: true });
  const workspace = opts.workspace ?? ROOT;

  const spec = opts.event ?? eventFromRef(opts.env?.GITHUB_REF);
  const event = eventOf(spec);
  const eventPath = path.join(home, 'event.json');
  fs.writeFileSync(eventPath, JSON.stringify(event.payload, null, 2));

  const base = { ...process.env };
  for (const k of Object.keys(base)) {
    if (k.startsWith('INPUT_') || k.startsWith('STATE_') || k.startsWith('GITHUB_') || k.startsWith('RUNNER_')) delete base[k];
  }
  const runId = String(opts.runId ?? process.pid);
  const env = {
    ...base,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: '__acme_go-buildx-action',
    GITHUB_ACTION_PATH: ROOT,
    GITHUB_ACTION_REPOSITORY: 'acme/go-buildx-action',
    GITHUB_ACTION_REF: 'v0',
    GITHUB_ACTOR: 'octocat',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_JOB: 'build',
    GITHUB_WORKFLOW: 'build',
    GITHUB_WORKFLOW_REF: 'acme/hello/.github/workflows/build.yml@refs/heads/main',
    GITHUB_RUN_ID: runId,
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: String(opts.runAttempt ?? 1),
    GITHUB_RETENTION_DAYS: '90',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: process.arch === 'arm64' ? 'ARM64' : 'X64',
    RUNNER_NAME: 'GitHub Actions 1',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: toolCache,
    RUNNER_WORKSPACE: path.dirname(workspace),
    ...event.env,
    ...opts.env,
  };
  const token = `ghs_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const withDefaults = { ...actionDefaults(undefined, token), ...inputs };
  for (const [name, value] of Object.entries(withDefaults)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }

  const t0 = Date.now();
  const main = await spawnStep(env, {
    cwd: workspace,
    signalAfterMs: opts.signalAfterMs,
    signalWhen: opts.signalWhen,
    signal: opts.signal,
    echo: opts.echo,
    whenLog: opts.whenLog ? { ...opts.whenLog, done: false } : undefined,
  });
  const seconds = (Date.now() - t0) / 1000;
  // As the runner: `set-output` and `save-state` obeyed on the output, then the files read when the step ends.
  const outputs = { ...honoured(main.commands, 'set-output'), ...parseFileCommands(fs.readFileSync(files.output, 'utf8')) };
  const state = {
    // What a runner keeps from a save-state that text in the step's output carried (a test plants it here).
    ...opts.plantedState,
    ...honoured(main.commands, 'save-state'),
    ...parseFileCommands(fs.readFileSync(files.state, 'utf8')),
  };
  const summary = fs.readFileSync(files.summary, 'utf8');

  if (opts.beforePost) await opts.beforePost({ exitCode: main.exitCode, log: displayedLog(main.log), outputs, state });
  let post = { exitCode: 0, log: '', commands: [] };
  let postSeconds = 0;
  if (opts.post !== false) {
    const postEnv = { ...env };
    for (const [k, v] of Object.entries(state)) postEnv[`STATE_${k}`] = v;
    const p0 = Date.now();
    post = await spawnStep(postEnv, { cwd: workspace, echo: opts.echo });
    postSeconds = (Date.now() - p0) / 1000;
  }
  const exported = { env: parseFileCommands(fs.readFileSync(files.env, 'utf8')), path: fs.readFileSync(files.path, 'utf8') };
  fs.rmSync(home, { recursive: true, force: true });

  const commands = main.commands;
  const postCommands = post.commands ?? [];
  // What the action may mask: its inputs, and the secrets they point at, as a runner's `env:` and
  // files in the workspace (secret-envs, secret-files).
  const pointedAt = [];
  for (const line of (withDefaults['secret-envs'] ?? '').split(/[\n,]/)) {
    const name = line.split('=')[1]?.trim();
    if (name && opts.env?.[name] !== undefined) pointedAt.push(opts.env[name]);
  }
  for (const line of (withDefaults['secret-files'] ?? '').split('\n')) {
    const file = line.split('=').slice(1).join('=').trim();
    if (file && fs.existsSync(path.resolve(workspace, file))) pointedAt.push(fs.readFileSync(path.resolve(workspace, file), 'utf8'));
  }
  const inputValues = [...Object.values(withDefaults), ...pointedAt, ...(opts.issuedSecrets?.() ?? [])].filter(Boolean);
  const unintended = [...unintendedCommands(commands, inputValues), ...unintendedCommands(postCommands, inputValues)];
  if (unintended.length > 0 && !opts.allowUnintended) {
    throw new Error(
      `The action sent workflow commands it did not mean to send:\n${unintended.map((c) => JSON.stringify(c)).join('\n')}\n--- main log ---\n${main.log}\n--- post log ---\n${post.log}`,
    );
  }
  return {
    exitCode: main.exitCode,
    log: displayedLog(main.log),
    rawLog: main.log,
    outputs,
    state,
    saved: Object.fromEntries(Object.entries(state).map(([k, v]) => [k, savedValue(v)])),
    summary,
    seconds,
    commands,
    unintended,
    exported,
    eventPayload: event.payload,
    post: { ...post, log: displayedLog(post.log), seconds: postSeconds, commands: postCommands },
  };
}
