// docker/build-push-action's inputs, swapped in unchanged, against the real
// engine and registry: named build contexts, host entries, secrets from the
// environment and from files, annotations read back from the registry, pull,
// no-cache, load, outputs and call. (ssh is in ssh.test.ts.)
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import { engineUp, occurrences, registryManifest, registryTags, sh, uniqueRepo, workspace } from './engine.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const DOCKERFILE = `FROM golang:1.24
COPY --from=extra hello.txt /hello.txt
ARG NONCE
RUN --mount=type=secret,id=envtok,required=true --mount=type=secret,id=filetok,required=true \\
    echo "nonce $NONCE" && sha256sum /run/secrets/envtok /run/secrets/filetok && grep gba-test-host /etc/hosts && cat /hello.txt
`;

describe.runIf(engineUp)("docker/build-push-action's inputs, swapped in unchanged (real engine)", () => {
  const envSecret = `env-secret-${randomUUID()}`;
  const fileSecret = `file-secret-${randomUUID()}`;
  const ws = workspace(undefined, {
    Dockerfile: DOCKERFILE,
    '.dockerignore': 'secret.txt\n',
    'secret.txt': fileSecret,
    'extra/hello.txt': 'hello from a named context\n',
  });
  const common = { platforms: 'linux/amd64', 'smoke-test': 'false', lint: 'off' };

  it('build-contexts, add-hosts, secret-envs, secret-files and annotations, with pull: the build sees each, the log no secret', async () => {
    const repo = uniqueRepo('dropin');
    const r = await runAction(
      {
        ...common,
        tags: `${repo}:1`,
        push: 'true',
        'build-args': `NONCE=${randomUUID()}`,
        'build-contexts': 'extra=extra',
        'add-hosts': 'gba-test-host:10.1.2.3',
        'secret-envs': 'envtok=GBA_E2E_TOKEN',
        'secret-files': 'filetok=secret.txt',
        annotations: 'index:org.opencontainers.image.description=swapped in unchanged',
        pull: 'true',
      },
      { workspace: ws, env: { GBA_E2E_TOKEN: envSecret } },
    );
    expect(r.exitCode, r.log).toBe(0);
    // Inside the build: each secret's hash, the host entry, the named context's file.
    expect(r.log).toContain(`${sha(envSecret)}  /run/secrets/envtok`);
    expect(r.log).toContain(`${sha(fileSecret)}  /run/secrets/filetok`);
    expect(r.log).toMatch(/10\.1\.2\.3\s+gba-test-host/);
    expect(r.log).toContain('hello from a named context');
    expect(r.log).toContain('"--pull"');
    // The values are masked, and the action never printed them anyway.
    const masks = r.commands.filter((c) => c.name === 'add-mask').map((c) => c.message);
    expect(masks).toEqual(expect.arrayContaining([envSecret, fileSecret]));
    expect(occurrences(r.rawLog.replace(/^::add-mask::.*$/gm, ''), envSecret)).toBe(0);
    expect(occurrences(r.rawLog.replace(/^::add-mask::.*$/gm, ''), fileSecret)).toBe(0);
    // The annotation is on the index in the registry.
    const index = await registryManifest(repo, '1');
    expect(index!.body.annotations?.['org.opencontainers.image.description']).toBe('swapped in unchanged');
  });

  it('no-cache: every step runs again, and the Go caches are neither restored nor saved', async () => {
    const inputs = { ...common, 'build-args': 'NONCE=fixed', 'build-contexts': 'extra=extra', 'add-hosts': 'gba-test-host:10.1.2.3' };
    const env = { GBA_E2E_TOKEN: envSecret };
    const secrets = { 'secret-envs': 'envtok=GBA_E2E_TOKEN', 'secret-files': 'filetok=secret.txt' };
    const warm = await runAction({ ...inputs, ...secrets }, { workspace: ws, env });
    expect(warm.exitCode, warm.log).toBe(0);
    const again = await runAction({ ...inputs, ...secrets }, { workspace: ws, env });
    expect(again.outputs['cache-hits']).not.toBe('0');
    const cold = await runAction(
      { ...inputs, ...secrets, 'no-cache': 'true', 'cache-ref': `${uniqueRepo('dropin-cache')}` },
      { workspace: ws, env },
    );
    expect(cold.exitCode, cold.log).toBe(0);
    expect(cold.outputs['cache-hits']).toBe('0');
    expect(cold.log).toContain('"--no-cache"');
    expect(cold.log).toMatch(/Go caches are off.*no-cache: true|no-cache: true/);
    expect(cold.post.log).not.toMatch(/Save Go caches/);
  });

  it('load with the docker driver: the image is in the engine, as it always is there', async () => {
    const tag = `${uniqueRepo('dropin-load')}:1`;
    const r = await runAction(
      { platforms: 'linux/amd64', tags: tag, load: 'true', 'smoke-test': 'true' },
      { workspace: workspace('example') },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs['smoke-passed']).toBe('true');
    expect(sh('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]).trim()).toMatch(/^sha256:/);
    sh('docker', ['image', 'rm', tag]);
  });

  it('outputs replace where the image goes: exported as asked, nothing measured, tested or pushed', async () => {
    const dest = fs.mkdtempSync(path.join(ws, 'out-'));
    const repo = uniqueRepo('dropin-outputs');
    const r = await runAction(
      { platforms: 'linux/amd64', tags: `${repo}:1`, outputs: `type=local,dest=${dest}` },
      { workspace: workspace('example'), allowUnintended: false },
    );
    expect(r.exitCode, r.log).toBe(0);
    // The example's final stage is its binary (and its user database) on scratch.
    expect(fs.existsSync(path.join(dest, 'hello'))).toBe(true);
    expect(r.log).toMatch(/::warning::Smoke test skipped: with outputs the image goes where they say/);
    expect(r.outputs['image-sizes'] ?? '').toBe('');
    expect(await registryTags(repo)).toEqual([]);
  });

  it("docker's distribute-across-runners recipe, outputs as written: run as push-by-digest, smoke-tested before the digest reaches the registry, no tag", async () => {
    const repo = uniqueRepo('recipe');
    const r = await runAction(
      { platforms: 'linux/amd64', outputs: `type=image,"name=${repo}",push-by-digest=true,name-canonical=true,push=true` },
      { workspace: workspace('example') },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(`is docker's push-by-digest recipe: it runs as push-by-digest: true to ${repo}`);
    expect(r.outputs['smoke-passed']).toBe('true');
    const digest = r.outputs.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registryManifest(repo, digest)).toBeDefined();
    expect(await registryTags(repo)).toEqual([]);
  });

  it('call: check on the primary engine (buildx 0.29): the check runs, nothing is built, measured or pushed', async () => {
    const r = await runAction({ platforms: 'linux/amd64', call: 'check' }, { workspace: workspace('example') });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain('Check complete, no warnings found.');
    expect(r.log).toContain('call: check builds no image: no sizes, no smoke test, nothing pushed');
    expect(r.outputs.pushed).toBe('false');
  });

  it('a Dockerfile with no Go cache mounts: a warning annotation on each such RUN line says the Go caches cannot help it', async () => {
    const ws = workspace('example');
    const file = path.join(ws, 'Dockerfile');
    // The example without its cache mounts, as many Dockerfiles are written.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/--mount=type=cache,\S+\s*(\\\n\s*)?/g, ''));
    const r = await runAction({ platforms: 'linux/amd64', call: 'check', 'cache-ref': uniqueRepo('nomounts-cache') }, { workspace: ws });
    expect(r.exitCode, r.log).toBe(0);
    const findings = JSON.parse(r.outputs['lint-findings']).filter((f: { rule: string }) => f.rule === 'no-go-cache-mount');
    expect(findings.map((f: { message: string }) => f.message.split(':')[0])).toEqual([
      'go mod download without a cache mount on GOMODCACHE',
      'go build without a cache mount on GOCACHE',
    ]);
    for (const f of findings) {
      expect(r.log).toContain(`::warning title=Dockerfile lint no-go-cache-mount,file=Dockerfile,line=${f.line}::`);
    }
  });
});

