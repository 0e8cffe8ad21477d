// vitest globalSetup of the e2e project: after the last file, the images this run's tests named are
// removed from the engine (testimages.ts). A failure here is only reported: it never fails the suite.
import { execFileSync } from 'node:child_process';
import { imagesOfRun } from './testimages.js';

export default function setup(): () => void {
  const since = Date.now();
  return () => {
    try {
      const refs = execFileSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' }).split('\n');
      const mine = imagesOfRun(refs, since);
      for (let i = 0; i < mine.length; i += 100)
        execFileSync('docker', ['image', 'rm', '--force', ...mine.slice(i, i + 100)], { stdio: 'ignore' });
      if (mine.length > 0) console.log(`e2e teardown: removed ${mine.length} image name(s) the tests left in the engine`);
    } catch (err) {
      console.warn(`e2e teardown: the tests' images were not removed: ${(err as Error).message}`);
    }
  };
}
