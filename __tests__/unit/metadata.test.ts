import { describe, expect, it } from 'vitest';
import { parseMetadata } from '../../src/imagebuild/metadata.js';
import { fixture } from './helpers.js';

describe('metadata file', () => {
  it('reads digest, image id and names from a pushed multi-platform build', () => {
    const m = parseMetadata(fixture('metadata-cold.json'));
    expect(m.digest).toBe('sha256:930d6dddd2885d6c3a9d41c726f1449b73bd8d3af2b8a5b5bbd2e05fc60ae2bc');
    expect(m.imageId).toBe('sha256:930d6dddd2885d6c3a9d41c726f1449b73bd8d3af2b8a5b5bbd2e05fc60ae2bc');
    expect(m.descriptor?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(m.imageNames).toEqual(['localhost:5000/hello:cap']);
    expect(m.buildRef).toBe('default/default/ykiujv92oqxxg1cwno6fygg0k');
  });

  it('falls back to the index digest for imageid when the containerd store drops the config digest', () => {
    const m = parseMetadata(fixture('metadata-local.json'));
    expect(m.raw['containerimage.config.digest']).toBeUndefined();
    expect(m.imageId).toBe('sha256:d7f7f6810ef47c8db6d752b5dad911917634871ec3208c2912fa8e163ad0cc98');
  });

  it('splits a comma-separated image.name', () => {
    expect(parseMetadata('{"image.name":"a/b:1,a/b:2"}').imageNames).toEqual(['a/b:1', 'a/b:2']);
  });
});
