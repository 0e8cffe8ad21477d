// vitest globalSetup of the e2e project: after the last file, the images this run's tests named are
// removed from the engine (testimages.ts). A failure here is only reported: it never fails the suite.
// Asynchronous: a synchronous `docker image rm` of a hundred names blocks vitest's own shutdown of the last
// worker ("Timeout terminating forks worker").
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { imagesOfRun } from './testimages.js';

const run = promisify(execFile);

export default function setup(): () => Promise<void> {
  const since = Date.now();
  return async () => {
    try {
      const { stdout } = await run('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
      const mine = imagesOfRun(stdout.split('\n'), since);
      for (let i = 0; i < mine.length; i += 100) await run('docker', ['image', 'rm', '--force', ...mine.slice(i, i + 100)]);
      if (mine.length > 0) console.log(`e2e teardown: removed ${mine.length} image name(s) the tests left in the engine`);
    } catch (err) {
      console.warn(`e2e teardown: the tests' images were not removed: ${(err as Error).message}`);
    }
  };
}
