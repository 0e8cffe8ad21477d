import { describe, expect, it } from 'vitest';
import { buildFailure, failedStepOf } from '../../src/imagebuild/runner.js';
import {
  cacheProblems,
  cacheStats,
  decodeAll,
  isCountedStep,
  parseStepName,
  RawJsonDecoder,
  type StreamItem,
  VertexTable,
} from '../../src/imagebuild/rawjson.js';
import { ProgressPrinter } from '../../src/imagebuild/progress.js';
import { fixture } from './helpers.js';

function table(items: StreamItem[]): VertexTable {
  const t = new VertexTable();
  for (const it of items) if (it.kind === 'status') for (const v of it.status.vertexes ?? []) t.update(v);
  return t;
}

function statsOf(name: string) {
  return cacheStats(table(decodeAll(fixture(name))).all());
}

describe('rawjson decoder on captured buildx 0.13 output', () => {
  it('decodes every pretty-printed object of a cold build and leaves no text', () => {
    const items = decodeAll(fixture('rawjson-cold.txt'));
    expect(items.filter((i) => i.kind === 'status')).toHaveLength(90);
    expect(items.filter((i) => i.kind === 'text')).toHaveLength(0);
  });

  it('gives the same items whatever the chunk boundaries are', () => {
    const text = fixture('rawjson-fail.txt');
    const whole = decodeAll(text);
    for (const size of [1, 7, 64, 1000]) {
      const d = new RawJsonDecoder();
      const got: StreamItem[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...d.push(text.slice(i, i + size)));
      got.push(...d.end());
      expect(got).toEqual(whole);
    }
  });

  it('treats the plain-text error trailer as text, including "${VERSION}" braces', () => {
    const items = decodeAll(fixture('rawjson-fail.txt'));
    const text = items.filter((i) => i.kind === 'text').map((i) => (i as { text: string }).text);
    expect(text[0]).toBe('Dockerfile:20');
    expect(text.some((l) => l.includes('-X main.version=${VERSION}'))).toBe(true);
    expect(text.at(-1)).toMatch(/^ERROR: failed to solve: process .* did not complete successfully: exit code: 1$/);
  });

  it('decodes one-object-per-line framing (buildx >= 0.15) the same way', () => {
    const pretty = decodeAll(fixture('rawjson-warm.txt'));
    const compact = pretty.map((i) => (i.kind === 'status' ? JSON.stringify(i.status) : '')).join('\n');
    expect(decodeAll(compact)).toEqual(pretty);
  });
});

describe('step names', () => {
  it.each([
    ['[linux/amd64 builder 4/6] RUN go mod download', { label: 'linux/amd64 builder', index: 4, count: 6, instruction: 'RUN' }],
    ['[linux/amd64->arm64 builder 6/6] RUN go build', { label: 'linux/amd64->arm64 builder', index: 6, count: 6, instruction: 'RUN' }],
    ['[stage-1 2/2] COPY --from=builder /out/hello /hello', { label: 'stage-1', index: 2, count: 2, instruction: 'COPY' }],
    ['[2/3] WORKDIR /src', { label: '', index: 2, count: 3, instruction: 'WORKDIR' }],
  ])('parses %s', (name, want) => {
    expect(parseStepName(name)).toEqual(want);
  });

  it.each([
    '[internal] load build definition from Dockerfile',
    '[linux/amd64 internal] load metadata for docker.io/library/golang:1.24',
    '[linux/amd64 builder 1/6] FROM docker.io/library/golang:1.24@sha256:5c13',
    'importing cache manifest from localhost:5000/hello-cache:buildcache',
    'exporting to image',
    'exporting cache to registry',
  ])('does not count %s', (name) => {
    expect(isCountedStep(name)).toBe(false);
  });
});

