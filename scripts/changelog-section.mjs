#!/usr/bin/env node
// Prints the CHANGELOG.md section of one version (`v1.2.3` or `1.2.3`), without its heading: the release
// notes. Exits 1, saying so, when CHANGELOG.md has no section for it, so that no release goes out unlisted.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The body of the `## [<version>]` section, trimmed; undefined when there is none. */
export function changelogSection(text, version) {
  const v = version.replace(/^v/, '');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## [${v}]`));
  if (start === -1) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines
    .slice(start + 1, end === -1 ? undefined : end)
    .join('\n')
    .trim();
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const version = process.argv[2] ?? '';
  const file = path.join(import.meta.dirname, '..', 'CHANGELOG.md');
  const body = changelogSection(fs.readFileSync(file, 'utf8'), version);
  if (!body) {
    console.error(`CHANGELOG.md has no "## [${version.replace(/^v/, '')}]" section: add one before tagging ${version}`);
    process.exit(1);
  }
  console.log(body);
}
