// A Go module proxy (GOPROXY protocol) on 127.0.0.1 that serves real modules
// from Debian's golang-*-dev packages (/usr/share/gocode/src). It counts every
// request and can inject faults: fail the first N requests with a status, or
// require basic auth. Used by the e2e tests and the benchmark.
//
// Debian ships one version of each module, while go.mod files ask for
// others, so every requested version of a known module is answered with the
// Debian tree (the fixture's go.sum is generated against this proxy).
//
//   node scripts/goproxy.mjs [--port 3000] [--root /usr/share/gocode/src]
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const GOCODE = '/usr/share/gocode/src';
/** Made by scripts/engine.sh; the golang:1.24 stand-in trusts its CA. */
export const TEST_CA_DIR = process.env.GBA_ENGINE_STATE ? `${process.env.GBA_ENGINE_STATE}/test-ca` : '/var/lib/gba-engine/test-ca';

/** Debian version → Go semver: "1:0.7.0+dfsg-1" → v0.7.0, "0.0~git20211218.b94a6e3-1" → pseudo-version. */
export function debToSemver(deb) {
  let v = deb.replace(/^\d+:/, '').replace(/-[^-]+$/, '');
  const git = /^(\d+)\.(\d+)\.?(\d*)~git(\d{8})\.([0-9a-f]+)/.exec(v);
  if (git) return `v${git[1]}.${git[2]}.${git[3] || 0}-${git[4]}000000-${git[5].padEnd(12, '0').slice(0, 12)}`;
  v = v.replace(/[+~].*$/, '');
  const parts = v.split('.');
  while (parts.length < 3) parts.push('0');
  return `v${parts.slice(0, 3).join('.')}`;
}

/** module path → { dir, version, goMod } from the installed golang-*-dev packages. */
export function indexModules(root = GOCODE) {
  const modules = new Map();
  let pkgs = [];
  try {
    pkgs = execFileSync('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'golang-*'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
  } catch {
    return modules;
  }
  for (const [pkg, version] of pkgs) {
    const list = ['', ':all', ':amd64'].map((s) => `/var/lib/dpkg/info/${pkg}${s}.list`).find((f) => fs.existsSync(f));
    if (!list) continue;
    const files = fs.readFileSync(list, 'utf8').split('\n');
    const mods = files.filter((f) => f.startsWith(root + '/') && f.endsWith('/go.mod') && !/\/(testdata|vendor|_examples?)\//.test(f));
    const dirs = mods.length > 0 ? mods.map((f) => path.dirname(f)) : legacyRoots(files, root);
    for (const dir of dirs) {
      const goModPath = path.join(dir, 'go.mod');
      const goMod = fs.existsSync(goModPath) ? fs.readFileSync(goModPath, 'utf8') : undefined;
      const mod = goMod ? /^module\s+"?([^"\s]+)"?/m.exec(goMod)?.[1] : path.relative(root, dir);
      if (!mod || modules.has(mod)) continue;
      modules.set(mod, { dir, version: debToSemver(version), goMod: goMod ?? `module ${mod}\n`, pkg });
    }
  }
  return modules;
}

/** The module root of an import path in a repository without go.mod, by hosting convention. */
export function legacyModulePath(importPath) {
  const parts = importPath.split('/');
  const take = /^(github\.com|gitlab\.com|bitbucket\.org|golang\.org)$/.test(parts[0])
    ? 3
    : parts[0] === 'gopkg.in'
      ? /\.v\d+$/.test(parts[1])
        ? 2
        : 3
      : parts[0] === 'google.golang.org'
        ? 2
        : parts.length;
  return parts.slice(0, take).join('/');
}

// For a package without go.mod: its module roots, found from the .go files it ships.
function legacyRoots(files, root) {
  const roots = new Set();
  for (const f of files) {
    if (f.startsWith(root + '/') && f.endsWith('.go')) roots.add(path.join(root, legacyModulePath(path.relative(root, path.dirname(f)))));
  }
  return [...roots];
}

