// The one module that prints. Everything the action writes to the log goes
// through here (lint bans core.info/warning/error/notice/debug/group,
// process.stdout and console everywhere else), so no text, whoever wrote it,
// can reach the runner as a workflow command.
//
// The runner's rules (actions/runner ActionCommand.cs, OutputManager.cs): a
// line is looked at only when it holds "::" or "##["; `::name::` counts at the
// start of a line, the legacy `##[name]` ANYWHERE in it; names are compared
// without case. So:
// - plain text (`info`) that holds neither goes out as it is; anything else is
//   printed inside a `::stop-commands::TOKEN` … `::TOKEN::` block, the
//   runner's own way to print such text, with a fresh random token the text
//   cannot know. No command of the action's own may be written while a block
//   is open, so each block is opened and closed in one write;
// - annotations, debug lines and group names are commands of the action's own
//   (`::warning::DATA`): @actions/core escapes CR, LF and "%" in DATA, so the
//   whole text stays on that one line, which the runner has already parsed as
//   that command, and nothing in DATA can start another.
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as core from '@actions/core';

/** What makes the runner look at a line for a command. */
const COMMAND_MARK = /::|##\[/;

/** The lines of `text` inside a stop-commands block, as one string to write at once. */
export function untrustedBlock(lines: string[], token = crypto.randomBytes(16).toString('hex')): string {
  return [`::stop-commands::${token}`, ...lines, `::${token}::`, ''].join(os.EOL);
}

/** Splits text into lines the way the runner does (\r\n, \r and \n). */
export function lines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * Prints text (or lines) of any origin: as it is when no line of it could be a command, else inside a
 * stop-commands block, so the runner obeys nothing in it.
 */
export function info(text: string | string[]): void {
  const all = Array.isArray(text) ? text.flatMap(lines) : lines(text);
  if (all.length === 0 || (all.length === 1 && all[0] === '')) return;
  if (all.some((l) => COMMAND_MARK.test(l))) process.stdout.write(untrustedBlock(all));
  else process.stdout.write(all.join(os.EOL) + os.EOL);
}

/** A warning annotation; its text, whatever it holds, is the data of that one command. */
export function warning(text: string): void {
  core.warning(text);
}

/** An annotation (an error one does not fail the step), at a place in a file. */
export function annotate(level: 'warning' | 'error' | 'notice', text: string, props: core.AnnotationProperties): void {
  core[level](text, props);
}

export function debug(text: string): void {
  core.debug(text);
}

/** Fails the step with this message (an error annotation). */
export function fail(text: string): void {
  core.setFailed(text);
}

/** A collapsible group in the log around `fn`. */
export function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return core.group(name, fn);
}

/** Opens a group that `endGroup` closes; for output that is not one async function. */
export function startGroup(name: string): void {
  core.startGroup(name);
}

export function endGroup(): void {
  core.endGroup();
}
