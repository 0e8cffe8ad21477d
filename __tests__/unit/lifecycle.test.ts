import { describe, expect, it } from 'vitest';
import { removedContainers } from '../../src/lifecycle.js';
import { containersLeft, doneWith, noteContainer, noteRemoved, takeDone } from '../../src/tracked.js';
import { fixture } from './helpers.js';

describe('removedContainers (docker rm output, captured)', () => {
  it('counts only what this rm removed: not the container whose removal was already under way', () => {
    const stdout = fixture('docker-rm/in-progress.stdout.txt');
    const stderr = fixture('docker-rm/in-progress.stderr.txt');
    expect(stderr).toContain('c53dafdf207c is already in progress');
    expect(removedContainers(stdout, ['c53dafdf207c', '028dc2519325'])).toEqual(['028dc2519325']);
    expect(removedContainers('', ['c53dafdf207c'])).toEqual([]);
  });
});

describe('the containers a run is done with (tracked.ts)', () => {
  it('are handed out once; a container is left until its removal is noted, and one never handed over stays left', () => {
    expect(containersLeft()).toBe(false);
    noteContainer();
    noteContainer();
    noteContainer(); // its start failed: no id, never handed over
    doneWith('a');
    doneWith('b');
    expect(containersLeft()).toBe(true);
    expect(takeDone()).toEqual(['a', 'b']);
    expect(takeDone()).toEqual([]);
    noteRemoved(2);
    expect(containersLeft(), 'the third may still be there').toBe(true);
    noteRemoved();
    expect(containersLeft()).toBe(false);
  });
});
