// Reading go.mod and go.work: the Go version they ask for, and the files
// that decide the module set. Used by the Go cache keys and the built-in
// Dockerfile.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The `go` and `toolchain` lines of a go.mod: "go 1.24.0", "toolchain go1.24.3". */
export function goLines(goMod: string): { go?: string; toolchain?: string } {
  return { go: /^go\s+(\S+)/m.exec(goMod)?.[1], toolchain: /^toolchain\s+(\S+)/m.exec(goMod)?.[1] };
}

/** The Go version for the golang image tag: the toolchain line wins ("go 1.21" is a language version; images are tagged both ways). */
export function goVersionFromMod(goMod: string): string | undefined {
  const { go, toolchain } = goLines(goMod);
  const v = toolchain?.replace(/^go/, '') ?? go;
  return v && /^\d+\.\d+(\.\d+)?/.test(v) ? /^\d+\.\d+(?:\.\d+)?/.exec(v)![0] : undefined;
}

/** The files that decide the module set: go.work, go.work.sum and every go.sum in use, relative to the context. */
export function moduleFiles(context: string): string[] {
  const work = path.join(context, 'go.work');
  const found: string[] = [];
  if (fs.existsSync(work)) {
    found.push('go.work');
    if (fs.existsSync(path.join(context, 'go.work.sum'))) found.push('go.work.sum');
    for (const dir of workUses(fs.readFileSync(work, 'utf8'))) {
      const sum = path.normalize(path.join(dir, 'go.sum'));
      if (fs.existsSync(path.join(context, sum))) found.push(sum);
    }
  } else if (fs.existsSync(path.join(context, 'go.sum'))) {
    found.push('go.sum');
  } else if (fs.existsSync(path.join(context, 'go.mod'))) {
    // A module without dependencies has no go.sum; its go.mod still names the Go version.
    found.push('go.mod');
  }
  return [...new Set(found)].sort();
}

/** The directories a go.work file uses: `use ./a` and `use ( ./a ./b )`. */
export function workUses(text: string): string[] {
  const noComments = text.replace(/\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of noComments.matchAll(/^\s*use\s+(?:\(([^)]*)\)|(\S+))/gm)) {
    const list = m[1] !== undefined ? m[1].split(/\s+/) : [m[2]];
    for (const d of list) if (d.trim()) out.push(d.trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** The `go` and `toolchain` lines as one string for a cache key: "1.24.0+go1.24.3". */
export function goDirective(goMod: string): string {
  const { go, toolchain } = goLines(goMod);
  return toolchain ? `${go ?? ''}+${toolchain}` : (go ?? '');
}
