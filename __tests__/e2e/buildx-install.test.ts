// buildx-version: a real download through @actions/tool-cache from
// buildx-download-url (a local server laid out like GitHub releases, serving
// the engine's own buildx binary), then a build with that standalone binary.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { engineUp, exampleWorkspace, registryTags, sh, uniqueRepo } from './engine.js';

const PLUGIN_PATHS = [
  '/usr/local/lib/docker/cli-plugins/docker-buildx',
  path.join(os.homedir(), '.docker/cli-plugins/docker-buildx'),
  '/usr/libexec/docker/cli-plugins/docker-buildx',
];

describe.runIf(engineUp)('buildx-version installs through the tool cache', () => {
  let server: http.Server;
  let base: string;
  let version: string;
  const requests: string[] = [];
  const toolCache = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-toolcache-'));

  beforeAll(async () => {
    const plugin = PLUGIN_PATHS.find((p) => fs.existsSync(p));
    if (!plugin) throw new Error(`no buildx plugin found in ${PLUGIN_PATHS.join(', ')}`);
    version = /buildx v?(\d+\.\d+\.\d+)/.exec(sh('docker', ['buildx', 'version']))![1];
    const sha = crypto.createHash('sha256').update(fs.readFileSync(plugin)).digest('hex');
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      if (
        req.url === `/releases/v${version}/buildx-v${version}.linux-amd64` ||
        req.url === '/releases/v0.98.0/buildx-v0.98.0.linux-amd64' ||
        // The pinned release's name, serving a binary that is not that release.
        req.url === '/releases/v0.19.3/buildx-v0.19.3.linux-amd64'
      ) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        fs.createReadStream(plugin).pipe(res);
      } else if (req.url === `/releases/v${version}/checksums.txt`) {
        // The release's own format: sha256sum lines for every artifact.
        res.writeHead(200).end(`${'0'.repeat(64)}  buildx-v${version}.darwin-arm64\n${sha}  buildx-v${version}.linux-amd64\n`);
      } else if (req.url === '/releases/v0.98.0/checksums.txt') {
        // A tampered (or corrupted) download: the release says something else.
        res.writeHead(200).end(`${'f'.repeat(64)}  buildx-v0.98.0.linux-amd64\n`);
      } else {
        res.writeHead(404).end('Not Found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases`;
  });
  afterAll(() => {
    server?.close();
    fs.rmSync(toolCache, { recursive: true, force: true });
  });

  it('downloads, caches and uses the requested version; a second run hits the tool cache', async () => {
    const ws = exampleWorkspace();
    const image = uniqueRepo('hello');
    const r = await runAction(
      { 'buildx-version': `v${version}`, 'buildx-download-url': base, tags: `${image}:tc`, platforms: 'linux/amd64' },
      { workspace: ws, toolCache },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(requests).toEqual([`/releases/v${version}/buildx-v${version}.linux-amd64`, `/releases/v${version}/checksums.txt`]);
    expect(r.log).toMatch(new RegExp(`buildx buildx-v${version}\\.linux-amd64: sha256 [0-9a-f]{64} matches`));
    const cached = path.join(toolCache, 'buildx', version, 'x64', 'buildx');
    expect(fs.existsSync(cached)).toBe(true);
    // The build ran with the standalone binary from the tool cache, not the plugin.
    expect(r.log).toContain(`::debug::exec: ["${cached}","build"`);

    const again = await runAction(
      { 'buildx-version': version, 'buildx-download-url': base, tags: `${image}:tc2`, platforms: 'linux/amd64' },
      { workspace: ws, toolCache },
    );
    expect(again.exitCode, again.log).toBe(0);
    // A tool-cache hit is checked again before it runs: only the checksums file is fetched.
    expect(requests).toEqual([
      `/releases/v${version}/buildx-v${version}.linux-amd64`,
      `/releases/v${version}/checksums.txt`,
      `/releases/v${version}/checksums.txt`,
    ]);
    expect(again.log).not.toMatch(/Downloading buildx/);
  });

  it('a binary planted in the tool cache is refused before it runs, and nothing is pushed (trust, round 2, item 9)', async () => {
    const cached = path.join(toolCache, 'buildx', version, 'x64', 'buildx');
    expect(fs.existsSync(cached), 'the first test cached buildx').toBe(true);
    const marker = path.join(os.tmpdir(), `gba-planted-${process.pid}`);
    const original = fs.readFileSync(cached);
    fs.writeFileSync(cached, `#!/bin/sh\ntouch ${marker}\nexec ${'/usr/local/lib/docker/cli-plugins/docker-buildx'} "$@"\n`);
    try {
      const image = uniqueRepo('hello');
      const r = await runAction(
        { 'buildx-version': version, 'buildx-download-url': base, tags: `${image}:planted`, push: 'true' },
        { workspace: exampleWorkspace(), toolCache },
      );
      expect(r.exitCode).toBe(1);
      expect(r.log).toMatch(
        /::error::The tool cache's buildx at .* has sha256 [0-9a-f]{64}, but .*checksums\.txt says [0-9a-f]{64}: it is not that release, and it was not run/,
      );
      expect(fs.existsSync(marker), 'the planted binary ran').toBe(false);
      expect(await registryTags(image)).toEqual([]);
    } finally {
      fs.writeFileSync(cached, original);
      fs.rmSync(marker, { force: true });
    }
  });

  it('the pinned buildx is checked against the sha256 embedded in the action, not a checksums file from the same mirror', async () => {
    const before = requests.length;
    const image = uniqueRepo('hello');
    const r = await runAction(
      { 'buildx-version': '0.19.3', 'buildx-download-url': base, tags: `${image}:pinned`, push: 'true' },
      { workspace: exampleWorkspace(), toolCache },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /::error::buildx from http:\/\/127\.0\.0\.1:\d+\/releases\/v0\.19\.3\/buildx-v0\.19\.3\.linux-amd64 has sha256 [0-9a-f]{64}, but the sha256 pinned in the action says 32ed111e941e385c2fb8261eba06a4056915718fd606f8278834ac1931d261a2; it was not used/,
    );
    expect(requests.slice(before)).toEqual(['/releases/v0.19.3/buildx-v0.19.3.linux-amd64']);
    expect(await registryTags(image)).toEqual([]);
  });

  it('a version that does not exist fails with a clear error and pushes nothing', async () => {
    const ws = exampleWorkspace();
    const image = uniqueRepo('hello');
    const r = await runAction(
      { 'buildx-version': '0.99.0', 'buildx-download-url': base, tags: `${image}:nope`, push: 'true' },
      { workspace: ws, toolCache },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /::error::Input "buildx-version" is invalid: "0\.99\.0" could not be downloaded from http:\/\/127\.0\.0\.1:\d+\/releases\/v0\.99\.0\/buildx-v0\.99\.0\.linux-amd64 \(HTTP 404\)/,
    );
    expect(r.log).not.toContain('"build","--builder"');
    expect(await registryTags(image)).toEqual([]);
  });

  it('a download whose sha256 differs from the release checksums is not used, and nothing is pushed', async () => {
    const image = uniqueRepo('hello');
    const r = await runAction(
      { 'buildx-version': '0.98.0', 'buildx-download-url': base, tags: `${image}:bad`, push: 'true' },
      { workspace: exampleWorkspace(), toolCache },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /::error::buildx from http:\/\/127\.0\.0\.1:\d+\/releases\/v0\.98\.0\/buildx-v0\.98\.0\.linux-amd64 has sha256 [0-9a-f]{64}, but .*checksums\.txt says f{64}; it was not used/,
    );
    expect(fs.existsSync(path.join(toolCache, 'buildx', '0.98.0'))).toBe(false);
    expect(await registryTags(image)).toEqual([]);
  });

  it('uses an existing builder named by the builder input', async () => {
    const ws = exampleWorkspace();
    const r = await runAction({ builder: 'default', platforms: 'linux/amd64' }, { workspace: ws });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.builder).toBe('default');
    expect(r.outputs.driver).toBe('docker');
    expect(r.saved.createdBuilder ?? '').toBe('');
  });
});
