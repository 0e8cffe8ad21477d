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

/**
 * A full GOCACHE save is split into this many tarballs by the first hex digit of each entry's directory
 * (`gobuild.tar`, which also holds the files outside those directories, then `gobuild.part1.tar`, ...), so
 * that the restore untars them side by side: one tar keeps one core busy, in the kernel (2.37 s of a 2.40 s
 * untar was system time here). In a container here, busybox tar took 2.4-3.3 s for the fixture's 326 MB as
 * one tarball and 1.5-1.6 s as four side by side. A layer stacked on a save is small and stays one tarball
 * (`gobuild.01.tar`, ...).
 */
export const BUILD_PARTS = 4;

/** Parts after the first are `<stem><i>.tar`: `gobuild.part1.tar`, ... (the first is the plain `gobuild.tar`). */
const partStem = (kind: GoCacheKind) => TAR_NAME[kind].replace(/\.tar$/, '.part');

/** Whether `name` is a part of a full save of `kind` (not a stacked layer). */
export function isSavedPart(kind: GoCacheKind, name: string): boolean {
  return name === TAR_NAME[kind] || (name.startsWith(partStem(kind)) && /^[0-9]+\.tar$/.test(name.slice(partStem(kind).length)));
}

/**
 * Extracts every saved copy of a cache found in `src` into `target`: the parts of the full save side by
 * side (`gobuild.tar`, `gobuild.part1.tar`, ...), then the layers stacked on it (`gobuild.01.tar`, ...),
 * oldest first, so that trim.txt comes from the newest. Prints nothing; a missing or broken tarball fails the
 * restore (a warning, never the build).
 */
export function extractSaved(kind: GoCacheKind, src: string, target: string): string {
  const base = TAR_NAME[kind].replace(/\.tar$/, '');
  const t = shellQuote(target);
  // `wait PID` gives each tar's status (a bare `wait` would not). The layers after every part: `ls | sort`
  // would put gobuild.01.tar before gobuild.tar.
  return (
    `{ pids=''; for f in ${src}/${base}.tar $(ls ${src}/${partStem(kind)}[0-9]*.tar 2>/dev/null); do tar -xf "$f" -C ${t} & pids="$pids $!"; done; ` +
    `for p in $pids; do wait $p || exit 1; done; ` +
    `for f in $(ls ${src}/${base}.[0-9]*.tar 2>/dev/null | sort); do tar -xf "$f" -C ${t} || exit 1; done; }`
  );
}

/**
 * Dates the restored GOCACHE files two hours back and leaves RESTORED_MARK a minute back (the builder's
 * clock). The mark's first line says how many saved layers were restored (`layers N`); then one
 * "<size> <path>" line per restored file, so the save can tell what this run reused from what it created,
 * and what a layer stacked on the restored copy would have to hold.
 */
export function ageRestored(target: string, src?: string): string {
  const t = shellQuote(target);
  const base = TAR_NAME.build.replace(/\.tar$/, '');
  // The full save (however many parts) and each layer stacked on it.
  const layers = src ? `$(ls ${src}/${base}.tar ${src}/${base}.[0-9]*.tar 2>/dev/null | wc -l)` : '1';
  return (
    `now=$(date +%s) && find ${t} -type f -exec touch -c -d "@$((now - 7200))" {} + && ` +
    `(cd ${t} && { echo "layers ${layers}"; find . -type f ! -name '${RESTORED_MARK}*' -exec stat -c '%s %n' {} +; } >${RESTORED_MARK}.tmp && mv ${RESTORED_MARK}.tmp ${RESTORED_MARK}) && ` +
    `touch -d "@$((now - 60))" ${t}/${RESTORED_MARK}`
  );
}

/**
 * Runs `body` with the file system of `dir` written back beside it: a background loop syncs it every 0.1 s
 * until the script ends. Why: the RUN's root file system is an overlay, and unmounting an overlay syncs the
 * file system under it (the kernel's ovl_sync_fs, skipped only on a `volatile` mount, which neither dockerd
 * nor BuildKit sets: moby/buildkit#5366). The step then ends by waiting for every byte the restore wrote, and
 * the image unpacked before it, to reach the disk: 0.5-0.6 s after the script here, and more on a slower
 * disk. Written back while tar still runs, that wait is mostly gone. `sync -f` (syncfs of that one file
 * system: GNU coreutils 8.24+, busybox) falls back to `sync`, and a `sleep` without fractions to whole
 * seconds. The loop stops with the shell that started it (`kill -0 $$`), and is stopped when `body` ends.
 */