/** Module paths required by a go.mod (single-line and block forms). */
export function requiredModules(goMod) {
  const out = [];
  for (const m of goMod.matchAll(/^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]{2,}\/[^\s]+)\s+v[^\s]+/gm)) out.push(m[1]);
  return out;
}

// --- a minimal stored (uncompressed) zip writer ------------------------------
const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
export function zipStored(entries) {
  const chunks = [];
  const central = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const n = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    chunks.push(local, n, data);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x0800, 8);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(n.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, cd, end]);
}

/**
 * The module zip: every regular file under dir under "module@version/", minus
 * nested modules: directories with their own go.mod, and directories that are
 * other known modules (Debian drops some nested go.mod files, e.g. ugorji/go/codec).
 */
export function moduleZip(mod, version, dir, otherModules = new Set()) {
  const entries = [];
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      let st;
      try {
        st = fs.statSync(full);
      } catch {
        continue; // dangling link
      }
      if (st.isDirectory()) {
        if (e.isSymbolicLink() || e.name === '.git' || e.name === 'vendor') continue;
        if (fs.existsSync(path.join(full, 'go.mod')) || otherModules.has(`${mod}/${r}`)) continue;
        walk(full, r);
      } else if (st.isFile()) {
        entries.push({ name: `${mod}@${version}/${r}`, data: fs.readFileSync(full) });
      }
    }
  };
  walk(dir, '');
  return zipStored(entries);
}

// Module paths are case-encoded in URLs: "!a" stands for "A".
const decodePath = (p) => p.replace(/!([a-z])/g, (_, c) => c.toUpperCase());

/**
 * tls: serve HTTPS with the test CA's certificate for 127.0.0.1. The go command
 * sends netrc credentials only over HTTPS, so private-module tests need it.
 */
