import { describe, expect, it } from 'vitest';
import { ProgressPrinter } from '../../src/imagebuild/progress.js';
import { backoffSeconds, classifyFailure } from '../../src/imagebuild/retry.js';
import { type FailedStep, failedStepOf } from '../../src/imagebuild/runner.js';
import { parseSettings } from '../../src/settings/parse.js';
import { fixture, runnerInputs } from './helpers.js';

/** The failed step of a captured build, as runBuild hands it to the classifier. */
function failedStep(name: string): FailedStep | undefined {
  const p = new ProgressPrinter(() => undefined);
  p.write(fixture(name));
  p.end();
  return failedStepOf(p);
}

describe('build failure classification on captured go mod download failures', () => {
  it('retries a module proxy answering 503', () => {
    const step = failedStep('rawjson-goproxy-503.txt');
    expect(step?.name).toBe('[builder 4/6] RUN --mount=type=cache,id=gomod,target=/go/pkg/mod     go mod download');
    const v = classifyFailure(step);
    expect(v.retry).toBe(true);
    expect(v.reason).toMatch(
      /^transient: 503 Service Unavailable \(go: github\.com\/beorn7\/perks@v1\.0\.1: reading http:\/\/127\.0\.0\.1:3222\/.*503 Service Unavailable\)$/,
    );
  });
  it('does not retry a module that is gone (410)', () => {
    expect(classifyFailure(failedStep('rawjson-goproxy-410.txt'))).toEqual({ retry: false, reason: 'permanent: a module is gone (410)' });
  });
  it('does not retry refused credentials (401)', () => {
    expect(classifyFailure(failedStep('rawjson-goproxy-401.txt'))).toEqual({
      retry: false,
      reason: 'permanent: the module proxy refused the credentials (401)',
    });
  });
  it('does not retry a compile error', () => {
    const v = classifyFailure(failedStep('rawjson-fail.txt'));
    expect(v).toEqual({ retry: false, reason: 'not a module download failure' });
  });
  it('does not retry a compile error that says "unexpected EOF" (captured)', () => {
    const step = failedStep('rawjson-compile-eof.txt');
    expect(step?.logs.join('\n')).toMatch(/syntax error: unexpected EOF/);
    expect(classifyFailure(step)).toEqual({ retry: false, reason: 'not a module download failure' });
  });
  it('does not retry a test that gets "connection refused" from its own server (captured)', () => {
    const step = failedStep('rawjson-test-refused.txt');
    expect(step?.logs.join('\n')).toMatch(/connection refused/);
    expect(classifyFailure(step)).toEqual({ retry: false, reason: 'not a module download failure' });
  });
  it("retries a refused connection to the module proxy, judged on Go's fetch line", () => {
    const line =
      'go: github.com/gin-gonic/gin@v1.8.1: Get "https://proxy.golang.org/github.com/gin-gonic/gin/@v/v1.8.1.mod": dial tcp 127.0.0.1:443: connect: connection refused';
    expect(classifyFailure({ name: '[builder 4/6] RUN go mod download', error: 'exit code: 1', logs: [line] })).toEqual({
      retry: true,
      reason: `transient: connection refused (${line})`,
    });
  });
  it('does not retry a failing step that runs no Go command', () => {
    expect(
      classifyFailure({ name: '[stage-1 2/3] RUN apk add curl', error: 'exit code: 1', logs: ['503 Service Unavailable'] }).retry,
    ).toBe(false);
    expect(classifyFailure(undefined).retry).toBe(false);
  });
  it('a successful build has no failed step', () => {
    expect(failedStep('rawjson-warm.txt')).toBeUndefined();
  });
  it('backs off 1, 2, 4 ... seconds, capped at 30', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffSeconds(a))).toEqual([1, 2, 4, 8, 30]);
  });
});

describe('retry and private-module inputs', () => {
  const ws = { GITHUB_WORKSPACE: process.cwd() + '/example' };
  const read = runnerInputs;
  it('defaults to 2 retries and no private modules', () => {
    expect(parseSettings(read({}), ws)).toMatchObject({ retries: 2, goPrivate: undefined, goNetrc: undefined });
  });
  it('reads GOPRIVATE patterns and a netrc', () => {
    const s = parseSettings(
      read({ retries: '0', 'go-private': 'github.com/acme/*, example.com/x', 'go-netrc': 'machine 127.0.0.1 login ci password t0k3n' }),
      ws,
    );
    expect(s).toMatchObject({
      retries: 0,
      goPrivate: 'github.com/acme/*,example.com/x',
      goNetrc: 'machine 127.0.0.1 login ci password t0k3n\n',
    });
  });
  it.each([
    [{ retries: '-1' }, /"retries" is invalid: "-1" is not a whole number in range\. Accepted: 0 to 10/],
    [{ retries: 'many' }, /"retries" is invalid/],
    [{ retries: '11' }, /"retries" is invalid/],
    [{ 'go-private': 'github.com/acme/* ; rm -rf /' }, /"go-private" is invalid/],
    [{ 'go-netrc': 'ghp_just_a_token' }, /"go-netrc" is invalid: "<hidden>" is not netrc content/],
  ])('%j is rejected', (inputs, message) => {
    expect(() => parseSettings(read(inputs), ws)).toThrow(message);
  });
  it('never echoes a netrc in its error', () => {
    expect(() => parseSettings(read({ 'go-netrc': 'tok-ABC123' }), ws)).toThrow(/^(?!.*tok-ABC123)/s);
  });
});
