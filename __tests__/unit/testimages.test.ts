import { describe, expect, it } from 'vitest';
import { imagesOfRun } from '../e2e/testimages.js';

describe("imagesOfRun: the e2e run's own images, by the time in their names", () => {
  // Names as the engine listed them here (docker image ls --format '{{.Repository}}:{{.Tag}}').
  const since = parseInt('mxaisu2p', 36);
  const refs = [
    'localhost:5000/e2e-mxaisu2p-tck2/gocache-app:1',
    'localhost:5000/e2e-mxaisu2o-awml/base:1.24',
    'localhost:5000/readme-mxaisu3xa1b/app:latest',
    'localhost:5000/readme-mxahense0x2/app:latest',
    'localhost:5000/library/golang:1.24',
    'golang:1.24',
    'localhost:5000/bench-mxaisu9z/arm2:latest',
    '<none>:<none>',
    '',
  ];
  it('keeps the stand-in bases, the bench, and what an earlier run named', () => {
    expect(imagesOfRun(refs, since)).toEqual([
      'localhost:5000/e2e-mxaisu2p-tck2/gocache-app:1',
      'localhost:5000/readme-mxaisu3xa1b/app:latest',
    ]);
  });
});
