// The test harness's Go module proxy: its pure parts.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { debToSemver, legacyModulePath, requiredModules, zipStored } from '../../scripts/goproxy.mjs';

describe('goproxy', () => {
  it.each([
    ['1.8.1-1', 'v1.8.1'],
    ['1:0.7.0+dfsg-1', 'v0.7.0'],
    ['2.1.1-2', 'v2.1.1'],
    ['0.0~git20211218.b94a6e3-1', 'v0.0.0-20211218000000-b94a6e300000'],
    ['1.0.3-1', 'v1.0.3'],
    ['0.5-2', 'v0.5.0'],
  ])('Debian %s → %s', (deb, want) => {
    expect(debToSemver(deb)).toBe(want);
  });

  it.each([
    ['github.com/davecgh/go-spew/spew', 'github.com/davecgh/go-spew'],
    ['github.com/matttproud/golang_protobuf_extensions/pbutil', 'github.com/matttproud/golang_protobuf_extensions'],
    ['gopkg.in/yaml.v2', 'gopkg.in/yaml.v2'],
    ['gopkg.in/alecthomas/kingpin.v2', 'gopkg.in/alecthomas/kingpin.v2'],
    ['google.golang.org/protobuf/proto', 'google.golang.org/protobuf'],
  ])('module root of %s is %s', (p, want) => {
    expect(legacyModulePath(p)).toBe(want);
  });

  it('reads requirements in both go.mod forms', () => {
    const goMod =
      'module github.com/ugorji/go\n\ngo 1.11\n\nrequire github.com/ugorji/go/codec v1.2.8\n\nrequire (\n\tgolang.org/x/sys v0.3.0 // indirect\n\tgopkg.in/yaml.v3 v3.0.1\n)\n';
    expect(requiredModules(goMod)).toEqual(['github.com/ugorji/go/codec', 'golang.org/x/sys', 'gopkg.in/yaml.v3']);
  });

  it('writes zips that a real zip reader accepts, names and contents intact', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gba-zip-'));
    const zip = path.join(dir, 'm.zip');
    fs.writeFileSync(
      zip,
      zipStored([
        { name: 'example.com/m@v1.0.0/go.mod', data: Buffer.from('module example.com/m\n') },
        { name: 'example.com/m@v1.0.0/ünï.go', data: Buffer.from('package m\n') },
      ]),
    );
    const listing = execFileSync(
      'python3',
      [
        '-c',
        'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;print("\\n".join(f"{i.filename}={z.read(i).decode()!r}" for i in z.infolist()))',
        zip,
      ],
      { encoding: 'utf8' },
    );
    expect(listing.trim().split('\n')).toEqual([
      "example.com/m@v1.0.0/go.mod='module example.com/m\\n'",
      "example.com/m@v1.0.0/ünï.go='package m\\n'",
    ]);
  });
});
