// The engine's info and the CLI's current context are read without the docker CLI where that is safe
// (src/engine.ts): the engine API's GET /info on a local socket instead of `docker info` (which runs every
// CLI plugin first), and docker/cli's context rules instead of `docker context show`. Each is checked here
// against the CLI's own answer, on the real engines, and the action is run both ways.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { contextFromConfig, DOCKER_INFO_FORMAT, engineInfoFromApi, engineSocket, parseEngineInfo } from '../../src/engine.js';
import { engineUp, legsAllowed, startLeg, uniqueRepo, workspace } from './engine.js';

function apiInfo(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: '/info' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const docker = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFileSync('docker', args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

describe.runIf(engineUp)("the engine API's /info and `docker info` agree", () => {
  it('on the engine (Docker 28.5, the containerd store)', async () => {
    const socket = engineSocket({}, 'default');
    expect(socket).toBe('/var/run/docker.sock');
    const viaApi = engineInfoFromApi(await apiInfo(socket!));
    expect(viaApi).toEqual(parseEngineInfo(docker(['info', '--format', DOCKER_INFO_FORMAT])));
    expect(viaApi.driverStatus).toContain('io.containerd.snapshotter.v1');
  });

  it.runIf(legsAllowed('classic-store leg'))('on the classic leg (Docker 26.1, overlay2), reached through DOCKER_HOST', async () => {
    const env = startLeg('classic');
    const socket = engineSocket(env, contextFromConfig(env, undefined)!);
    expect(socket).toBe(env.DOCKER_HOST.replace('unix://', ''));
    const viaApi = engineInfoFromApi(await apiInfo(socket!));
    expect(viaApi).toEqual(parseEngineInfo(docker(['info', '--format', DOCKER_INFO_FORMAT], env)));
    expect(viaApi.driverStatus).not.toContain('io.containerd.snapshotter.v1');
  });
});

describe.runIf(engineUp)("the CLI's current context: the rules read here give what `docker context show` prints", () => {
  const NAME = 'gba-e2e-ctx';
  let config = '';
  beforeAll(() => {
    config = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-docker-config-'));
    docker(['context', 'create', NAME, '--docker', 'host=unix:///var/run/docker.sock'], { DOCKER_CONFIG: config });
  });
  afterAll(() => fs.rmSync(config, { recursive: true, force: true }));

  const cases: [string, Record<string, string>, string | undefined][] = [
    ['no config file', {}, undefined],
    ['a config without currentContext', {}, '{"auths":{}}'],
    ["the config's currentContext", {}, `{"currentContext":"${NAME}"}`],
    ['DOCKER_CONTEXT over the config', { DOCKER_CONTEXT: NAME }, '{"currentContext":"default"}'],
    ['DOCKER_HOST over DOCKER_CONTEXT', { DOCKER_HOST: 'unix:///var/run/docker.sock', DOCKER_CONTEXT: NAME }, undefined],
  ];
  it.each(cases)('%s', (_, vars, text) => {
    const file = path.join(config, 'config.json');
    if (text === undefined) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, text);
    const env = { DOCKER_HOST: '', DOCKER_CONTEXT: '', ...vars, DOCKER_CONFIG: config };
    expect(contextFromConfig(env, text)).toBe(docker(['context', 'show'], env).trim());
  });

  const inputs = { push: 'false', platforms: 'linux/amd64', 'smoke-test': 'false', tags: `${uniqueRepo('dockercli')}:1` };
  it('the action in the default context asks the engine API, and neither `docker info` nor `docker context show`', async () => {
    const r = await runAction(inputs, { workspace: workspace('__tests__/e2e/smoke-fixture') });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain('::debug::engine info from its API at /var/run/docker.sock');
    expect(r.log).not.toMatch(/^::debug::exec: \["docker","(info|context)"/m);
    expect(r.log).toMatch(/builder default \(driver docker/);
  });

  it('the action in a named context asks `docker info`, and builds on that context’s builder', async () => {
    fs.writeFileSync(path.join(config, 'config.json'), '{}');
    const r = await runAction(inputs, {
      workspace: workspace('__tests__/e2e/smoke-fixture'),
      env: { DOCKER_CONFIG: config, DOCKER_CONTEXT: NAME },
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/^::debug::exec: \["docker","info","--format"/m);
    expect(r.log).not.toContain('engine info from its API');
    expect(r.log).toMatch(new RegExp(`builder ${NAME} \\(driver docker`));
    expect(r.log).toMatch(/Engine image store: containerd; driver: docker/);
  });
});
