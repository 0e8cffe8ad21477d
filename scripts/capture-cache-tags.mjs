// Records what the cleanup reads, from real runs: the example built by the action (dist/) for the default
// branch, a pull request and a branch, into one cache repository of the local registry; then each cache tag's
// digest and manifest. Writes __tests__/fixtures/cleanup/cache-tags.json. Needs `scripts/engine.sh up`.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, runAction } from './run-action.mjs';

const { fetch } = globalThis;
const REG = 'http://127.0.0.1:5000';
const repo = `capture-${Date.now().toString(36)}/hello-cache`;
const cacheRef = `localhost:5000/${repo}`;
const ws = fs.mkdtempSync('/tmp/gba-capture-');
fs.cpSync(path.join(ROOT, 'example'), ws, { recursive: true });

for (const event of [{ kind: 'push' }, { kind: 'pull_request', number: 7, fork: true }, { kind: 'push', branch: 'feature/login' }]) {
  const r = await runAction({ 'cache-ref': cacheRef }, { workspace: ws, event });
  if (r.exitCode !== 0) throw new Error(`${JSON.stringify(event)} failed:\n${r.log}`);
}
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
const tags = (await (await fetch(`${REG}/v2/${repo}/tags/list`)).json()).tags.sort();
const out = [];
for (const tag of tags) {
  const res = await fetch(`${REG}/v2/${repo}/manifests/${tag}`, { headers: { Accept: ACCEPT } });
  const body = Buffer.from(await res.arrayBuffer());
  out.push({
    tag,
    digest: `sha256:${crypto.createHash('sha256').update(body).digest('hex')}`,
    manifest: JSON.parse(body.toString('utf8')),
  });
}
const file = path.join(ROOT, '__tests__', 'fixtures', 'cleanup', 'cache-tags.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(
  file,
  `${JSON.stringify({ repository: cacheRef, prefix: 'buildcache', githubRepository: 'acme/hello', tags: out }, null, 2)}\n`,
);
console.log(`${out.length} tags → ${file}`);
