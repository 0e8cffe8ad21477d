// The shell the restore and save helper builds run inside the Go stage's base
// image: GNU or busybox tools alike (the golang images have GNU tar; Debian's
// busybox, in the stand-in here, has no `tar -T`, and its xargs garbles long
// inputs, so sizes come from find's own -exec).
import { shellQuote } from '../dockerfile/shell.js';
import type { GoCacheKind } from '../dockerfile/gomounts.js';

export const TAR_NAME: Record<GoCacheKind, string> = { mod: 'gomod.tar', build: 'gobuild.tar' };
/** Of GOMODCACHE only the downloaded zips and go.mod files are kept; Go re-extracts sources from them without the network. */
const SAVED_PATHS: Record<GoCacheKind, string> = { mod: 'cache/download', build: '.' };

/**
 * GOCACHE by use. The restore dates every restored file two hours back (over Go's one-hour refresh
 * interval, under its five-day trim) and leaves this file, dated a minute back, in the mount: Go refreshes
 * the mtime of each entry it uses, so at the save the files newer than it are exactly the entries this run
 * used or created, and only those are kept. Both dates come from the builder's own clock, which is the one
 * Go's refreshes use (a remote builder's may differ from the runner's).
 */
export const RESTORED_MARK = '.go-buildx-restored';

/** Dates the restored GOCACHE files two hours back and leaves RESTORED_MARK a minute back (the builder's clock). */
export function ageRestored(target: string): string {
  const t = shellQuote(target);
  // The mark lists the restored build actions (`*-a`), so the save can tell reused ones from those run anew.
  return (
    `now=$(date +%s) && find ${t} -type f -exec touch -c -d "@$((now - 7200))" {} + && ` +
    `(cd ${t} && find . -type f -name '*-a' >${RESTORED_MARK}) && touch -d "@$((now - 60))" ${t}/${RESTORED_MARK}`
  );
}

/** The shell script of a save: what is kept of the cache at `target`, tarred into `outDir`, and a stats line. */
export function saveScript(kind: GoCacheKind, target: string, maxBytes: number, outDir: string, workDir: string): string {
  const t = shellQuote(target);
  const p = SAVED_PATHS[kind];
  const out = `${outDir}/${TAR_NAME[kind]}`;
  const keep = `${workDir}/go-buildx-keep`;
  // "<size> <mtime> <path>" of each file kept, from find's own -exec (busybox xargs garbles long inputs).
  const stat = `-exec stat -c '%s %Y %n' {} + >${keep}.stat`;
  const sum = (file: string) => `awk '{t+=$1} END {print t+0}' ${file}`;
  return [
    'set -e',
    `mkdir -p ${outDir}`,
    `cd ${t}`,
    `mkdir -p ${p}`,
    `rm -rf ${STAGE}`,
    `total=$(find ${p} -type f -exec stat -c %s {} + | awk '{t+=$1} END {print t+0}')`,
    // GOCACHE after a restore: only what this run used or created (see RESTORED_MARK); else everything.
    ...(kind === 'build'
      ? [
          `if [ -f ${RESTORED_MARK} ]; then`,
          `  find ${p} -type f \\( -newer ${RESTORED_MARK} -o -name trim.txt -o -name README \\) ! -name ${RESTORED_MARK} ${stat}`,
          'else',
          `  find ${p} -type f ${stat}`,
          'fi',
        ]
      : [`find ${p} -type f ${stat}`]),
    `used=$(${sum(`${keep}.stat`)})`,
    // Over the cap, the newest files first.
    `if [ "$used" -gt ${maxBytes} ]; then`,
    `  sort -k2,2nr ${keep}.stat | awk -v cap=${maxBytes} '{t+=$1; if (t<=cap) print}' >${keep}.capped`,
    `  mv ${keep}.capped ${keep}.stat`,
    'fi',
    `kept=$(${sum(`${keep}.stat`)})`,
    `awk '{sub(/^[0-9]+ [0-9]+ /, ""); print}' ${keep}.stat >${keep}`,
    `files=$(wc -l <${keep})`,
    // Build actions this run used: found in the mark (restored, reused) or not (run anew).
    ...(kind === 'build'
      ? [
          `if [ -f ${RESTORED_MARK} ]; then`,
          `  actions=$(grep -e '-a$' ${keep} | awk -v mark=${RESTORED_MARK} 'FILENAME == mark {r[$0]=1; next} {if ($0 in r) u++; else n++} END {print u+0, n+0}' ${RESTORED_MARK} -)`,
          'else',
          `  actions="0 $(grep -c -e '-a$' ${keep} || true)"`,
          'fi',
        ]
      : ['actions="0 0"']),
    `if [ "$kept" -eq "$total" ]; then`,
    `  tar -cf ${out} ${p}`,
    // GNU tar (the golang images) and Alpine's busybox read a file list; Debian's busybox tar does not.
    `elif [ -z "$GO_BUILDX_NO_TAR_T" ] && tar --help 2>&1 | grep -q -e '-T'; then`,
    `  tar -cf ${out} -T ${keep}`,
    'else',
    // Hard links of what is kept, in a stage inside the mount (the same file system), one cp per directory.
    `  awk -v s=${STAGE} '{d=$0; sub(/\\/[^\\/]*$/, "", d); f[d]=f[d] " " $0} END {for (d in f) print "mkdir -p " s "/" d " && cp -l" f[d] " " s "/" d}' <${keep} >${keep}.sh`,
    `  sh -e ${keep}.sh && (cd ${STAGE} && tar -cf ${out} .) && rm -rf ${STAGE}`,
    'fi',
    `echo "go-buildx-stats kind=${kind} total=$total used=$used kept=$kept files=$files reused_actions=\${actions% *} run_actions=\${actions#* }"`,
  ].join('\n');
}

/** Where a save without `tar -T` links what it keeps, inside the mount; never left behind. */
const STAGE = '.go-buildx-stage';
