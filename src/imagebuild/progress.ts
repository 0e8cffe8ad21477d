// Turns the rawjson stream into the log a person reads when a build fails:
// "#N [stage i/n] STEP", the step's own output, then "#N CACHED", "#N DONE 1.2s"
// or "#N ERROR: ...". Plain text that follows the JSON (BuildKit's error
// excerpt) is passed through unchanged.
import { decodeBase64, durationSeconds, type MergedVertex, RawJsonDecoder, type StreamItem, VertexTable } from './rawjson.js';

/** The longest build log line printed or kept; the rest of a longer one is cut, saying so. */
export const MAX_LINE = 16 * 1024;

export class ProgressPrinter {
  readonly table = new VertexTable();
  readonly warnings: string[] = [];
  readonly trailer: string[] = [];
  private readonly decoder = new RawJsonDecoder();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly partial = new Map<string, string>();
  /** The last lines each step printed, kept for failure diagnosis. */
  readonly stepLogs = new Map<string, string[]>();

  constructor(private readonly sink: (line: string) => void) {}

  write(chunk: string): void {
    for (const item of this.decoder.push(chunk)) this.handle(item);
  }

  end(): void {
    for (const item of this.decoder.end()) this.handle(item);
    for (const digest of this.partial.keys()) this.flushPartial(digest);
  }

  private handle(item: StreamItem): void {
    if (item.kind === 'text') {
      if (item.text.trim() !== '') this.trailer.push(item.text);
      this.sink(item.text);
      return;
    }
    const st = item.status;
    for (const v of st.vertexes ?? []) {
      const vertex = this.table.update(v);
      this.announce(vertex);
      if ((vertex.completed || vertex.error) && !this.finished.has(vertex.digest)) {
        this.flushPartial(vertex.digest);
        this.finished.add(vertex.digest);
        this.sink(`#${vertex.seq} ${finishWord(vertex)}`);
      }
    }
    for (const log of st.logs ?? []) {
      const vertex = this.table.get(log.vertex);
      if (!vertex) continue;
      this.announce(vertex);
      const text = (this.partial.get(log.vertex) ?? '') + decodeBase64(log.data);
      const lines = text.split('\n');
      let rest = lines.pop() ?? '';
      // A step that prints without a newline must not grow one line without bound (trust, round 2, item 13).
      if (rest.length > MAX_LINE) {
        lines.push(rest);
        rest = '';
      }
      this.partial.set(log.vertex, rest);
      for (const line of lines) this.emitLog(vertex, line.replace(/\r$/, ''));
    }
    for (const w of st.warnings ?? []) {
      const text = decodeBase64(w.short);
      this.warnings.push(text);
      this.sink(`WARNING: ${text}`);
    }
  }

  private announce(v: MergedVertex): void {
    if (this.announced.has(v.digest) || !v.name) return;
    if (!v.started && !v.cached && !v.completed) return;
    this.announced.add(v.digest);
    this.sink(`#${v.seq} ${v.name}`);
  }

  private flushPartial(digest: string): void {
    const rest = this.partial.get(digest);
    const vertex = this.table.get(digest);
    if (rest && vertex) this.emitLog(vertex, rest);
    this.partial.delete(digest);
  }

  private emitLog(vertex: MergedVertex, full: string): void {
    const line = full.length > MAX_LINE ? `${full.slice(0, MAX_LINE)}… [${full.length - MAX_LINE} more characters cut]` : full;
    const kept = this.stepLogs.get(vertex.digest) ?? [];
    kept.push(line);
    if (kept.length > 50) kept.shift();
    this.stepLogs.set(vertex.digest, kept);
    this.sink(`#${vertex.seq} ${line}`);
  }
}

function finishWord(v: MergedVertex): string {
  if (v.error) return `ERROR: ${v.error}`;
  if (v.cached) return 'CACHED';
  const s = durationSeconds(v);
  return s === undefined ? 'DONE' : `DONE ${s.toFixed(1)}s`;
}