describe.runIf(engineUp)("docker/setup-buildx-action's builder options, against the real buildx CLI", () => {
  it('driver: remote with an appended node: the real buildx takes both create commands; nothing listens, so the step fails clearly and post removes the builder', async () => {
    const r = await runAction(
      {
        platforms: 'linux/amd64,linux/arm64',
        driver: 'remote',
        endpoint: 'tcp://127.0.0.1:1',
        append: '- name: gba-arm64\n  endpoint: tcp://127.0.0.1:2\n  platforms: linux/arm64',
      },
      { workspace: workspace('example') },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).not.toMatch(/unknown flag/);
    expect(r.log).toMatch(
      /buildx create --append argv: \["create","--append","--name","gba-[^"]+","--node","gba-arm64","--platform","linux\/arm64","tcp:\/\/127\.0\.0\.1:2"\]/,
    );
    expect(r.log).toMatch(/::error::.*(connection refused|connect)/i);
    const name = r.saved.createdBuilder;
    expect(r.post.log).toContain(`Removing builder ${name}`);
    expect(sh('docker', ['buildx', 'ls'])).not.toContain(name);
  });

  it('driver auto with driver-opts and buildkitd-config-inline on a containerd-store engine: docker-container, which takes them (not the docker driver, which would drop them)', async () => {
    const image = `${uniqueRepo('no-buildkit')}:1`;
    const r = await runAction(
      {
        platforms: 'linux/amd64',
        'driver-opts': `image=${image}\nnetwork=host`,
        'buildkitd-config-inline': '[registry."localhost:5000"]\n  http = true',
      },
      { workspace: workspace('example') },
    );
    expect(r.log).toContain(
      'driver: docker-container (auto: driver-opts, buildkitd-config-inline given, which only a BuildKit container takes)',
    );
    expect(r.log).toContain(`"--driver","docker-container"`);
    expect(r.log).toContain(`"--driver-opt","image=${image}","--driver-opt","network=host","--buildkitd-config"`);
    // The BuildKit image named is not there: the step fails on it, and post removes the builder.
    expect(r.exitCode).toBe(1);
    expect(sh('docker', ['buildx', 'ls'])).not.toContain(r.saved.createdBuilder);
  });

  it('docker-container with driver-opts and buildkitd-config-inline: the real buildx takes them; a BuildKit image that is not there fails on the image', async () => {
    const image = `${uniqueRepo('no-buildkit')}:1`;
    const r = await runAction(
      {
        platforms: 'linux/amd64',
        driver: 'docker-container',
        'driver-opts': `image=${image}\nnetwork=host`,
        'buildkitd-config-inline': '[registry."localhost:5000"]\n  http = true',
      },
      { workspace: workspace('example') },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).not.toMatch(/unknown flag/);
    expect(r.log).toContain(`"--driver-opt","image=${image}","--driver-opt","network=host","--buildkitd-config"`);
    expect(r.log).toMatch(new RegExp(`::error::.*${image.replace(/[/.]/g, '\\$&').split(':')[0]}`));
    expect(sh('docker', ['buildx', 'ls'])).not.toContain(r.saved.createdBuilder);
  });
});
