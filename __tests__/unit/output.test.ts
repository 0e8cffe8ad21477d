// The runner's workflow-command rules, as the harness models them (scripts/workflow-commands.mjs, from
// actions/runner ActionCommand.cs and ActionCommandManager.cs), and the one output module checked against
// them: whatever text it is given, the runner obeys only the commands the action itself means.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CommandProcessor, honoured, parseCommandLine, workflowCommands } from '../../scripts/workflow-commands.mjs';
import { parseFileCommands } from '../../scripts/run-action.mjs';
import * as out from '../../src/output.js';

const names = (text: string) => workflowCommands(text).map((c) => `${c.name}:${c.message}`);

describe('the runner: which lines are commands', () => {
  it('`::name::` counts only at the start of a line', () => {
    expect(names('::error::boom')).toEqual(['error:boom']);
    expect(names('Testing x with probe: ::error::boom')).toEqual([]);
  });
  it('the start is after .NET TrimStart, which also trims U+0085 and U+3000 (JavaScript trimStart does not trim U+0085)', () => {
    expect(names('   \t::warning::w')).toEqual(['warning:w']);
    expect(names('\u0085::add-mask::planted')).toEqual(['add-mask:planted']);
    expect(names('\u3000::add-mask::planted')).toEqual(['add-mask:planted']);
    expect(names('\ufeff::add-mask::x')).toEqual([]); // not whitespace in .NET
  });
  it('the legacy `##[name]` counts anywhere in a line (IndexOf), with the first "]" after it', () => {
    expect(names('linux/amd64: passed (HEALTHCHECK ["/bin/sh","-c","##[error title=X]planted"])')).toEqual(['error:planted"])']);
    expect(names('#12 0.3 ##[add-mask]planted')).toEqual(['add-mask:planted']);
    expect(parseCommandLine('x ##[error file=a%3Bb;line=3]m%5Dn')).toEqual({
      name: 'error',
      props: { file: 'a;b', line: '3' },
      message: 'm]n',
    });
  });
  it('only the first "##[" is tried', () => {
    expect(names('##[nothing] then ##[error]x')).toEqual([]);
  });
  it('names are compared without case', () => {
    expect(names('::ADD-MASK::planted')).toEqual(['add-mask:planted']);
    expect(names('##[Error]planted')).toEqual(['error:planted']);
  });
  it('an unregistered `::name::` falls through to the legacy syntax in the same line', () => {
    expect(names('::nothing::##[save-state name=x]planted')).toEqual(['save-state:planted']);
  });
  it('\\r, \\n and \\r\\n all end a line', () => {
    expect(names('progress 10%\r::add-mask::planted\r\n::debug::d')).toEqual(['add-mask:planted', 'debug:d']);
  });
  it('stop-commands: nothing counts until the token, in either syntax; an empty token or a command name is refused', () => {
    expect(names('::stop-commands::tok1\n::error::hidden\n##[add-mask]hidden\n##[TOK1]\n::error::after')).toEqual([
      'stop-commands:tok1',
      'error:after',
    ]);
    const p = new CommandProcessor().text('::stop-commands::error\n::error::still');
    expect(p.commands.map((c) => [c.name, c.refused ?? false])).toEqual([
      ['stop-commands', true],
      ['error', false],
    ]);
    expect(new CommandProcessor().text('::stop-commands::\n::error::still').commands.length).toBe(2);
  });
  it('a save-state or set-output on the output is kept, as the runner keeps it for the post step', () => {
    const cmds = workflowCommands('x ##[save-state name=buildxCommand]{not json\n::set-output name=digest::sha256:planted');
    expect(honoured(cmds, 'save-state')).toEqual({ buildxCommand: '{not json' });
    expect(honoured(cmds, 'set-output')).toEqual({ digest: 'sha256:planted' });
  });
});

/** Text an image, a build step or a registry can print, with both syntaxes, CRs and the .NET-only whitespace. */
export const HOSTILE = [
  '##[error title=X]planted-1',
  'probe: HEALTHCHECK ["/bin/sh","-c","echo ##[add-mask]planted-2"]',
  '::add-mask::planted-3',
  '\u0085::save-state name=buildxCommand::planted-4',
  'ok\r::set-output name=digest::planted-5',
  '##[stop-commands]planted-6',
  '::STOP-COMMANDS::planted-7',
  'a%0A::error::planted-8',
  `${'x'.repeat(5000)}##[warning]planted-9`,
];

