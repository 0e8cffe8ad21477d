// A Dockerfile lint for the pitfalls that make Go images slow to build, big,
// or unsafe. lintDockerfile is pure (text in, findings out); annotateLint
// turns the findings into annotations on the Dockerfile's lines.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import { Inputs, Outputs } from '../constants.js';
import type { Settings } from '../settings/types.js';
import { buildArgMap, type Stage, type StageInstruction, stages, substitute } from './reader.js';
import { type GoCacheKind, goCacheKindsOfRun } from './gomounts.js';

export interface Finding {
  rule: string;
  line: number;
  message: string;
}

export interface LintOptions {
  multiPlatform: boolean;
  /** A .dockerignore (or <Dockerfile>.dockerignore) is in place. */
  hasDockerignore: boolean;
  buildArgs: Record<string, string>;
  /** go-cache-mounts: the mount targets or ids that are the Go caches, when the paths are not Go's defaults. */
  goCacheMounts?: Partial<Record<GoCacheKind, string>>;
}

const STATIC_BASE = /^(scratch|gcr\.io\/distroless\/static[^:@]*)(?:[:@].*)?$/;
const NONROOT_BASE = /[:-]nonroot(?:$|[-@])/;

const isGoBuild = (s: string) => /\bgo\s+build\b/.test(s);

type LintStage = Omit<Stage, 'ins'> & { ins: (StageInstruction & { text: string })[] };
type Add = (rule: string, line: number, message: string) => void;

