// Text that comes from the build or the image (step output, container logs,
// a probe's answer) is untrusted: a line such as `::add-mask::…`,
// `::error::…` or `::stop-commands::X` in it would be obeyed by the runner.
// It is printed inside a `::stop-commands::TOKEN` … `::TOKEN::` block, the
// runner's own way to print such text, with a fresh random token that the
// text cannot know. No workflow command of the action's own may be written
// while a block is open, so each block is opened and closed in one write.
import * as crypto from 'node:crypto';
import * as os from 'node:os';

export function untrustedBlock(lines: string[], token = crypto.randomBytes(16).toString('hex')): string {
  return [`::stop-commands::${token}`, ...lines, `::${token}::`, ''].join(os.EOL);
}

/** Prints untrusted lines (or text, split into lines) so that the runner sees no command in them. */
export function printUntrusted(text: string | string[]): void {
  const lines = Array.isArray(text) ? text : text.split(/\r?\n/);
  if (lines.length === 0 || (lines.length === 1 && lines[0] === '')) return;
  process.stdout.write(untrustedBlock(lines));
}