describe('src/output.ts: the only printer', () => {
  let written = '';
  const capture = () => {
    written = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
  };
  afterEach(() => vi.restoreAllMocks());

  const planted = () => workflowCommands(written).filter((c) => /planted/.test(`${c.message} ${JSON.stringify(c.props)}`));

  it.each(HOSTILE.map((h) => [h.slice(0, 60), h]))('info(%j…): the runner obeys nothing in it, and it is printed whole', (_, h) => {
    capture();
    out.info(`Testing image with probe: ${h}`);
    expect(planted()).toEqual([]);
    for (const piece of h.split(/\r/)) expect(written).toContain(piece.replace(/^\u0085/, ''));
  });
  it.each(HOSTILE.map((h) => [h.slice(0, 60), h]))(
    'warning, error, debug and group names with %j…: only the action’s own command',
    (_, h) => {
      capture();
      out.warning(`w ${h}`);
      out.annotate('error', `e ${h}`, {});
      out.debug(`d ${h}`);
      out.startGroup(`g ${h}`);
      out.endGroup();
      const cmds = workflowCommands(written);
      expect(cmds.map((c) => c.name)).toEqual(['warning', 'error', 'debug', 'group', 'endgroup']);
      expect(cmds[0].message).toBe(`w ${h}`);
    },
  );
  it('text with no "::" and no "##[" goes out as it is, with no block around it', () => {
    capture();
    out.info(['linux/amd64: 3.1 MB compressed', 'line two']);
    expect(written).toBe('linux/amd64: 3.1 MB compressed\nline two\n');
  });
  it('a block is opened and closed in one write, with a fresh 32-hex token each time', () => {
    capture();
    out.info('::error::x');
    out.info('::error::y');
    const tokens = [...written.matchAll(/^::stop-commands::(\w+)$/gm)].map((m) => m[1]);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(vi.mocked(process.stdout.write)).toHaveBeenCalledTimes(2);
  });
});

