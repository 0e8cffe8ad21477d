// How the action is released and consumed: the workflows pass action-validator, the release workflow moves
// the major tag only after every check, and its notes come from CHANGELOG.md.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { changelogSection } from '../../scripts/changelog-section.mjs';
import { FIXTURES } from './helpers.js';

const ROOT = path.join(FIXTURES, '..', '..');
const VALIDATOR = path.join(ROOT, 'node_modules', '.bin', 'action-validator');

/** action-validator's verdict on a file's text, written to a temp file of the same name. */
function validate(name: string, text: string): { ok: boolean; out: string } {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gba-av-')), name);
  fs.writeFileSync(f, text);
  const r = spawnSync(VALIDATOR, [f], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe('action-validator (0.6.0)', () => {
  const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
  it.each(['release.yml', 'ci.yml'])('.github/workflows/%s passes as it is', (name) => {
    const r = validate(name, read(`.github/workflows/${name}`));
    expect(r.ok, r.out).toBe(true);
  });
  it('.github/workflows/e2e.yml passes once the attestations permission, newer than the validator schema, is taken out', () => {
    const text = read('.github/workflows/e2e.yml');
    expect(validate('e2e.yml', text).out).toContain("Additional property 'attestations' is not allowed");
    const r = validate('e2e.yml', text.replace(/^\s+attestations: write.*\n/gm, ''));
    expect(r.ok, r.out).toBe(true);
  });
  it('action.yml passes with node20 in place of node24, which the validator schema predates', () => {
    const text = read('action.yml');
    expect(text).toContain('using: node24');
    const r = validate('action.yml', text.replace('using: node24', 'using: node20'));
    expect(r.ok, r.out).toBe(true);
  });
});

describe('the release workflow', () => {
  const wf = parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8')) as {
    on: { push: { tags: string[] } };
    jobs: Record<
      string,
      { needs?: string[]; uses?: string; permissions?: Record<string, string>; steps?: { name?: string; run?: string; uses?: string }[] }
    >;
  };
  const runs = (job: string) => (wf.jobs[job].steps ?? []).map((s) => s.run ?? '');

  it('runs on v<major>.<minor>.<patch> tags only', () => {
    expect(wf.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
  });
  it('checks that dist/ is what the source builds, and every static check and the unit tests, and runs the e2e jobs', () => {
    const check = runs('check').join('\n');
    for (const c of [
      'bash scripts/check-dist.sh',
      'npm run lint',
      'npm run typecheck',
      'npm run test:unit',
      'npm run format:check',
      'changelog-section.mjs',
    ]) {
      expect(check).toContain(c);
    }
    expect(wf.jobs.e2e.uses).toBe('./.github/workflows/e2e.yml');
    expect(parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'e2e.yml'), 'utf8')).on).toHaveProperty('workflow_call');
  });
  it('moves the major tag only in the job that needs every check, and only after the release is published', () => {
    const moving = Object.entries(wf.jobs).filter(([, j]) => (j.steps ?? []).some((s) => /git push .*refs\/tags/.test(s.run ?? '')));
    expect(moving.map(([name]) => name)).toEqual(['release']);
    expect(wf.jobs.release.needs).toEqual(['check', 'e2e']);
    const steps = runs('release');
    const published = steps.findIndex((r) => r.includes('gh release create'));
    const moved = steps.findIndex((r) => r.includes('git push'));
    expect(published).toBeGreaterThanOrEqual(0);
    expect(moved).toBeGreaterThan(published);
    // Only that job may write to the repository.
    for (const [name, j] of Object.entries(wf.jobs)) if (name !== 'release') expect(j.permissions?.contents, name).not.toBe('write');
  });
});

describe('CHANGELOG.md and the release notes', () => {
  const text = fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
  it('has an Unreleased section, which is what the notes of a release come from once it is given a version', () => {
    expect(changelogSection(text, 'Unreleased')).toMatch(/### Added/);
    expect(changelogSection(`# Changelog\n\n## [0.2.0] - 2027-01-10\n\n### Fixed\n\n- x\n\n## [0.1.0]\n\n- y\n`, 'v0.2.0')).toBe(
      '### Fixed\n\n- x',
    );
  });
  it('refuses a tag whose version has no section, saying which', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'changelog-section.mjs'), 'v9.9.9'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CHANGELOG.md has no "## [9.9.9]" section: add one before tagging v9.9.9');
  });
});