describe('cache statistics from real builds of the example', () => {
  it('cold build: only the step BuildKit deduplicated across platforms is cached', () => {
    expect(statsOf('rawjson-cold.txt')).toEqual({ hits: 1, steps: 10, rate: 10 });
  });
  it('after `buildx prune -af`, with the registry cache: every step cached', () => {
    expect(statsOf('rawjson-warm.txt')).toEqual({ hits: 10, steps: 10, rate: 100 });
  });
  it('after a Go source change: module steps cached, compile and later steps not', () => {
    expect(statsOf('rawjson-change.txt')).toEqual({ hits: 5, steps: 10, rate: 50 });
  });
  it('merges repeated updates of a vertex, keeping cached once seen', () => {
    const t = new VertexTable();
    t.update({ digest: 'a', name: '[1/2] RUN x', cached: true });
    t.update({ digest: 'a', started: '2026-01-01T00:00:00Z', completed: '2026-01-01T00:00:01Z' });
    expect(t.all()).toEqual([
      { digest: 'a', name: '[1/2] RUN x', cached: true, seq: 1, started: '2026-01-01T00:00:00Z', completed: '2026-01-01T00:00:01Z' },
    ]);
  });
});

describe('cache problems', () => {
  it('finds the failed import and the failed export when the cache registry is down', () => {
    const problems = cacheProblems(table(decodeAll(fixture('rawjson-regdown.txt'))).all());
    expect(problems.map((p) => p.kind)).toEqual(['import', 'export']);
    expect(problems[0].error).toContain('connection refused');
    expect(problems[1].vertex).toBe('exporting cache to registry');
  });
  it('reports the missing cache ref of a first-ever build as an import problem', () => {
    const problems = cacheProblems(table(decodeAll(fixture('rawjson-cold.txt'))).all());
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'import', vertex: 'importing cache manifest from localhost:5000/hello-cache:buildcache' });
  });
});

describe('readable log', () => {
  function render(name: string): string[] {
    const lines: string[] = [];
    const p = new ProgressPrinter((l) => lines.push(l));
    p.write(fixture(name));
    p.end();
    return lines;
  }

  it('shows the failing step, the compiler output and the error', () => {
    const lines = render('rawjson-fail.txt');
    const step = lines.find((l) => /^#\d+ \[linux\/amd64 builder 6\/6\] RUN/.test(l));
    expect(step).toBeDefined();
    const seq = step!.split(' ')[0];
    expect(lines).toContain(`${seq} ./main.go:35:26: undefined: undefinedThing`);
    expect(lines.some((l) => l.startsWith(`${seq} ERROR: process "/bin/sh -c`))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ERROR: failed to solve/);
  });

  it.each([
    ['rawjson-fail.txt', 'buildx 0.13.1'],
    ['rawjson-fail-buildx-0.29.txt', 'buildx 0.29.1, which says "failed to build: failed to solve:"'],
  ])('the failure message from %s (%s) names the step, without the solver prefixes', (file) => {
    const p = new ProgressPrinter(() => undefined);
    p.write(fixture(file));
    p.end();
    const msg = buildFailure(p.trailer, failedStepOf(p), 1);
    expect(msg).toMatch(/^Build failed: process "\/bin\/sh -c .*" did not complete successfully: exit code: \d$/);
  });

  it('prints CACHED once per cached Dockerfile step of a warm build', () => {
    const lines = render('rawjson-warm.txt');
    const names = new Map<string, string>();
    for (const l of lines) {
      const m = /^(#\d+) (\[.*)$/.exec(l);
      if (m) names.set(m[1], m[2]);
    }
    const cachedSteps = lines.filter((l) => /^#\d+ CACHED$/.test(l)).map((l) => names.get(l.split(' ')[0]));
    expect(cachedSteps.filter((n) => isCountedStep(n))).toHaveLength(10);
  });

  it('prints DONE with a duration for steps that ran', () => {
    const lines = render('rawjson-cold.txt');
    expect(lines.some((l) => /^#\d+ DONE \d+\.\ds$/.test(l))).toBe(true);
  });
});
