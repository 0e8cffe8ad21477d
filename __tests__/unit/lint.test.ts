import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintDockerfile } from '../../src/dockerfile/lint.js';
import { builtinDockerfile } from '../../src/dockerfile/builtin.js';
import { FIXTURES } from './helpers.js';

const read = (p: string) => fs.readFileSync(p, 'utf8');
const opts = { multiPlatform: true, hasDockerignore: true, buildArgs: {} };

describe('Dockerfile lint', () => {
  it('reports each pitfall at its line', () => {
    const f = lintDockerfile(read(path.join(FIXTURES, 'dockerfiles', 'pitfalls.Dockerfile')), { ...opts, hasDockerignore: false });
    expect(f.map((x) => [x.line, x.rule])).toEqual([
      [1, 'builder-platform'],
      [1, 'no-dockerignore'],
      [1, 'unpinned-base'],
      [3, 'copy-before-download'],
      [4, 'no-go-cache-mount'],
      [5, 'go-build-flags'],
      [5, 'go-build-flags'],
      [5, 'no-go-cache-mount'],
      [7, 'unpinned-base'],
      [8, 'add-local'],
      [10, 'cgo-static'],
      [10, 'root-user'],
    ]);
    expect(f.find((x) => x.rule === 'go-build-flags')!.message).toMatch(/-trimpath/);
    expect(f.find((x) => x.line === 7)!.message).toMatch(/alpine:latest is :latest/);
  });

  it('USER root is reported at its line; a :nonroot base needs no USER; one platform needs no $BUILDPLATFORM', () => {
    const text =
      'FROM golang:1.24 AS b\nENV CGO_ENABLED=0\nRUN --mount=type=cache,target=/root/.cache/go-build go build -trimpath -ldflags="-s -w" -o /a .\nFROM scratch\nUSER root\n';
    expect(lintDockerfile(text, opts).map((x) => [x.line, x.rule])).toEqual([
      [1, 'builder-platform'],
      [5, 'root-user'],
    ]);
    expect(
      lintDockerfile(text.replace('FROM scratch\nUSER root', 'FROM gcr.io/distroless/static-debian12:nonroot'), {
        ...opts,
        multiPlatform: false,
      }),
    ).toEqual([]);
  });

  it('a go build or go mod download with no Go cache mount is a finding: the caches this action carries cannot reach it', () => {
    const text = [
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS b',
      'ENV CGO_ENABLED=0',
      'COPY go.mod go.sum ./',
      'RUN go mod download',
      'COPY . .',
      'RUN --mount=type=cache,target=/go/pkg/mod go build -trimpath -ldflags="-s -w" -o /a .',
      'FROM scratch',
      'COPY --from=b /a /a',
      'USER 65532',
    ].join('\n');
    const f = lintDockerfile(text, opts);
    expect(f.map((x) => [x.line, x.rule])).toEqual([
      [4, 'no-go-cache-mount'],
      [6, 'no-go-cache-mount'],
    ]);
    expect(f[0].message).toMatch(/^go mod download without a cache mount on GOMODCACHE/);
    expect(f[1].message).toMatch(/^go build without a cache mount on GOCACHE/);
    // Mounts named by go-cache-mounts count, whatever their paths.
    const named = text
      .replace('RUN go mod download', 'RUN --mount=type=cache,id=mods,target=/cache/m go mod download')
      .replace(
        '--mount=type=cache,target=/go/pkg/mod go build',
        '--mount=type=cache,id=mods,target=/cache/m --mount=type=cache,id=objs,target=/cache/b go build',
      );
    expect(lintDockerfile(named, { ...opts, goCacheMounts: { mod: 'mods', build: 'objs' } })).toEqual([]);
  });

  it.each([
    ['the example', path.join(FIXTURES, '..', '..', 'example', 'Dockerfile')],
    ['the fixture service', path.join(FIXTURES, 'dockerfiles', 'goservice.Dockerfile')],
  ])('reports nothing on %s', (_n, file) => {
    expect(lintDockerfile(read(file), opts)).toEqual([]);
  });

  it.each([
    ['defaults', {}],
    ['scratch', { baseImage: 'scratch' }],
    ['a distroless base', { baseImage: 'gcr.io/distroless/static-debian12:nonroot' }],
  ])('reports nothing on the built-in Dockerfile (%s)', (_n, o) => {
    expect(lintDockerfile(builtinDockerfile({ goVersion: '1.24', goMain: '.', cgo: false, ...o }), opts)).toEqual([]);
  });

  it('the built-in Dockerfile mounts the netrc secret only in the step that downloads modules', () => {
    const text = builtinDockerfile({ goVersion: '1.24', goMain: '.', cgo: false });
    const runs = text
      .replace(/\\\n/g, ' ')
      .split('\n')
      .filter((l) => l.startsWith('RUN '));
    expect(runs.filter((r) => r.includes('go build'))).toHaveLength(1);
    expect(runs.filter((r) => r.includes('id=netrc')).map((r) => r.trim().split(/\s+/).slice(-3).join(' '))).toEqual(['go mod download']);
  });
});
