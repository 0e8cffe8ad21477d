// The only channel from the main step to the post step.
//
// The runner also takes a `save-state` command from a step's output (`::save-state name=…::` at a line's
// start, or the legacy `##[save-state name=…]` anywhere in a line), and keeps it for every name the step's
// GITHUB_STATE file does not set. Nothing the action prints can be such a command (src/output.ts), but the
// post step acts on these values (it removes a builder, a directory, images; it runs buildx), so it
// trusts none it cannot authenticate: each value is saved with an HMAC under a key that main writes to a
// file only this job's steps can read, and a value that does not verify, or does not parse, is dropped
// with a warning (trust, round 2, item 2).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
//
// It sits under every folder that saves state, so it holds plain data types of its own and imports none of
// theirs: each folder converts its values to and from these (gocache/saved.ts, layercache/layerexport.ts).
import { State } from './constants.js';

export interface PostState {
  isPost: boolean;
  /** A builder this action created, to be removed in post. */
  createdBuilder?: string;
  buildx?: SavedCommand;
  /** A temporary directory this action created (secrets, metadata), to be removed in post. */
  tempDir?: string;
  /** Label value on every container this run started; post removes strays by it. */
  runKey?: string;
  /** The Go caches to save, and the builder that holds them. */
  goCache?: SavedGoCache;
  /** The action's own layer cache export, left to the post step. */
  layerExport?: SavedLayerExport;
  /** Images the action put into the engine (a local tag for push-by-digest, a staged image pulled for the smoke test); post removes them. */
  engineImages: string[];
  /** Secret files main wrote outside the temp dir's secrets folder (a signing key): post removes them. */
  secretFiles: string[];
  /** The image's unpacked sizes by layers, for the fingerprint marker the post step's export writes (layercache/marker.ts checks the shape). */
  sizeMemo?: SavedDoc[];
  /** State values that were present but could not be verified or read; post warns and goes on. */
  problems: string[];
}

/** A JSON object as saved: only the folder that wrote it knows more of its shape. */
export type SavedDoc = { [key: string]: unknown };

/** How main ran buildx: `docker buildx`, or a standalone buildx binary at an absolute path. */
export interface SavedCommand {
  cmd: string;
  prefix: string[];
}

/** The Go caches to save (gocache/saved.ts converts). */
export interface SavedGoCache {
  builder: string;
  buildx: SavedCommand;
  plan: SavedDoc & { entries: SavedDoc[] };
  stats?: SavedDoc;
  history?: SavedDoc;
}

/** The layer cache export left to post (layercache/layerexport.ts converts). */
export interface SavedLayerExport {
  buildx: SavedCommand;
  /** The layer cache ref it writes. */
  ref: string;
  /** `buildx build` argv of the export alone (cacheonly output, no secrets), and its metadata file. */
  argv: string[];
  metadataFile: string;
  fingerprint: string;
  record?: SavedDoc;
  source: SavedDoc;
}

/** Where main keeps the key of this step's state: per job (RUNNER_TEMP) and per step (GITHUB_ACTION). */
export function stateKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const step = crypto
    .createHash('sha256')
    .update(`${env.GITHUB_RUN_ID ?? ''}\n${env.GITHUB_RUN_ATTEMPT ?? ''}\n${env.GITHUB_JOB ?? ''}\n${env.GITHUB_ACTION ?? ''}`)
    .digest('hex')
    .slice(0, 32);
  return path.join(env.RUNNER_TEMP || os.tmpdir(), 'go-buildx-state', `${step}.key`);
}

let stateKey: Buffer | undefined;

function keyForSaving(): Buffer {
  if (!stateKey) {
    const file = stateKeyFile();
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    stateKey = crypto.randomBytes(32);
    fs.writeFileSync(file, stateKey, { mode: 0o600 });
  }
  return stateKey;
}

function mac(key: Buffer, name: string, value: string): string {
  return crypto.createHmac('sha256', key).update(`${name}\0${value}`).digest('hex');
}

/** Saves a value for the post step, with its HMAC. */
function save(name: string, value: string): void {
  core.saveState(name, JSON.stringify({ v: value, mac: mac(keyForSaving(), name, value) }));
}

/** A saved value, verified: undefined when it was never saved; `problem` when it cannot be trusted. */
export function verifiedState(name: string, raw: string, key: Buffer | undefined): { value?: string; problem?: string } {
  if (!raw) return {};
  let doc: { v?: unknown; mac?: unknown };
  try {
    doc = JSON.parse(raw) as { v?: unknown; mac?: unknown };
  } catch {
    return { problem: `${name} is not what main saved (not JSON)` };
  }
  if (typeof doc?.v !== 'string' || typeof doc.mac !== 'string') return { problem: `${name} is not what main saved` };
  if (!key) return { problem: `${name} cannot be checked: the state key of this step is missing` };
  const want = Buffer.from(mac(key, name, doc.v), 'hex');
  const got = Buffer.from(doc.mac, 'hex');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return { problem: `${name} was not saved by this step's main` };
  return { value: doc.v };
}