describe('the state main hands to post (trust, round 2, item 2)', () => {
  // Imported lazily: state.ts reads the environment for its key file.
  const load = async () => import('../../src/state.js');
  /** A step's key file, and what main's save would write under a name with that key. */
  const keyed = (fill: number) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-state-'));
    const keyFile = path.join(dir, 'k.key');
    const key = Buffer.alloc(32, fill);
    fs.writeFileSync(keyFile, key);
    const signed = (name: string, v: string) =>
      JSON.stringify({ v, mac: crypto.createHmac('sha256', key).update(`${name}\0${v}`).digest('hex') });
    return { dir, keyFile, signed };
  };

  it('a value main saved verifies; a planted one (any name, any shape) is dropped with a problem, never thrown', async () => {
    const { loadState, verifiedState } = await load();
    const { keyFile, signed } = keyed(7);
    const state: Record<string, string> = {
      isPost: 'true',
      tempDir: signed('tempDir', '/tmp/go-buildx-abc'),
      // What a `##[save-state name=…]` in the output would leave: the runner keeps it for names main did not write.
      buildxCommand: '{not json',
      createdBuilder: JSON.stringify({ v: 'default', mac: '00' }),
      layerExport: signed('layerExport', JSON.stringify({ buildx: { cmd: '/bin/sh', prefix: ['-c'] }, argv: ['rm -rf /'] })),
    };
    const s = loadState((n) => state[n] ?? '', keyFile);
    expect(s.isPost).toBe(true);
    expect(s.tempDir).toBe('/tmp/go-buildx-abc');
    expect(s.buildx).toBeUndefined();
    expect(s.createdBuilder).toBeUndefined();
    expect(s.layerExport).toBeUndefined();
    expect([...s.problems].sort()).toEqual([
      'buildxCommand is not what main saved (not JSON)',
      "createdBuilder was not saved by this step's main",
      'layerExport does not have the shape main saves',
    ]);
    expect(verifiedState('x', signed('x', 'v'), undefined).problem).toMatch(/key of this step is missing/);
  });

  it('buildx as main runs it: the plugin through docker, the plugin binary on its own, a tool-cache buildx; nothing else', async () => {
    const { loadState } = await load();
    const { dir, keyFile, signed } = keyed(9);
    const loaded = (cmd: unknown) =>
      loadState((n) => (n === 'buildxCommand' ? signed(n, JSON.stringify(cmd)) : n === 'isPost' ? 'true' : ''), keyFile).buildx;
    for (const ok of [
      { cmd: 'docker', prefix: ['buildx'] },
      { cmd: '/usr/local/lib/docker/cli-plugins/docker-buildx', prefix: [] },
      { cmd: '/opt/hostedtoolcache/buildx/0.19.3/x64/buildx', prefix: [] },
    ]) {
      expect(loaded(ok)).toEqual(ok);
    }
    for (const bad of [
      { cmd: 'docker-buildx', prefix: [] },
      { cmd: '/bin/sh', prefix: ['-c'] },
      { cmd: '/usr/local/lib/docker/cli-plugins/docker-buildx', prefix: ['rm'] },
    ]) {
      expect(loaded(bad)).toBeUndefined();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('reads from the image and the build are bounded, and say when they are cut (trust, round 2, item 13)', () => {
  it('exec keeps the last MAX_CAPTURE characters of a stream', async () => {
    const { capped } = await import('../../src/exec.js');
    expect(capped('abc', 'def', 4)).toEqual({ text: 'cdef', cut: true });
    expect(capped('ab', 'cd', 4)).toEqual({ text: 'abcd', cut: false });
  });
  it('a probe answer is read to MAX_BODY bytes only; the rest is never read', async () => {
    const { readCapped, MAX_BODY } = await import('../../src/smoke/container.js');
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(16 * 1024).fill(65));
      },
    });
    const r = await readCapped(new Response(endless));
    expect(r.cut).toBe(true);
    expect(r.text.length).toBe(MAX_BODY);
    expect(pulled).toBeLessThan(10);
    expect(await readCapped(new Response('ok'))).toEqual({ text: 'ok', cut: false });
  });
  it('a container log line is cut to MAX_LOG_LINE characters', async () => {
    const { capLogLines, MAX_LOG_LINE } = await import('../../src/smoke/container.js');
    const out = capLogLines(`short\n${'y'.repeat(MAX_LOG_LINE + 5)}`).split('\n');
    expect(out[0]).toBe('short');
    expect(out[1]).toBe(`${'y'.repeat(MAX_LOG_LINE)}… [5 more characters cut]`);
  });
  it('a build step that prints without newlines is printed in bounded lines', async () => {
    const { ProgressPrinter, MAX_LINE } = await import('../../src/imagebuild/progress.js');
    const printed: string[] = [];
    const p = new ProgressPrinter((l) => printed.push(l));
    const v = 'sha256:' + 'a'.repeat(64);
    const now = new Date().toISOString();
    const chunk = Buffer.from('z'.repeat(MAX_LINE * 3)).toString('base64');
    p.write(JSON.stringify({ vertexes: [{ digest: v, name: '[build 1/2] RUN spin', started: now }] }) + '\n');
    for (let i = 0; i < 3; i++) p.write(JSON.stringify({ logs: [{ vertex: v, stream: 1, data: chunk }] }) + '\n');
    p.end();
    const logLines = printed.filter((l) => l.startsWith('#1 z'));
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    for (const l of logLines) expect(l.length).toBeLessThan(MAX_LINE + 100);
    expect(logLines.some((l) => /more characters cut\]$/.test(l))).toBe(true);
  });
});

describe('a signing key outside the secrets folder is recorded before it exists (trust, round 2, item 12)', () => {
  it('main removes every recorded secret file on the way out, as the cancel handler does, and post removes them from the state', async () => {
    const runnerTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-rt-'));
    const stateFile = path.join(runnerTemp, 'state');
    fs.writeFileSync(stateFile, '');
    const env = { ...process.env };
    Object.assign(process.env, { RUNNER_TEMP: runnerTemp, GITHUB_ACTION: `t${process.pid}`, GITHUB_STATE: stateFile });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const { saveSecretFile, loadState } = await import('../../src/state.js');
      const key = path.join(runnerTemp, 'elsewhere', 'cosign.key');
      saveSecretFile(key);
      fs.mkdirSync(path.dirname(key), { recursive: true });
      fs.writeFileSync(key, 'KEY');
      // What post sees, as the runner hands it over: the recorded file, authenticated.
      const saved = parseFileCommands(fs.readFileSync(stateFile, 'utf8'));
      expect(loadState((n) => saved[n] ?? '').secretFiles).toEqual([key]);
      const { endRun } = await import('../../src/lifecycle.js');
      await endRun({ tempDir: path.join(runnerTemp, 'run'), runKey: 'k' });
      expect(fs.existsSync(key)).toBe(false);
      // And post, for a run whose main never got that far.
      fs.writeFileSync(key, 'KEY');
      for (const [k, v] of Object.entries(saved)) process.env[`STATE_${k}`] = v;
      const { post } = await import('../../src/post.js');
      await post();
      expect(fs.existsSync(key)).toBe(false);
    } finally {
      process.env = env;
    }
  });
});
