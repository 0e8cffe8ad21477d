import { describe, expect, it } from 'vitest';
import {
  TCP_SETTLE_MS,
  chooseProbe,
  commandArgv,
  healthcheckArgv,
  parseImageConfig,
  parsePortOutput,
  statusMatches,
} from '../../src/smoke/probe.js';
import { pollInterval, runArgs, tcpAttempt } from '../../src/smoke/container.js';
import * as net from 'node:net';
import { parseDuration, parseStatus } from '../../src/settings/values.js';
import { parseSettings } from '../../src/settings/parse.js';
import { type SmokeSettings } from '../../src/settings/types.js';
import { FIXTURES, fixture, runnerInputs } from './helpers.js';
import * as path from 'node:path';

const base: SmokeSettings = {
  enabled: true,
  healthStatus: [[200, 299]],
  graceMs: 3000,
  timeoutMs: 30000,
  intervalMs: 250,
  env: [],
  args: [],
  addHosts: [],
  platforms: ['linux/amd64'],
  strict: false,
};

describe('image config from docker image inspect', () => {
  it('reads the example: one exposed port, a HEALTHCHECK, a non-root user', () => {
    expect(parseImageConfig(fixture('image-inspect-hello.json'))).toEqual({
      exposedPorts: [8080],
      healthcheck: ['CMD', '/hello', '-healthcheck'],
      user: '65532:65532',
    });
  });
  it('reads an image with neither ports nor a HEALTHCHECK', () => {
    expect(parseImageConfig(fixture('image-inspect-golang.json'))).toEqual({ exposedPorts: [], healthcheck: undefined, user: undefined });
  });
});

describe('probe choice: the first that applies wins', () => {
  const hello = parseImageConfig(fixture('image-inspect-hello.json'));
  it.each<[string, Partial<SmokeSettings>, ReturnType<typeof parseImageConfig> | undefined, unknown]>([
    [
      'http on the single exposed port',
      { healthPath: '/healthz' },
      hello,
      { kind: 'http', path: '/healthz', port: 8080, status: [[200, 299]], body: undefined },
    ],
    [
      'http on an explicit port, with a body check',
      { healthPath: '/ready', healthPort: 9000, healthBody: 'ok' },
      hello,
      { kind: 'http', path: '/ready', port: 9000, status: [[200, 299]], body: 'ok' },
    ],
    [
      'http defaults to 8080 without a single exposed port',
      { healthPath: '/' },
      { exposedPorts: [80, 443] },
      { kind: 'http', path: '/', port: 8080, status: [[200, 299]], body: undefined },
    ],
    [
      'health-cmd beats the HEALTHCHECK',
      { healthCmd: 'wget -q -O- localhost:8080' },
      hello,
      { kind: 'cmd', argv: ['/bin/sh', '-c', 'wget -q -O- localhost:8080'] },
    ],
    ['the HEALTHCHECK when nothing is configured', {}, hello, { kind: 'healthcheck', argv: ['/hello', '-healthcheck'] }],
    [
      'a TCP connect to the exposed port without a HEALTHCHECK',
      {},
      { ...hello, healthcheck: undefined },
      { kind: 'tcp', port: 8080, settleMs: TCP_SETTLE_MS },
    ],
    ['the lowest of several exposed ports', {}, { exposedPorts: [9090, 8080] }, { kind: 'tcp', port: 8080, settleMs: TCP_SETTLE_MS }],
    ['health-port without health-path', { healthPort: 9000 }, { exposedPorts: [] }, { kind: 'tcp', port: 9000, settleMs: TCP_SETTLE_MS }],
    ['stays up, otherwise (no port exposed)', {}, parseImageConfig(fixture('image-inspect-golang.json')), { kind: 'alive', graceMs: 3000 }],
  ])('%s', (_n, over, config, want) => {
    expect(chooseProbe({ ...base, ...over }, config)).toEqual(want);
  });

  it.each([
    [
      ['CMD', '/hello', '-healthcheck'],
      ['/hello', '-healthcheck'],
    ],
    [
      ['CMD-SHELL', 'curl -f localhost || exit 1'],
      ['/bin/sh', '-c', 'curl -f localhost || exit 1'],
    ],
    [['NONE'], undefined],
  ])('HEALTHCHECK %j runs as %j', (test, want) => {
    expect(healthcheckArgv(test)).toEqual(want);
  });

  it.each([
    ['["/hello","-healthcheck"]', ['/hello', '-healthcheck']],
    ['test -f /tmp/ready', ['/bin/sh', '-c', 'test -f /tmp/ready']],
    ['[ -f /tmp/ready ]', ['/bin/sh', '-c', '[ -f /tmp/ready ]']],
  ])('health-cmd %j runs as %j', (cmd, want) => {
    expect(commandArgv(cmd)).toEqual(want);
  });
});

