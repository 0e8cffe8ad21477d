// Private Go modules over git+ssh, with docker/build-push-action's `ssh` input:
// a local sshd (Debian's openssh-server) on loopback serves a bare git
// repository of a private module; the build fetches it through
// `RUN --mount=type=ssh` with GOPRIVATE and a git insteadOf rule; and the key
// is in no log, layer, config, history or cache image afterwards.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runAction } from '../../scripts/run-action.mjs';
import { engineUp, secretScan, uniqueRepo, workspace } from './engine.js';

const PORT = 2232;
const DIR = `/tmp/gba-sshd-${PORT}`;
const MODULE = 'gba.test/acme/privlib.git';
const GREETING = 'hello from a private module over ssh';

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The host's git and ssh with the libraries they load, laid out for `COPY tools/ /` (the Go stand-in has no libc). */
function toolsInto(root: string): void {
  const bins = ['/usr/bin/git', '/usr/bin/ssh'];
  const files = new Set(bins);
  for (const b of bins) for (const m of sh('ldd', [b]).matchAll(/(\/\S+) \(0x/g)) files.add(m[1]);
  for (const f of files) {
    const dest = path.join(root, f);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(fs.realpathSync(f), dest);
    fs.chmodSync(dest, 0o755);
  }
  fs.mkdirSync(path.join(root, 'usr/lib/git-core'), { recursive: true });
  fs.symlinkSync('/usr/bin/git', path.join(root, 'usr/lib/git-core/git'));
}

describe.runIf(engineUp)('private modules over git+ssh with the ssh input (real engine, local sshd)', () => {
  let key = '';
  let ws = '';
  beforeAll(() => {
    fs.mkdirSync(DIR, { recursive: true });
    const keys = path.join(DIR, 'authorized_keys');
    fs.writeFileSync(keys, '');
    sh('bash', [path.join(ROOT, 'scripts/engine.sh'), 'sshd', String(PORT), DIR, keys]);
    const keyFile = path.join(DIR, 'client_ed25519');
    if (!fs.existsSync(keyFile)) sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gba-e2e', '-f', keyFile]);
    fs.writeFileSync(keys, fs.readFileSync(`${keyFile}.pub`));
    key = keyFile;

    // The private module, in a bare repository the sshd serves, tagged v1.0.0.
    const bare = path.join(DIR, 'srv/acme/privlib.git');
    if (!fs.existsSync(bare)) {
      const src = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-privlib-'));
      fs.writeFileSync(path.join(src, 'go.mod'), `module ${MODULE}\n\ngo 1.24\n`);
      fs.writeFileSync(path.join(src, 'lib.go'), `package privlib\n\nfunc Hello() string { return "${GREETING}" }\n`);
      const git = (...a: string[]) => sh('git', ['-c', 'user.name=gba', '-c', 'user.email=gba@test', ...a], src);
      git('init', '-q', '-b', 'main');
      git('add', '.');
      git('commit', '-q', '-m', 'v1');
      git('tag', 'v1.0.0');
      sh('git', ['init', '-q', '--bare', bare]);
      git('push', '-q', bare, 'main', 'v1.0.0');
    }

    ws = workspace(undefined, {
      'go.mod': `module example.com/sshsvc\n\ngo 1.24\n\nrequire ${MODULE} v1.0.0\n`,
      'main.go': `package main\n\nimport (\n\t"fmt"\n\n\tprivlib "${MODULE}"\n)\n\nfunc main() { fmt.Println(privlib.Hello()) }\n`,
      Dockerfile: [
        'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
        'COPY tools/ /',
        'WORKDIR /src',
        'COPY go.mod main.go ./',
        'ARG GOPRIVATE',
        'ENV GOFLAGS=-mod=mod GOPROXY=direct CGO_ENABLED=0',
        'ENV GIT_SSH_COMMAND="ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"',
        `RUN git config --global url."ssh://root@127.0.0.1:${PORT}${DIR}/srv/".insteadOf "https://gba.test/"`,
        // A module cache of its own per run, so that every run fetches the module over ssh again.
        'ARG NONCE',
        'RUN --mount=type=ssh --mount=type=cache,id=gomod-ssh-$NONCE,target=/go/pkg/mod \\',
        '    echo "run $NONCE" && go mod tidy && go build -trimpath -ldflags "-s -w" -o /out/app . && /out/app',
        'FROM scratch',
        'COPY --from=build /out/app /app',
        'ENTRYPOINT ["/app"]',
        '',
      ].join('\n'),
    });
    toolsInto(path.join(ws, 'tools'));
  });

  it('fetches the private module through the ssh mount, and the key is nowhere after', async () => {
    const repo = uniqueRepo('ssh-app');
    const cacheRepo = uniqueRepo('ssh-cache');
    const sshdLog = `${process.env.GBA_ENGINE_LOGS ?? '/var/log/gba-engine'}/sshd-${PORT}.log`;
    const logins = () =>
      fs.existsSync(sshdLog) ? (fs.readFileSync(sshdLog, 'utf8').match(/Accepted publickey for root/g)?.length ?? 0) : 0;
    const before = logins();
    const r = await runAction(
      {
        platforms: 'linux/amd64',
        tags: `${repo}:1`,
        push: 'true',
        'cache-ref': cacheRepo,
        network: 'host',
        ssh: `default=${key}`,
        'go-private': 'gba.test/*',
        'build-args': `NONCE=${randomUUID()}`,
        'smoke-test': 'false',
        lint: 'off',
        provenance: 'false',
      },
      { workspace: ws },
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(`"--ssh","default=${key}"`);
    // The module came over ssh: the service built against it and printed its greeting.
    expect(r.log).toContain(GREETING);
    // ...and over ssh: the sshd let the key in.
    expect(logins()).toBeGreaterThan(before);

    // The private key's body, line by line: in no log, layer, config, history or cache image.
    const keyLines = fs
      .readFileSync(key, 'utf8')
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(2);
    for (const line of keyLines) {
      const { found, control } = await secretScan({
        secret: line,
        logs: { main: r.rawLog, post: r.post.log },
        repo,
        tag: '1',
        cacheRepo,
        control: 'app',
      });
      expect(control, 'the scan reads the image layers').toBeGreaterThan(0);
      expect(Object.keys(found).length).toBeGreaterThan(5);
      expect(
        Object.values(found).reduce((a, b) => a + b, 0),
        JSON.stringify(found),
      ).toBe(0);
    }
  });
});
