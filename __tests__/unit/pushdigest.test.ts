import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialsFor } from '../../src/registry/auth.js';
import { uploadPlan } from '../../src/publish/bydigest.js';
import { registryOf } from '../../src/ref.js';
import { FIXTURES } from './helpers.js';

const layout = path.join(FIXTURES, 'oci-layout-hello');
const read = (d: string) => JSON.parse(fs.readFileSync(path.join(layout, 'blobs', ...d.split(':')), 'utf8'));

describe('push by digest from the engine', () => {
  it('uploads every blob, then the manifests children first and the root last (captured OCI layout)', () => {
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
    const root = index.manifests[0].digest;
    const plan = uploadPlan(root, read);
    expect(plan.manifests[plan.manifests.length - 1].digest).toBe(root);
    const children = plan.manifests.slice(0, -1);
    expect(children.length).toBeGreaterThanOrEqual(2);
    for (const m of children) {
      const doc = read(m.digest);
      expect(plan.blobs).toContain(doc.config.digest);
      for (const l of doc.layers) expect(plan.blobs).toContain(l.digest);
    }
    expect(new Set(plan.blobs).size).toBe(plan.blobs.length);
  });

  it.each([
    ['ghcr.io/acme/api', { host: 'ghcr.io', path: 'acme/api', base: 'https://ghcr.io', authKey: 'ghcr.io' }],
    ['localhost:5000/e2e/app', { host: 'localhost:5000', path: 'e2e/app', base: 'http://localhost:5000', authKey: 'localhost:5000' }],
    ['127.0.0.1:5000/app', { host: '127.0.0.1:5000', path: 'app', base: 'http://127.0.0.1:5000', authKey: '127.0.0.1:5000' }],
    [
      'acme/api',
      { host: 'registry-1.docker.io', path: 'acme/api', base: 'https://registry-1.docker.io', authKey: 'https://index.docker.io/v1/' },
    ],
    [
      'nginx',
      { host: 'registry-1.docker.io', path: 'library/nginx', base: 'https://registry-1.docker.io', authKey: 'https://index.docker.io/v1/' },
    ],
    // Docker Hub written with its name: the API is on registry-1.docker.io, the credentials under index.docker.io/v1/.
    [
      'docker.io/acme/api',
      { host: 'registry-1.docker.io', path: 'acme/api', base: 'https://registry-1.docker.io', authKey: 'https://index.docker.io/v1/' },
    ],
    [
      'docker.io/alpine',
      {
        host: 'registry-1.docker.io',
        path: 'library/alpine',
        base: 'https://registry-1.docker.io',
        authKey: 'https://index.docker.io/v1/',
      },
    ],
    [
      'index.docker.io/acme/api',
      { host: 'registry-1.docker.io', path: 'acme/api', base: 'https://registry-1.docker.io', authKey: 'https://index.docker.io/v1/' },
    ],
  ])('registry of %s', (repo, want) => {
    expect(registryOf(repo)).toEqual(want);
  });

  const saved = process.env.DOCKER_CONFIG;
  afterEach(() => {
    if (saved === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = saved;
  });
  it('reads the credentials docker login stored', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-dockercfg-'));
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'ghcr.io': { auth: Buffer.from('bot:tok:en').toString('base64') },
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
        },
      }),
    );
    process.env.DOCKER_CONFIG = dir;
    expect(await credentialsFor(registryOf('ghcr.io/acme/api'))).toEqual({ username: 'bot', password: 'tok:en' });
    expect(await credentialsFor(registryOf('docker.io/acme/api'))).toEqual({ username: 'hub', password: 'pw' });
    expect(await credentialsFor(registryOf('acme/api'))).toEqual({ username: 'hub', password: 'pw' });
    expect(await credentialsFor(registryOf('quay.io/acme/api'))).toBeUndefined();
  });
});
