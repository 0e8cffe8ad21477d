// Which build failures are worth a retry. Module downloads fail transiently
// (a proxy or VCS host answering 5xx, resets, timeouts); a retry re-runs only
// the failed step, because every step before it is cached. Missing modules
// (404/410) and refused credentials (401/403) fail the same way every time.
import * as out from '../output.js';
import { Inputs } from '../constants.js';
import type { Settings } from '../settings/types.js';
import type { BuildxCommand } from '../buildx/command.js';
import { cacheProblems } from './rawjson.js';
import { BuildError, type BuildResult, type FailedStep, runBuild } from './runner.js';

export interface Verdict {
  retry: boolean;
  reason: string;
}

const GO_STEP = /\bgo (mod|build|get|install|list|generate|test|vet|work)\b/;
const PERMANENT: [RegExp, string][] = [
  [/\b404 Not Found\b/, 'a module is not found (404)'],
  [/\b410 Gone\b/, 'a module is gone (410)'],
  [/\b401 Unauthorized\b/, 'the module proxy refused the credentials (401)'],
  [/\b403 Forbidden\b/, 'the module proxy forbids access (403)'],
  [/checksum mismatch|SECURITY ERROR/, 'a checksum does not match go.sum'],
  [/unknown revision|invalid version/, 'a required version does not exist'],
];
const TRANSIENT: [RegExp, string][] = [
  [/\b(500 Internal Server Error|502 Bad Gateway|503 Service Unavailable|504 Gateway Timeout)\b/, ''],
  [/connection reset by peer/, 'connection reset by peer'],
  [/connection refused/, 'connection refused'],
  [/i\/o timeout|TLS handshake timeout|Client\.Timeout exceeded/, 'timeout'],
  [/unexpected EOF/, 'unexpected EOF'],
  [/temporary failure in name resolution|server misbehaving/i, 'DNS failure'],
];

/**
 * A line where Go reports fetching a module: "go: M@V: reading URL: ...",
 * "verifying M@V: ...", a proxy path (/@v/, /@latest) or the checksum
 * database. A network word anywhere else (a compile error's "unexpected EOF",
 * a test's "connection refused") is not a download failure.
 */
const FETCH_LINE =
  /(^|\s)go: [^\s@]+@[^\s:]+: |verifying [^\s@]+@|reading https?:\/\/|\/@v\/|\/@latest|sum\.golang\.org|^\s*go: downloading /;

export function classifyFailure(step: FailedStep | undefined): Verdict {
  if (!step) return { retry: false, reason: 'no failed step was reported' };
  if (!GO_STEP.test(step.name)) return { retry: false, reason: 'the failed step does not run a Go command that fetches modules' };
  const text = [...step.logs, step.error].join('\n');
  for (const [re, why] of PERMANENT) if (re.test(text)) return { retry: false, reason: `permanent: ${why}` };
  const fetchLines = step.logs.filter((l) => FETCH_LINE.test(l));
  for (const [re, why] of TRANSIENT) {
    const line = fetchLines.find((l) => re.test(l));
    if (line) {
      const m = re.exec(line)!;
      return { retry: true, reason: `transient: ${why || m[1] || m[0]} (${line.trim()})` };
    }
  }
  return { retry: false, reason: 'not a module download failure' };
}

/** Seconds to wait before retry `attempt` (1-based): 1, 2, 4, ... capped at 30. */
export function backoffSeconds(attempt: number, base = 1): number {
  return Math.min(30, base * 2 ** (attempt - 1));
}

/** Runs the build, retrying transient module-download failures; a retry re-runs only the failed step. */
export async function buildWithRetries(
  buildx: BuildxCommand,
  argv: string[],
  metadataFile: string,
  settings: Pick<Settings, 'retries' | 'cacheStrict'>,
): Promise<BuildResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runBuild(buildx, argv, metadataFile);
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      // In strict mode BuildKit itself fails on a cache export error: say so plainly.
      const cacheFailure = settings.cacheStrict ? cacheProblems(err.vertices).find((p) => !p.missing) : undefined;
      if (cacheFailure)
        throw new Error(`Cache ${cacheFailure.kind} failed (${cacheFailure.vertex}): ${cacheFailure.error} (${Inputs.cacheStrict}: true)`);
      const verdict = classifyFailure(err.failedStep);
      // The reason quotes the build's own output.
      out.info(`Build attempt ${attempt} failed: ${verdict.reason}`);
      if (!verdict.retry || attempt > settings.retries) {
        if (verdict.retry) out.info(`No retries left (${Inputs.retries}: ${settings.retries})`);
        throw err;
      }
      const wait = backoffSeconds(attempt);
      out.warning(`Retrying the build (attempt ${attempt + 1} of ${settings.retries + 1}) in ${wait}s after a ${verdict.reason}`);
      await new Promise((r) => setTimeout(r, wait * 1000));
    }
  }
}