/** Main always writes isPost to GITHUB_STATE first, so only the post step sees it. */
export function isPostStep(): boolean {
  return core.getState(State.isPost) === 'true';
}

export function markMain(): void {
  // Plain: the entry point reads it to choose main or post, and main always writes it to GITHUB_STATE,
  // which overrides any save-state of the same name on the output.
  core.saveState(State.isPost, 'true');
}

export function saveCreatedBuilder(name: string, buildx: SavedCommand): void {
  save(State.createdBuilder, name);
  save(State.buildxCommand, JSON.stringify(buildx));
}

export function saveTempDir(dir: string): void {
  save(State.tempDir, dir);
}

export function saveRunKey(key: string): void {
  save(State.runKey, key);
}

export function saveGoCache(s: SavedGoCache): void {
  save(State.goCachePlan, JSON.stringify(s));
}

export function saveLayerExport(s: SavedLayerExport): void {
  save(State.layerExport, JSON.stringify(s));
}

export function saveSizeMemo(memo: SavedDoc[]): void {
  save(State.sizeMemo, JSON.stringify(memo));
}

const engineImages: string[] = [];

/** Records an image the action is about to put into the engine, before it does, so post removes it whatever happens. */
export function saveEngineImage(ref: string): void {
  if (!engineImages.includes(ref)) engineImages.push(ref);
  save(State.engineImages, JSON.stringify(engineImages));
}

const secretFiles: string[] = [];

/** Records a secret file before it is written, so a cancelled run's post step removes it (trust, round 2, item 12). */
export function saveSecretFile(file: string): void {
  if (!secretFiles.includes(file)) secretFiles.push(file);
  save(State.secretFiles, JSON.stringify(secretFiles));
}

/** Every secret file recorded so far in this process (the cancel handler removes them). */
export function recordedSecretFiles(): string[] {
  return [...secretFiles];
}

/**
 * Only where main runs buildx: the docker CLI plugin, the plugin's own binary (`docker-buildx`, run on its
 * own), or a standalone buildx binary from the tool cache, each at an absolute path.
 */
function isBuildxCommand(x: unknown): x is SavedCommand {
  const b = x as SavedCommand;
  if (!b || typeof b.cmd !== 'string' || !Array.isArray(b.prefix)) return false;
  if (b.cmd === 'docker') return b.prefix.length === 1 && b.prefix[0] === 'buildx';
  return path.isAbsolute(b.cmd) && ['buildx', 'docker-buildx'].includes(path.basename(b.cmd)) && b.prefix.length === 0;
}

export function loadState(read: (name: string) => string = core.getState, keyFile = stateKeyFile()): PostState {
  let key: Buffer | undefined;
  try {
    key = fs.readFileSync(keyFile);
  } catch {
    key = undefined;
  }
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const r = verifiedState(name, read(name), key);
    if (r.problem) problems.push(r.problem);
    return r.value;
  };
  const json = <T>(name: string, ok: (x: unknown) => boolean): T | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    try {
      const v = JSON.parse(raw) as unknown;
      if (ok(v)) return v as T;
    } catch {
      // reported below
    }
    problems.push(`${name} does not have the shape main saves`);
    return undefined;
  };
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  const buildx = json<SavedCommand>(State.buildxCommand, isBuildxCommand);
  const goCache = json<SavedGoCache>(
    State.goCachePlan,
    (x) => isBuildxCommand((x as SavedGoCache)?.buildx) && Array.isArray((x as SavedGoCache).plan?.entries),
  );
  const layerExport = json<SavedLayerExport>(
    State.layerExport,
    (x) => isBuildxCommand((x as SavedLayerExport)?.buildx) && strings((x as SavedLayerExport).argv),
  );
  return {
    isPost: read(State.isPost) === 'true',
    createdBuilder: get(State.createdBuilder),
    buildx,
    tempDir: get(State.tempDir),
    runKey: get(State.runKey),
    goCache,
    layerExport,
    engineImages: json<string[]>(State.engineImages, strings) ?? [],
    secretFiles: json<string[]>(State.secretFiles, strings) ?? [],
    sizeMemo: json<SavedDoc[]>(State.sizeMemo, Array.isArray),
    problems,
  };
}

/** The key file goes with the rest of the run's files, at the end of the post step. */
export function removeStateKey(keyFile = stateKeyFile()): void {
  fs.rmSync(keyFile, { force: true });
}