export function lintDockerfile(text: string, o: LintOptions): Finding[] {
  // Each instruction's text with the ARG and ENV values in effect substituted.
  const all: LintStage[] = stages(text, o.buildArgs).map((st) => ({
    ...st,
    ins: st.ins.map((i) => ({ ...i, text: substitute(i.rest, i.vars) })),
  }));
  const findings: Finding[] = [];
  const add: Add = (rule, line, message) => findings.push({ rule, line, message });
  if (!o.hasDockerignore) {
    add(
      'no-dockerignore',
      1,
      'No .dockerignore: .git, build output and local secrets are sent to the builder and can invalidate COPY . . on every run',
    );
  }
  const names = new Set(all.map((s) => s.name).filter(Boolean));
  for (const s of all) {
    lintStage(s, names, add);
    lintGoCacheMounts(s, o.goCacheMounts, add);
  }
  const builders = all.filter((s) => s.ins.some((i) => i.keyword === 'RUN' && isGoBuild(i.text)));
  if (o.multiPlatform) {
    for (const b of builders) {
      if (!/\$\{?BUILDPLATFORM\}?/.test(b.platformFlag ?? '')) {
        add(
          'builder-platform',
          b.line,
          'Multi-platform build whose Go stage lacks --platform=$BUILDPLATFORM: it compiles under QEMU, several times slower. Cross-compile with GOOS/GOARCH from TARGETOS/TARGETARCH',
        );
      }
    }
  }
  const final = all[all.length - 1];
  if (final) lintFinalStage(final, builders, add);
  return findings.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

/** Rules inside one stage: the base image, the order of module download and COPY, ADD, go build flags. */
function lintStage(s: LintStage, stageNames: Set<string | undefined>, add: Add): void {
  if (s.base !== 'scratch' && !stageNames.has(s.base) && !s.base.includes('$')) {
    const ref = s.base.includes('@') ? undefined : s.base.slice(s.base.lastIndexOf('/') + 1);
    if (ref !== undefined && (!ref.includes(':') || ref.endsWith(':latest'))) {
      add(
        'unpinned-base',
        s.line,
        `Base image ${s.base} is ${ref.includes(':') ? ':latest' : 'untagged'}; pin a version (or a digest) so builds are repeatable`,
      );
    }
  }
  const download = s.ins.findIndex((i) => i.keyword === 'RUN' && /\bgo\s+mod\s+download\b/.test(i.text));
  const copyAll = s.ins.findIndex((i) => i.keyword === 'COPY' && !/--from=/.test(i.rest) && copiesContext(i.rest));
  if (copyAll !== -1 && download !== -1 && copyAll < download) {
    add(
      'copy-before-download',
      s.ins[copyAll].line,
      'COPY . . before go mod download: every code change invalidates the module download. Copy go.mod and go.sum, download, then copy the rest',
    );
  }
  for (const i of s.ins) {
    if (i.keyword === 'ADD' && !/(https?:\/\/|git@|\.git\b)/.test(i.rest)) {
      add('add-local', i.line, 'ADD for local files: use COPY, which does only that (ADD also unpacks archives and fetches URLs)');
    }
    if (i.keyword === 'RUN' && isGoBuild(i.text)) lintGoBuild(`${i.text} ${s.vars.GOFLAGS ?? ''}`, i.line, add);
  }
}

/**
 * A RUN that compiles or downloads modules without the Go cache it needs mounted: the caches this action
 * carries across runs cannot reach it, so it compiles, or downloads, from nothing on every runner.
 */
function lintGoCacheMounts(s: LintStage, explicit: LintOptions['goCacheMounts'], add: Add): void {
  for (const i of s.ins) {
    if (i.keyword !== 'RUN') continue;
    const kinds = goCacheKindsOfRun(i.rest, i.vars, explicit);
    if (isGoBuild(i.text) && !kinds.includes('build')) {
      add(
        'no-go-cache-mount',
        i.line,
        'go build without a cache mount on GOCACHE: the Go build cache this action restores never reaches it, so every runner compiles from nothing. Add --mount=type=cache,target=/root/.cache/go-build (and /go/pkg/mod)',
      );
    } else if (/\bgo\s+mod\s+download\b/.test(i.text) && !kinds.includes('mod')) {
      add(
        'no-go-cache-mount',
        i.line,
        'go mod download without a cache mount on GOMODCACHE: the module cache this action restores never reaches it, so every runner downloads every module. Add --mount=type=cache,target=/go/pkg/mod',
      );
    }
  }
}

function lintGoBuild(run: string, line: number, add: Add): void {
  if (!/-trimpath\b/.test(run))
    add('go-build-flags', line, 'go build without -trimpath: local paths end up in the binary and builds are not reproducible');
  const ldflags = /-ldflags[= ]+("[^"]*"|'[^']*'|\S+)/.exec(run)?.[1] ?? '';
  if (!/(^|["'\s])-s(\s|["']|$)/.test(ldflags) || !/(^|["'\s])-w(\s|["']|$)/.test(ldflags)) {
    add('go-build-flags', line, 'go build without -ldflags "-s -w": the symbol table and DWARF data make the binary about 30% bigger');
  }
}

/** Rules on the image that ships: a libc-less base needs CGO_ENABLED=0, and it should not run as root. */
function lintFinalStage(final: LintStage, builders: LintStage[], add: Add): void {
  if (STATIC_BASE.test(final.base) && builders.length > 0) {
    const cgoOff = builders.every(
      (b) => b.vars.CGO_ENABLED === '0' || b.ins.some((i) => i.keyword === 'RUN' && isGoBuild(i.text) && /CGO_ENABLED=0/.test(i.text)),
    );
    if (!cgoOff) {
      add(
        'cgo-static',
        final.line,
        `Final stage ${final.base} has no libc, and the Go build does not set CGO_ENABLED=0: the binary may not start`,
      );
    }
  }
  const users = final.ins.filter((i) => i.keyword === 'USER');
  const last = users[users.length - 1];
  if (!last) {
    if (!NONROOT_BASE.test(final.base))
      add(
        'root-user',
        final.line,
        'The final stage sets no USER, so the container runs as root; add USER 65532:65532 (or a named non-root user)',
      );
  } else if (/^(root|0)(:|$)/.test(last.text.trim())) {
    add('root-user', last.line, 'The final stage runs as root; use a non-root user such as 65532:65532');
  }
}

/** COPY . . / COPY ./ /src / COPY --chown=x . . : the whole context. */
function copiesContext(rest: string): boolean {
  const words = rest.split(/\s+/).filter((w) => w && !w.startsWith('--'));
  return words.slice(0, -1).some((w) => w === '.' || w === './');
}

/** Findings become annotations on the Dockerfile: warnings, or errors that stop the step with lint: strict. */
export function annotateLint(settings: Settings): void {
  if (settings.lint === 'off') return;
  const dockerignore = fs.existsSync(path.join(settings.context, '.dockerignore')) || fs.existsSync(`${settings.file}.dockerignore`);
  const findings = lintDockerfile(fs.readFileSync(settings.file, 'utf8'), {
    multiPlatform: settings.platforms.length > 1,
    hasDockerignore: dockerignore,
    buildArgs: buildArgMap(settings.buildArgs),
    goCacheMounts: settings.goCache.mounts,
  });
  core.setOutput(Outputs.lintFindings, JSON.stringify(findings));
  const file = path.relative(settings.workspace, settings.file);
  for (const f of findings) {
    const props = { title: `Dockerfile lint ${f.rule}`, file, startLine: f.line };
    out.annotate(settings.lint === 'strict' ? 'error' : 'warning', f.message, props);
  }
  out.info(`Dockerfile lint: ${findings.length} finding(s)`);
  if (settings.lint === 'strict' && findings.length > 0) {
    throw new Error(`${findings.length} Dockerfile lint finding(s) with ${Inputs.lint}: strict; nothing was built or pushed`);
  }
}
