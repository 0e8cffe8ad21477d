import * as out from '../output.js';
import * as fs from 'node:fs';
import { run } from '../exec.js';
import { args, type BuildxCommand } from '../buildx/command.js';
import { ProgressPrinter } from './progress.js';
import { type BuildMetadata, parseMetadata } from './metadata.js';
import type { MergedVertex } from './rawjson.js';

export interface BuildResult {
  vertices: MergedVertex[];
  metadata?: BuildMetadata;
  seconds: number;
}

export interface FailedStep {
  name: string;
  error: string;
  /** The step's last output lines. */
  logs: string[];
}

export class BuildError extends Error {
  constructor(
    message: string,
    readonly vertices: MergedVertex[],
    readonly failedStep?: FailedStep,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

/** The step that failed the build (a cancelled one is not the cause), with its last output lines. */
export function failedStepOf(printer: ProgressPrinter): FailedStep | undefined {
  const v = printer.table.all().find((x) => x.error && x.error !== 'context canceled');
  return v ? { name: v.name ?? '', error: v.error ?? '', logs: printer.stepLogs.get(v.digest) ?? [] } : undefined;
}

/**
 * The step's error message from buildx's last "ERROR:" line: "ERROR: failed to solve: …" up to buildx 0.2x,
 * "ERROR: failed to build: failed to solve: …" since (captured from 0.13.1 and 0.29.1); the step's own error
 * when there is no such line.
 */
export function buildFailure(trailer: string[], failedStep: FailedStep | undefined, exitCode: number): string {
  const errorLine = [...trailer].reverse().find((l) => l.startsWith('ERROR:'));
  const why = errorLine ?? (failedStep ? `${failedStep.name}: ${failedStep.error}` : `buildx exited with code ${exitCode}`);
  return `Build failed: ${why
    .replace(/^ERROR:\s*/, '')
    .replace(/^failed to build:\s*/, '')
    .replace(/^failed to solve:\s*/, '')}`;
}

export async function runBuild(buildx: BuildxCommand, argv: string[], metadataFile: string): Promise<BuildResult> {
  // The build's own output (step names, RUN output, BuildKit's error excerpt) is untrusted.
  let batch: string[] = [];
  const printer = new ProgressPrinter((line) => batch.push(line));
  const flush = () => {
    out.info(batch);
    batch = [];
  };
  const t0 = Date.now();
  const res = await run(...args(buildx, ...argv), {
    allowFailure: true,
    onStderr: (chunk) => {
      printer.write(chunk);
      flush();
    },
  });
  printer.end();
  flush();
  // A build prints nothing on stdout, but `call` (check, outline, targets) answers there.
  if (res.stdout.trim()) out.info(res.stdout.trimEnd().split('\n'));
  const seconds = (Date.now() - t0) / 1000;
  const vertices = printer.table.all();
  if (res.exitCode !== 0) {
    const failedStep = failedStepOf(printer);
    throw new BuildError(buildFailure(printer.trailer, failedStep, res.exitCode), vertices, failedStep);
  }
  let metadata: BuildMetadata | undefined;
  try {
    metadata = parseMetadata(fs.readFileSync(metadataFile, 'utf8'));
  } catch (err) {
    out.warning(`Could not read the build metadata file ${metadataFile}: ${(err as Error).message}`);
  }
  return { vertices, metadata, seconds };
}
