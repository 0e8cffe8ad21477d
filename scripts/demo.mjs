// npm run demo: brings the engine up when none is running, runs the bundled
// action on example/ for linux/amd64 and linux/arm64 with the registry layer
// cache, pushes to the local registry, runs the post step, prints the outputs.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT, runAction } from './run-action.mjs';

function ok(cmd, args) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

if (!ok('docker', ['info']) || !ok('curl', ['-sf', 'http://127.0.0.1:5000/v2/'])) {
  console.log('No engine running: bringing one up (scripts/engine.sh up)...');
  const up = spawnSync('bash', [path.join(ROOT, 'scripts/engine.sh'), 'up'], { stdio: 'inherit' });
  if (up.status !== 0) process.exit(up.status ?? 1);
}
if (!ok('test', ['-f', path.join(ROOT, 'dist/index.js')])) {
  spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

const inputs = {
  context: 'example',
  platforms: 'linux/amd64,linux/arm64',
  tags: 'localhost:5000/demo/hello:latest',
  push: 'true',
  'cache-ref': 'localhost:5000/demo/hello-cache',
};
console.log(`Running dist/index.js with ${JSON.stringify(inputs, null, 2)}\n`);
const r = await runAction(inputs, { workspace: ROOT, echo: false });
// The runner hides ::debug:: lines unless debugging is on; so does the demo.
process.stdout.write(
  r.log
    .split('\n')
    .filter((l) => !l.startsWith('::debug::'))
    .join('\n'),
);
console.log(`\n--- post step (exit ${r.post.exitCode}) ---\n${r.post.log.trim()}`);
console.log(`\n--- outputs (main step exit ${r.exitCode}, ${r.seconds.toFixed(1)}s) ---`);
for (const [k, v] of Object.entries(r.outputs)) {
  if (k === 'metadata') continue;
  console.log(`${k.padEnd(16)} ${v}`);
}
process.exit(r.exitCode);
