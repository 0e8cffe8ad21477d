// The unpacked size of an image, from its layers: each layer's tar applied in
// order (whiteouts delete, an opaque directory drops what lower layers put
// there), then the sizes of what is left added up the way the engine's own
// directory walk does (regular files and symlinks by their size, a hard link
// once). Reading the layers `docker save` already wrote costs less than the
// engine's way: creating a container per platform to ask its SizeRootFs.
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';

export interface LayerEntry {
  path: string;
  type: string;
  size: number;
  /** A hard link's target. */
  linkpath?: string;
}

/**
 * A layer's entries from its bytes (gzip or uncompressed; zstd where this Node's zlib has it). After a
 * failure the rest of the bytes are read and dropped (`stop` may end the reading sooner), so that an outer
 * tarball being read goes on.
 */
export function layerEntriesOf(input: Readable, stop: () => void = () => undefined): Promise<LayerEntry[]> {
  return new Promise((resolve, reject) => {
    const out: LayerEntry[] = [];
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      stop();
      reject(err);
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (e: ReadEntry) => {
        const size = e.type === 'SymbolicLink' ? Buffer.byteLength(e.linkpath ?? '') : e.size;
        out.push({ path: e.path, type: e.type, size, ...(e.type === 'Link' ? { linkpath: e.linkpath } : {}) });
        e.resume();
      },
    });
    parser.on('error', fail);
    parser.on('end', () => resolve(out));
    // Fed by hand, not piped: tar throws from write() on a compression this Node's zlib lacks (zstd before
    // Node 22.15), and a throw inside a pipe's data handler would crash the action instead of rejecting here.
    input.on('error', fail);
    input.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        parser.write(chunk);
      } catch (err) {
        fail(err as Error);
      }
    });
    input.on('end', () => {
      if (failed) return;
      try {
        parser.end();
      } catch (err) {
        fail(err as Error);
      }
    });
  });
}

/** A layer's entries, from its file. */
export function layerEntries(file: string): Promise<LayerEntry[]> {
  const input = fs.createReadStream(file);
  return layerEntriesOf(input, () => input.destroy());
}

const clean = (p: string) => p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

/** What a path holds after the layers so far: its size, or (a hard link) the file whose data it shares. */
export type Node = { size: number; linkTo?: string };

/** Applies one layer's entries to the tree of the layers below it. */
export function applyLayer(tree: Map<string, Node>, entries: LayerEntry[]): void {
  const dropUnder = (dir: string) => {
    for (const k of [...tree.keys()]) if (k.startsWith(`${dir}/`)) tree.delete(k);
  };
  for (const e of entries) {
    const p = clean(e.path);
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    const base = p.slice(slash + 1);
    if (base === '.wh..wh..opq') {
      if (dir) dropUnder(dir);
      else tree.clear();
      continue;
    }
    if (base.startsWith('.wh.')) {
      const gone = dir ? `${dir}/${base.slice(4)}` : base.slice(4);
      tree.delete(gone);
      dropUnder(gone);
      continue;
    }
    if (e.type === 'Directory') continue;
    if (e.type === 'Link' && e.linkpath !== undefined) {
      const target = clean(e.linkpath);
      const t = tree.get(target);
      tree.set(p, { size: t?.linkTo ? (tree.get(t.linkTo)?.size ?? t.size) : (t?.size ?? 0), linkTo: t?.linkTo ?? target });
    } else tree.set(p, { size: e.size });
  }
}

/** The bytes of what the tree holds: each file's data once (a hard link's, when no other name of it is left). */
export function treeBytes(tree: Map<string, Node>): number {
  const counted = new Set<string>();
  let total = 0;
  for (const [p, n] of tree) {
    const inode = n.linkTo && tree.has(n.linkTo) ? n.linkTo : (n.linkTo ?? p);
    if (counted.has(inode)) continue;
    counted.add(inode);
    total += n.size;
  }
  return total;
}

/** The unpacked size of layers whose entries are read already, lowest first. */
export function unpackedSizeOf(layers: LayerEntry[][]): number {
  const tree = new Map<string, Node>();
  for (const entries of layers) applyLayer(tree, entries);
  return treeBytes(tree);
}