describe('docker port output', () => {
  it('finds each published port in the real listing', () => {
    const text = fixture('docker-port-output.txt');
    expect(parsePortOutput(text, 8080)).toEqual({ host: '127.0.0.1', port: 32770 });
    expect(parsePortOutput(text, 9090)).toEqual({ host: '127.0.0.1', port: 32769 });
    expect(parsePortOutput('127.0.0.1:32770\n', 8080)).toEqual({ host: '127.0.0.1', port: 32770 });
    expect(parsePortOutput("Error: No public port '8081/tcp' published for abc", 8081)).toBeUndefined();
  });
});

describe('how soon the next attempt comes', () => {
  const http = { kind: 'http' as const, path: '/healthz', port: 8080, status: [[200, 299]] as [number, number][] };
  it('while no server answers: every 50 ms at most; an answer that fails the check: smoke-interval', () => {
    expect(pollInterval(http, 250, { noAnswer: true })).toBe(50);
    expect(pollInterval(http, 250, {})).toBe(250);
    expect(pollInterval(http, 250)).toBe(250);
    expect(pollInterval({ kind: 'tcp', port: 8080, settleMs: 200 }, 250)).toBe(50);
    // Never longer than asked for.
    expect(pollInterval(http, 20, { noAnswer: true })).toBe(20);
  });
});

describe('docker run argv', () => {
  it('publishes to loopback on a random port, labels the container, and passes env and args', () => {
    const probe = { kind: 'http' as const, path: '/healthz', port: 8080, status: [[200, 299]] as [number, number][] };
    expect(
      runArgs({
        ref: 'r/a:1',
        platform: 'linux/arm64',
        probe,
        settings: { ...base, env: ['A=1'], args: ['-addr', ':8080'] },
        runKey: 'key',
        pull: 'never',
      }),
    ).toEqual([
      'run',
      '--detach',
      '--platform',
      'linux/arm64',
      '--pull',
      'never',
      '--label',
      'io.github.go-buildx-action=smoke',
      '--label',
      'io.github.go-buildx-action.run=key',
      '--publish',
      '127.0.0.1::8080',
      '--env',
      'A=1',
      'r/a:1',
      '-addr',
      ':8080',
    ]);
    expect(
      runArgs({
        ref: 'r/a@sha256:x',
        platform: 'linux/amd64',
        probe: { kind: 'alive', graceMs: 1 },
        settings: base,
        runKey: 'k',
        pull: 'missing',
      }),
    ).not.toContain('--publish');
  });

  it('smoke-network and smoke-add-hosts: the network joined, the hosts added; on the host network nothing is published', () => {
    const probe = { kind: 'http' as const, path: '/healthz', port: 8080, status: [[200, 299]] as [number, number][] };
    const argv = (settings: SmokeSettings) =>
      runArgs({ ref: 'r/a:1', platform: 'linux/amd64', probe, settings, runKey: 'k', pull: 'never' });
    const joined = argv({ ...base, network: 'github_network_1a2b', addHosts: ['db:10.0.0.5', 'cache:host-gateway'] });
    expect(joined.join(' ')).toContain(
      '--network github_network_1a2b --add-host db:10.0.0.5 --add-host cache:host-gateway --publish 127.0.0.1::8080',
    );
    const host = argv({ ...base, network: 'host' });
    expect(host.join(' ')).toContain('--network host');
    expect(host).not.toContain('--publish');
  });

  it.each([
    [{ 'smoke-network': '${{ job.services.postgres.network }}' }, /"smoke-network" is invalid: .* is not a network name/],
    [{ 'smoke-network': 'my net' }, /"smoke-network" is invalid: "my net" is not a network name/],
    [{ 'smoke-add-hosts': 'db' }, /"smoke-add-hosts" is invalid: "db" is not host:ip\. Accepted: host:ip or host=ip/],
    [{ 'smoke-add-hosts': 'db:not-an-ip' }, /"smoke-add-hosts" is invalid: "db:not-an-ip" is not host:ip/],
  ])('%j is refused, naming the input', (inputs, message) => {
    expect(() => parseSettings(runnerInputs(inputs), { GITHUB_WORKSPACE: path.join(FIXTURES, '..', '..', 'example') })).toThrow(message);
  });

  it('smoke-add-hosts takes both spellings and commas; smoke-network a name or host', () => {
    const s = parseSettings(runnerInputs({ 'smoke-add-hosts': 'db=10.0.0.5, cache:host-gateway\nv6:fd00::1', 'smoke-network': 'host' }), {
      GITHUB_WORKSPACE: path.join(FIXTURES, '..', '..', 'example'),
    });
    expect(s.smoke.addHosts).toEqual(['db:10.0.0.5', 'cache:host-gateway', 'v6:fd00::1']);
    expect(s.smoke.network).toBe('host');
  });
});