export function writebackBeside(dir: string, body: string): string {
  const d = shellQuote(dir);
  return (
    `{ while kill -0 $$ 2>/dev/null; do sync -f ${d} 2>/dev/null || sync; sleep 0.1 2>/dev/null || sleep 1; done & } && wb=$! && ` +
    `${body} && { kill $wb 2>/dev/null || true; }`
  );
}

/** At most this many layers are stacked on a full save; the next save is a full one again. */
export const MAX_LAYERS = 12;
/** A layer is stacked only while what the restore would get stays within this share over what the run used. */
export const LAYER_SLACK = 1.15;

/**
 * The shell script of a save: what is kept of the cache at `target`, tarred into `outDir`, and a stats line.
 * `layered` (GOCACHE restored from a registry image whose layers the save can reuse): when only a little
 * was created, the tarball holds just the files this run created, for a layer stacked on the restored
 * copy, as long as what a restore would then get stays within LAYER_SLACK of what this run used and there
 * are fewer than MAX_LAYERS layers. Otherwise (and always without `layered`) it holds all that is kept.
 */
export function saveScript(kind: GoCacheKind, target: string, maxBytes: number, outDir: string, workDir: string, layered = false): string {
  const t = shellQuote(target);
  const p = SAVED_PATHS[kind];
  const keep = `${workDir}/go-buildx-keep`;
  // "<size> <mtime> <path>" of each file kept, from find's own -exec (busybox xargs garbles long inputs).
  const stat = `-exec stat -c '%s %Y %n' {} + >${keep}.stat`;
  const sum = (file: string) => `awk '{t+=$1} END {print t+0}' ${file}`;
  const list = `awk '{sub(/^[0-9]+ [0-9]+ /, ""); print}' ${keep}.stat >${keep}`;
  const mark = RESTORED_MARK;
  return [
    'set -e',
    `mkdir -p ${outDir}`,
    `cd ${t}`,
    `mkdir -p ${p}`,
    `rm -rf ${STAGE}`,
    `total=$(find ${p} -type f ! -name '${mark}*' -exec stat -c %s {} + | awk '{t+=$1} END {print t+0}')`,
    // GOCACHE after a restore: only what this run used or created (see RESTORED_MARK); else everything.
    ...(kind === 'build'
      ? [
          `if [ -f ${mark} ]; then`,
          `  find ${p} -type f \\( -newer ${mark} -o -name trim.txt -o -name README \\) ! -name '${mark}*' ${stat}`,
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
    list,
    // Build actions this run used: found in the mark (restored, reused) or not (run anew).
    ...(kind === 'build'
      ? [
          `if [ -f ${mark} ]; then`,
          `  actions=$(grep -e '-a$' ${keep} | awk 'FNR == NR {if (FNR > 1) {sub(/^[0-9]+ /, ""); r[$0]=1}; next} {if ($0 in r) u++; else n++} END {print u+0, n+0}' ${mark} -)`,
          'else',
          `  actions="0 $(grep -c -e '-a$' ${keep} || true)"`,
          'fi',
        ]
      : ['actions="0 0"']),
    `mode=full; saved=$kept; name=${TAR_NAME[kind]}`,
    ...(kind === 'build' && layered ? layerScript(keep, maxBytes, list) : []),
    `out=${outDir}/$name`,
    `files=$(wc -l <${keep})`,
    ...packScript(kind, keep, outDir, p),
    `echo "go-buildx-stats kind=${kind} total=$total used=$used kept=$kept files=$files reused_actions=\${actions% *} run_actions=\${actions#* } mode=$mode saved=$saved"`,
  ].join('\n');
}

/**
 * The tail of a save: the files the keep list names, tarred into `$out` (`pack`), a full GOCACHE save in
 * BUILD_PARTS parts side by side.
 */
function packScript(kind: GoCacheKind, keep: string, outDir: string, p: string): string[] {
  const mark = RESTORED_MARK;
  return [
    // pack LIST OUT PART: the files LIST names, tarred into OUT. GNU tar (the golang images) and Alpine's
    // busybox read a file list; Debian's busybox tar does not: hard links of what is kept then, in a stage
    // inside the mount (the same file system), one cp per directory.
    `if [ -z "$GO_BUILDX_NO_TAR_T" ] && tar --help 2>&1 | grep -q -e '-T'; then`,
    '  pack() { tar -cf "$2" -T "$1"; }',
    'else',
    `  pack() { s=${STAGE}/$3; mkdir -p $s && awk -v s=$s '{d=$0; sub(/\\/[^\\/]*$/, "", d); f[d]=f[d] " " $0} END {for (d in f) print "mkdir -p " s "/" d " && cp -l" f[d] " " s "/" d}' <"$1" >"$1.sh" && sh -e "$1.sh" && (cd $s && tar -cf "$2" .) && rm -rf $s; }`,
    'fi',
    ...(kind === 'build'
      ? [
          // A full save in BUILD_PARTS parts, tarred side by side: by the first hex digit of the entry's
          // directory (./ab/… goes to part 2 of 4); anything else (trim.txt, README) to part 0.
          `if [ "$mode" = full ]; then`,
          `  for i in ${partIndexes()}; do : >${keep}.$i; done`,
          `  awk -v k=${keep} -v n=${BUILD_PARTS} '{i=0; if ($0 ~ /^\\.\\/[0-9a-f][0-9a-f]\\//) i=int((index("0123456789abcdef", substr($0, 3, 1)) - 1) * n / 16); print >(k "." i)}' ${keep}`,
          "  pids=''",
          `  for i in ${partIndexes()}; do`,
          `    o=$out; [ $i -eq 0 ] || o=${outDir}/${partStem('build')}$i.tar`,
          `    if [ $i -eq 0 ] || [ -s ${keep}.$i ]; then pack ${keep}.$i $o $i & pids="$pids $!"; fi`,
          '  done',
          '  for p in $pids; do wait $p || exit 1; done',
          `  rm -rf ${STAGE}`,
          'else',
          `  pack ${keep} $out 0 && rm -rf ${STAGE}`,
          'fi',
        ]
      : [
          `if [ "$mode" = full ] && [ "$kept" -eq "$total" ] && [ ! -f ${mark} ]; then`,
          `  tar -cf $out ${p}`,
          'else',
          `  pack ${keep} $out 0 && rm -rf ${STAGE}`,
          'fi',
        ]),
  ];
}

/**
 * The layered choice: the files this run created (not in the mark) and trim.txt, when stacking them on
 * the restored layers keeps the restore within LAYER_SLACK of what this run used.
 */
function layerScript(keep: string, maxBytes: number, list: string): string[] {
  const mark = RESTORED_MARK;
  return [
    `if [ -f ${mark} ] && [ "$used" -le ${maxBytes} ]; then`,
    `  layers=$(awk 'NR == 1 {print $2 + 0}' ${mark})`,
    `  restored=$(awk 'NR > 1 {t+=$1} END {print t+0}' ${mark})`,
    `  awk 'FNR == NR {if (FNR > 1) {s=$0; sub(/^[0-9]+ /, "", s); r[s]=1}; next} {q=$0; sub(/^[0-9]+ [0-9]+ /, "", q); if (!(q in r) || q == "./trim.txt") print}' ${mark} ${keep}.stat >${keep}.new`,
    `  new=$(awk '{t+=$1} END {print t+0}' ${keep}.new)`,
    `  if [ "$layers" -lt ${MAX_LAYERS} ] && awk -v a="$restored" -v b="$new" -v u="$used" 'BEGIN {exit !(a + b <= u * ${LAYER_SLACK})}'; then`,
    `    mode=layered; saved=$((restored + new)); name=gobuild.$(printf %02d "$layers").tar`,
    `    mv ${keep}.new ${keep}.stat`,
    `    ${list}`,
    '  fi',
    'fi',
  ];
}

/** Where a save without `tar -T` links what it keeps, inside the mount; never left behind. */
const STAGE = '.go-buildx-stage';

const partIndexes = () => Array.from({ length: BUILD_PARTS }, (_, i) => i).join(' ');
