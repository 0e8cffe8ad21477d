// Reads a step's output the way the runner does, and returns every workflow
// command it would obey. The rules are actions/runner's own
// (src/Runner.Common/ActionCommand.cs, src/Runner.Worker/ActionCommandManager.cs,
// src/Runner.Worker/Handlers/OutputManager.cs):
// - output is split into lines on \n, \r\n and \r (StreamReader.ReadLine);
// - a line is looked at only when it holds "##[" or "::" anywhere;
// - `::name props::data` counts only at the start of the line after .NET's
//   TrimStart (which trims more than JavaScript's: U+0085 too);
// - failing that, the legacy `##[name props]data` counts ANYWHERE in the line:
//   the first "##[" and the first "]" after it;
// - a name counts only when it is a registered command, compared without case;
// - `stop-commands` with a token that is empty or names a command is refused;
//   while stopped, only a command named by the token (either syntax) resumes.
// Commands from stdout and stderr share one stop state, as in the runner.

/** The commands the runner registers; anything else is printed as text. */
export const KNOWN = new Set([
  'add-mask',
  'add-matcher',
  'remove-matcher',
  'add-path',
  'set-env',
  'set-output',
  'save-state',
  'debug',
  'notice',
  'warning',
  'error',
  'group',
  'endgroup',
  'echo',
  'stop-commands',
]);

// .NET's Char.IsWhiteSpace, which String.TrimStart uses.
const DOTNET_LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

const unescapeData = (s) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProp = (s) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
// The legacy syntax's own escapes, applied in the runner's order.
const unescapeLegacy = (s) => s.replace(/%3B/g, ';').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%25/g, '%');

/** .NET Split(sep, count: 2, RemoveEmptyEntries) of "k=v" pairs into props. */
function properties(text, sep, unescape) {
  const props = {};
  for (const kv of text.split(sep).filter((x) => x !== '')) {
    const eq = kv.indexOf('=');
    const pair = eq === -1 ? [kv] : [kv.slice(0, eq), kv.slice(eq + 1)].filter((x) => x !== '');
    if (pair.length === 2) props[pair[0]] = unescape(pair[1]);
  }
  return props;
}

const lower = (s) => s.toLowerCase();

/** `::name props::data` at the start of the line (ActionCommand.TryParseV2). */
export function parseV2(line, registered = KNOWN) {
  const t = line.replace(DOTNET_LEADING_SPACE, '');
  if (!t.startsWith('::')) return undefined;
  const end = t.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = t.slice(2, end);
  const sp = info.indexOf(' ');
  const name = sp < 0 ? info : info.slice(0, sp);
  if (!registered.has(lower(name))) return undefined;
  const props = sp > 0 ? properties(info.slice(sp + 1).trim(), ',', unescapeProp) : {};
  return { name: lower(name), props, message: unescapeData(t.slice(end + 2)) };
}

/** `##[name props]data` anywhere in the line (ActionCommand.TryParse). */
export function parseLegacy(line, registered = KNOWN) {
  const at = line.indexOf('##[');
  if (at < 0) return undefined;
  const rb = line.indexOf(']', at);
  if (rb < 0) return undefined;
  const info = line.slice(at + 3, rb);
  const sp = info.indexOf(' ');
  const name = sp < 0 ? info : info.slice(0, sp);
  if (!registered.has(lower(name))) return undefined;
  const props = sp > 0 ? properties(info.slice(sp + 1), ';', unescapeLegacy) : {};
  return { name: lower(name), props, message: unescapeLegacy(line.slice(rb + 1)) };
}

/** One line → { name, props, message } or undefined, against the registered commands. */
export function parseCommandLine(line, registered = KNOWN) {
  if (!line.includes('##[') && !line.includes('::')) return undefined;
  return parseV2(line, registered) ?? parseLegacy(line, registered);
}

/**
 * The runner's command processing over lines, with the stop-commands state it keeps for the whole
 * step. Feed it lines in the order they arrive (stdout and stderr alike).
 */
export class CommandProcessor {
  constructor() {
    this.registered = new Set(KNOWN);
    this.stopToken = undefined;
    /** Every command the runner would obey, in order. */
    this.commands = [];
  }

  line(text) {
    const c = parseCommandLine(text, this.registered);
    if (!c) return;
    if (this.stopToken !== undefined) {
      if (c.name === this.stopToken) {
        this.registered.delete(this.stopToken);
        this.stopToken = undefined;
      }
      return;
    }
    if (c.name === 'stop-commands') {
      // The runner refuses an empty token, one that names a registered command, and pause-logging.
      const token = lower(c.message);
      if (token === '' || this.registered.has(token) || token === 'pause-logging') {
        this.commands.push({ ...c, refused: true });
        return;
      }
      this.stopToken = token;
      this.registered.add(token);
    }
    this.commands.push(c);
  }

  /** Splits raw output as StreamReader.ReadLine does, and processes each line. */
  text(output) {
    for (const l of output.split(/\r\n|\r|\n/)) this.line(l);
    return this;
  }
}

/** Every command the runner would process in this output, in order. */
export function workflowCommands(output) {
  return new CommandProcessor().text(output).commands;
}

/**
 * What the runner keeps from commands on the step's output: `save-state` and `set-output` values, which
 * the file commands of the same name then override (the runner reads GITHUB_STATE and GITHUB_OUTPUT when
 * the step ends).
 */
export function honoured(commands, name) {
  const out = {};
  for (const c of commands) if (c.name === name && !c.refused && c.props.name) out[c.props.name] = c.message;
  return out;
}

/** What the action sends on purpose. Everything else (set-output, set-env, add-path, echo, …) is a defect. */
const INTENDED = new Set(['debug', 'notice', 'warning', 'error', 'group', 'endgroup', 'add-mask', 'stop-commands']);

/**
 * Commands the action did not mean to send: kinds it never uses, masks of values that are not part of
 * any input (a mask an image printed), and a stop-commands the runner refused.
 * @param {{name: string, message: string, refused?: boolean}[]} commands
 * @param {string[]} inputValues
 */
export function unintendedCommands(commands, inputValues) {
  return commands.filter((c) => {
    if (c.refused) return true;
    if (!INTENDED.has(c.name)) return true;
    // The action's own blocks use 32 hex digits of randomness (src/output.ts); any other token was planted.
    if (c.name === 'stop-commands') return !/^[0-9a-f]{32}$/.test(c.message);
    if (c.name === 'add-mask') return !inputValues.some((v) => v.includes(c.message));
    return false;
  });
}