describe('smoke inputs', () => {
  const read = runnerInputs;
  // One unit for every bare number: seconds, whatever the input's default is written in.
  it.each([
    ['', '30s', 30000],
    ['45', '30s', 45000],
    ['1.5s', '30s', 1500],
    ['500ms', '30s', 500],
    ['', '250ms', 250],
    ['2', '250ms', 2000],
    ['0.1', '250ms', 100],
  ] as const)('duration %j (default %s) → %d ms', (raw, dflt, want) => {
    expect(parseDuration(read({ x: raw }), 'x', dflt)).toBe(want);
  });
  it.each(['-1', 'soon', '1y', '5 s'])('duration %j is rejected', (raw) => {
    expect(() => parseDuration(read({ 'smoke-timeout': raw }), 'smoke-timeout', '30s')).toThrow(
      /Input "smoke-timeout" is invalid: .* is not a duration\. Accepted: a number with ms, s, m, h or d, e\.g\. 30s; a bare number is seconds/,
    );
  });
  it.each([
    ['', [[200, 299]]],
    ['200', [[200, 200]]],
    [
      '200,204',
      [
        [200, 200],
        [204, 204],
      ],
    ],
    [
      '2xx,301-302',
      [
        [200, 299],
        [301, 302],
      ],
    ],
  ])('status %j', (raw, want) => {
    expect(parseStatus(read({ s: raw }), 's')).toEqual(want);
    expect(statusMatches(want[0][0], want as [number, number][])).toBe(true);
    expect(statusMatches(500, want as [number, number][])).toBe(false);
  });
  it.each(['ok', '600', '299-200', '2xx,'])('status %j is rejected', (raw) => {
    expect(() => parseStatus(read({ 'health-status': raw }), 'health-status')).toThrow(/Input "health-status" is invalid/);
  });

  it.each([
    [{ 'health-port': '0' }, /"health-port" is invalid: "0" is not a TCP port/],
    [{ 'health-port': '-8080' }, /"health-port" is invalid/],
    [{ 'health-port': 'http' }, /"health-port" is invalid/],
    [{ 'health-path': 'healthz' }, /"health-path" is invalid: "healthz" is not an absolute URL path/],
    [
      { 'smoke-platforms': 'linux/s390x' },
      /"smoke-platforms" is invalid: "linux\/s390x" is not one of the built platforms\. Accepted: linux\/amd64, linux\/arm64/,
    ],
    [{ 'smoke-timeout': '0' }, /"smoke-timeout" is invalid: .* must be more than zero/],
    [{ 'smoke-interval': '5ms' }, /"smoke-interval" is invalid: "5ms" is below 10 ms/],
    // The old unit of this input: a bare 250 was milliseconds, and is seconds now.
    [
      { 'smoke-interval': '250' },
      /"smoke-interval" is invalid: "250" is longer than smoke-timeout \(30s\); a bare number is seconds\. Accepted: .*250ms/,
    ],
    [{ 'smoke-test': 'maybe' }, /"smoke-test" is invalid: "maybe" is not a boolean/],
    [{ 'smoke-env': 'NOT VALID=1' }, /"smoke-env" is invalid/],
  ])('%j is rejected', (inputs, message) => {
    expect(() => parseSettings(read(inputs), { GITHUB_WORKSPACE: process.cwd() + '/example' })).toThrow(message);
  });
});

// The TCP probe against real sockets on loopback, including the way Docker's userland proxy behaves when
// nothing listens in the container: it accepts, then closes at once.
describe('tcp probe', () => {
  const serve = (onConn: (c: net.Socket) => void) =>
    new Promise<net.Server>((resolve) => {
      const srv = net.createServer(onConn);
      srv.listen(0, '127.0.0.1', () => resolve(srv));
    });
  const portOf = (srv: net.Server) => (srv.address() as net.AddressInfo).port;
  it('passes when the connection stays open', async () => {
    const srv = await serve(() => undefined);
    expect(await tcpAttempt('127.0.0.1', portOf(srv), 1000)).toMatchObject({ ok: true });
    srv.close();
  });
  it('passes when the server speaks first', async () => {
    const srv = await serve((c) => c.write('220 ready\r\n'));
    expect(await tcpAttempt('127.0.0.1', portOf(srv), 1000)).toMatchObject({ ok: true, detail: expect.stringContaining('speaks first') });
    srv.close();
  });
  it('fails when the connection is closed at once (a proxy with nothing behind it)', async () => {
    const srv = await serve((c) => c.destroy());
    expect(await tcpAttempt('127.0.0.1', portOf(srv), 1000)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('closed at once'),
    });
    srv.close();
  });
  it('fails when nothing listens', async () => {
    const srv = await serve(() => undefined);
    const port = portOf(srv);
    await new Promise((r) => srv.close(r));
    expect(await tcpAttempt('127.0.0.1', port, 1000)).toEqual({ ok: false, detail: 'no answer (ECONNREFUSED)' });
  });
});
