// Reads a step's output the way the runner does, and returns every workflow
// command it would obey. The runner splits output into lines on \n, \r\n and
// \r alike, trims leading whitespace, and treats `::name props::message` (and
// the legacy `##[name props]message`) as a command. `::stop-commands::TOKEN`
// turns processing off until a line `::TOKEN::`.

/** The commands the runner knows; anything else is printed as text. */
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

const unescapeData = (s) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProp = (s) => unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',');

/** One line → { name, props, message } or undefined. */
export function parseCommandLine(line) {
  const t = line.trimStart();
  if (t.startsWith('::')) {
    const end = t.indexOf('::', 2);
    if (end === -1) return undefined;
    const head = t.slice(2, end);
    const message = unescapeData(t.slice(end + 2));
    const sp = head.indexOf(' ');
    const name = sp === -1 ? head : head.slice(0, sp);
    const props = {};
    if (sp !== -1) {
      for (const kv of head.slice(sp + 1).split(',')) {
        const eq = kv.indexOf('=');
        if (eq > 0) props[kv.slice(0, eq).trim()] = unescapeProp(kv.slice(eq + 1));
      }
    }
    return { name, props, message };
  }
  const legacy = /^##\[([^\] ]+)(?: ([^\]]*))?\](.*)$/.exec(t);
  if (legacy) {
    const props = {};
    for (const kv of (legacy[2] ?? '').split(';')) {
      const eq = kv.indexOf('=');
      if (eq > 0) props[kv.slice(0, eq).trim()] = unescapeProp(kv.slice(eq + 1));
    }
    return { name: legacy[1], props, message: unescapeData(legacy[3]) };
  }
  return undefined;
}

/** Every command the runner would process in this output, in order. */
export function workflowCommands(output) {
  const out = [];
  let stopToken;
  for (const line of output.split(/\r\n|\r|\n/)) {
    const c = parseCommandLine(line);
    if (!c) continue;
    if (stopToken !== undefined) {
      if (c.name === stopToken) stopToken = undefined;
      continue;
    }
    if (!KNOWN.has(c.name)) continue;
    if (c.name === 'stop-commands') {
      // The runner refuses an empty token or one that names a command.
      if (c.message && !KNOWN.has(c.message)) stopToken = c.message;
      out.push(c);
      continue;
    }
    out.push(c);
  }
  return out;
}

/** What the action sends on purpose. Everything else (set-output, set-env, add-path, echo, …) is a defect. */
const INTENDED = new Set(['debug', 'notice', 'warning', 'error', 'group', 'endgroup', 'add-mask', 'stop-commands']);

/**
 * Commands the action did not mean to send: kinds it never uses, and masks of
 * values that are not part of any input (a mask an image printed).
 * @param {{name: string, message: string}[]} commands
 * @param {string[]} inputValues
 */
export function unintendedCommands(commands, inputValues) {
  return commands.filter((c) => {
    if (!INTENDED.has(c.name)) return true;
    if (c.name === 'add-mask') return !inputValues.some((v) => v.includes(c.message));
    return false;
  });
}
