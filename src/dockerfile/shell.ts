// Words for the shell lines of the Dockerfiles this action writes (the
// built-in one, the Go cache restore and save steps).

/** Single-quoted for /bin/sh, whatever it holds. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** As it is when it needs no quoting (a package path such as ./cmd/api), else quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : shellQuote(s);
}