export function startGoProxy({ port = 0, root = GOCODE, auth, failFirst = 0, failStatus = 503, tls = false } = {}) {
  const modules = indexModules(root);
  const zips = new Map();
  const stats = { requests: 0, failed: 0, zips: {}, mods: {}, infos: 0, lists: 0, unauthorized: 0 };
  const faults = { remaining: failFirst, status: failStatus, auth };

  const handler = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/_')) return control(url, req, res);
    stats.requests++;
    if (faults.auth) {
      const want = 'Basic ' + Buffer.from(faults.auth).toString('base64');
      if (req.headers.authorization !== want) {
        stats.unauthorized++;
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="goproxy"' }).end('unauthorized\n');
        return;
      }
    }
    if (faults.remaining > 0) {
      faults.remaining--;
      stats.failed++;
      res.writeHead(faults.status).end(`injected failure ${faults.status}\n`);
      return;
    }
    const m = /^\/(.+)\/@(v\/(list|(.+)\.(info|mod|zip))|latest)$/.exec(decodePath(url.pathname));
    if (!m) return notFound(res, 'unknown path');
    const [, mod, , , version, kind] = m;
    const entry = lookup(mod);
    if (!entry) {
      // Version selection reads go.mod files of the whole graph, including
      // test-only dependencies of dependencies that Debian does not ship; an
      // empty go.mod is enough there. Their code is never served.
      if (kind === 'mod' && required.has(mod)) {
        stats.mods[`${mod}@${version}`] = (stats.mods[`${mod}@${version}`] ?? 0) + 1;
        return text(res, `module ${mod}\n`);
      }
      if (kind === 'info' && required.has(mod)) return json(res, { Version: version, Time: '2023-01-01T00:00:00Z' });
      return notFound(res, `module ${mod} is not in Debian's golang-*-dev packages here`);
    }
    if (m[2] === 'latest' || kind === 'info') {
      stats.infos++;
      return json(res, { Version: version ?? entry.version, Time: '2023-01-01T00:00:00Z' });
    }
    if (m[3] === 'list') {
      stats.lists++;
      return text(res, entry.version + '\n');
    }
    if (kind === 'mod') {
      stats.mods[`${mod}@${version}`] = (stats.mods[`${mod}@${version}`] ?? 0) + 1;
      return text(res, entry.goMod);
    }
    const key = `${mod}@${version}`;
    stats.zips[key] = (stats.zips[key] ?? 0) + 1;
    if (!zips.has(key)) {
      const others = new Set([...modules.keys(), ...requiredModules(entry.goMod)].filter((k) => k !== mod));
      zips.set(key, moduleZip(mod, version, entry.dir, others));
    }
    res.writeHead(200, { 'Content-Type': 'application/zip' }).end(zips.get(key));
  };
  const server = tls
    ? https.createServer({ cert: fs.readFileSync(`${TEST_CA_DIR}/proxy.crt`), key: fs.readFileSync(`${TEST_CA_DIR}/proxy.key`) }, handler)
    : http.createServer(handler);

  // Modules that some go.mod requires: only these may be found by directory.
  const required = new Set([...modules.values()].flatMap((e) => requiredModules(e.goMod)));

  // A module Debian ships inside another one's tree without a go.mod of its own.
  function lookup(mod) {
    if (modules.has(mod)) return modules.get(mod);
    if (!required.has(mod)) return undefined;
    const dir = path.join(root, mod);
    if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.endsWith('.go'))) return undefined;
    const parent = [...modules.keys()].filter((k) => mod.startsWith(k + '/')).sort((a, b) => b.length - a.length)[0];
    const entry = { dir, version: parent ? modules.get(parent).version : 'v0.0.0', goMod: `module ${mod}\n` };
    modules.set(mod, entry);
    return entry;
  }

  function control(url, req, res) {
    if (url.pathname === '/_stats') return json(res, { ...stats, zipDownloads: Object.values(stats.zips).reduce((a, b) => a + b, 0) });
    if (url.pathname === '/_reset') {
      Object.assign(stats, { requests: 0, failed: 0, zips: {}, mods: {}, infos: 0, lists: 0, unauthorized: 0 });
      return json(res, { ok: true });
    }
    if (url.pathname === '/_faults') {
      if (url.searchParams.has('failFirst')) faults.remaining = Number(url.searchParams.get('failFirst'));
      if (url.searchParams.has('status')) faults.status = Number(url.searchParams.get('status'));
      if (url.searchParams.has('auth')) faults.auth = url.searchParams.get('auth') || undefined;
      return json(res, { remaining: faults.remaining, status: faults.status, auth: Boolean(faults.auth) });
    }
    return notFound(res, 'unknown control path');
  }

  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        url: `${tls ? 'https' : 'http'}://127.0.0.1:${addr.port}`,
        port: addr.port,
        modules,
        stats: () => ({ ...stats, zipDownloads: Object.values(stats.zips).reduce((a, b) => a + b, 0) }),
        reset: () => Object.assign(stats, { requests: 0, failed: 0, zips: {}, mods: {}, infos: 0, lists: 0, unauthorized: 0 }),
        faults,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

function json(res, body) {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
function text(res, body) {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
}
function notFound(res, why) {
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${why}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? dflt : process.argv[i + 1];
  };
  const p = await startGoProxy({
    port: Number(arg('port', '3000')),
    root: arg('root', GOCODE),
    auth: arg('auth', undefined),
    failFirst: Number(arg('fail-first', '0')),
    failStatus: Number(arg('fail-status', '503')),
    tls: process.argv.includes('--tls'),
  });
  console.log(`goproxy: ${p.modules.size} modules from ${arg('root', GOCODE)}, listening on ${p.url}`);
}

/**
 * `docker run` arguments for `go get MODULE` in the Go stand-in, in workspace
 * `ws`, through the proxy at `proxyUrl`: a go.sum change made the way a
 * developer makes it. Run it asynchronously when the proxy lives in the same process.
 */
export function goGetArgs(ws, proxyUrl, module) {
  return [
    'run',
    '--rm',
    '--network',
    'host',
    '-v',
    `${ws}:/src`,
    '-w',
    '/src',
    '-e',
    `GOPROXY=${proxyUrl}`,
    '-e',
    'GOSUMDB=off',
    '-e',
    'GOFLAGS=-mod=mod',
    'localhost:5000/library/golang:1.24',
    'go',
    'get',
    module,
  ];
}
