import { describe, expect, it } from 'vitest';
import { mermaidTimeline, perPlatform, summaryMarkdown, summaryRows } from '../../src/report/summary.js';
import { stepPlatform } from '../../src/imagebuild/rawjson.js';
import { mergeArgv, mergeSources } from '../../src/merge.js';
import { vertices } from './helpers.js';

const platforms = ['linux/amd64', 'linux/arm64'];

describe('job summary (captured rawjson of the example, amd64 + arm64)', () => {
  it.each([
    ['linux/amd64 builder', 'linux/amd64'],
    ['linux/amd64->arm64 builder', 'linux/arm64'],
    ['builder', undefined],
    ['stage-1', undefined],
  ])('step label %j belongs to %j', (label, want) => {
    expect(stepPlatform(label)).toBe(want);
  });

  it('with several nodes, the summary says which node built each platform', () => {
    const stats = { hits: 1, steps: 2, rate: 50 };
    const md = summaryMarkdown({
      platforms,
      tags: [],
      stats,
      buildSeconds: 1,
      nodes: [
        { platform: 'linux/amd64', node: 'gba-capture0' },
        { platform: 'linux/arm64', node: 'gba-capture-arm64' },
      ],
    });
    expect(md).toContain('Nodes: linux/amd64 on `gba-capture0`, linux/arm64 on `gba-capture-arm64`');
    expect(summaryMarkdown({ platforms, tags: [], stats, buildSeconds: 1 })).not.toContain('Nodes:');
  });

  it('cache hits per platform add up to the build total', () => {
    const cold = perPlatform(vertices('rawjson-cold.txt'), platforms);
    const warm = perPlatform(vertices('rawjson-warm.txt'), platforms);
    for (const p of platforms) {
      expect(warm[p].hits).toBe(warm[p].steps);
      expect(cold[p].hits).toBeLessThan(cold[p].steps);
      expect(cold[p].seconds).toBeGreaterThan(warm[p].seconds);
    }
  });

  it('a mermaid gantt of the slowest steps on the build timeline, cached ones tagged done', () => {
    const chart = mermaidTimeline(vertices('rawjson-change.txt'))!;
    const lines = chart.split('\n');
    expect(lines.slice(0, 4)).toEqual(['gantt', '  title Slowest build steps (grey: cached)', '  dateFormat x', '  axisFormat %M:%S']);
    const tasks = lines.slice(4);
    expect(tasks.length).toBeGreaterThan(3);
    expect(tasks.length).toBeLessThanOrEqual(10);
    for (const t of tasks) expect(t).toMatch(/^ {2}[^:#;]+ :(done, )?s\d+, \d+, \d+$/);
    expect(tasks.some((t) => /go build/.test(t) && !/done/.test(t))).toBe(true);
    expect(tasks.some((t) => /\(cached\) :done, /.test(t))).toBe(true);
  });

  it('rows show the size change against the previous image', () => {
    const sizes = {
      'linux/amd64': { compressed: 2_693_481, uncompressed: 6_537_216, layers: 2 },
      'linux/arm64': { compressed: 2_486_310, uncompressed: 6_213_632, layers: 2 },
    };
    const rows = summaryRows({
      platforms,
      tags: [],
      stats: { hits: 5, steps: 10, rate: 50 },
      vertices: vertices('rawjson-change.txt'),
      sizes,
      previous: { 'linux/amd64': { compressed: 2_700_000, uncompressed: null, layers: 2 } },
      buildSeconds: 40,
    });
    expect(rows[0].slice(0, 6)).toEqual(['linux/amd64', '2.69 MB', '−6.52 kB (-0.2%)', '6.54 MB', '2', '4/7']);
    expect(rows[1][2]).toBe('new platform');
  });
});

describe('merge', () => {
  it('bare digests live in the image repository; the argv tags every tag', () => {
    const d1 = `sha256:${'a'.repeat(64)}`;
    const sources = mergeSources([d1, `other/repo@sha256:${'b'.repeat(64)}`], 'ghcr.io/acme/api');
    expect(sources).toEqual([`ghcr.io/acme/api@${d1}`, `other/repo@sha256:${'b'.repeat(64)}`]);
    expect(mergeArgv(['ghcr.io/acme/api:1.2.3', 'ghcr.io/acme/api:latest'], sources)).toEqual([
      'imagetools',
      'create',
      '--tag',
      'ghcr.io/acme/api:1.2.3',
      '--tag',
      'ghcr.io/acme/api:latest',
      ...sources,
    ]);
  });
});
