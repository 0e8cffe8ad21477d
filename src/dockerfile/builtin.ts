// The built-in Dockerfile for a Go module that has none. It follows every
// practice the action recommends, and passes its own lint:
// - the Go stage runs on $BUILDPLATFORM and cross-compiles (no QEMU), unless
//   cgo is on, which needs the target's C toolchain
// - go.mod/go.sum first, `go mod download` with the module cache mounted
// - CGO_ENABLED=0, -trimpath, -ldflags "-s -w", the version stamped with -X
// - the final stage: by default scratch plus CA certificates, the Go
//   toolchain's own zoneinfo.zip and a non-root user (a distroless-style
//   static image assembled here, so nothing else has to be pulled)
// - GOPROXY, GOPRIVATE, GOFLAGS, GOSUMDB as build args; private-module
//   credentials only through the BuildKit secret "netrc", mounted only where
//   modules are downloaded: `go build` finds them all in the module cache. A
//   secret mount also costs time on BuildKit from v0.13 until the fix in
//   moby/buildkit#5251 (Docker Engine 26 and early 27): the step hashes its
//   whole root filesystem whenever an earlier step changed, about 1.2 s for a
//   golang image on every code change.
import * as out from '../output.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings, ZeroConfigOptions } from '../settings/types.js';
import { buildArgMap } from './reader.js';
import { shellWord } from './shell.js';

export const BUILTIN_USER = '65532:65532';

export function builtinDockerfile(o: Omit<ZeroConfigOptions, 'ldflags'>): string {
  const platform = o.cgo ? '' : '--platform=$BUILDPLATFORM ';
  const lines = [
    '# The built-in Dockerfile of go-buildx-action (print-dockerfile: true prints it; save it as your own to change it).',
    `ARG GO_VERSION=${o.goVersion}`,
    `FROM ${platform}golang:\${GO_VERSION} AS build`,
    'WORKDIR /src',
    'ARG GOPROXY',
    'ARG GOPRIVATE',
    'ARG GOSUMDB',
    'ARG GOFLAGS',
    `ENV CGO_ENABLED=${o.cgo ? '1' : '0'}`,
    'COPY go.mod go.sum* ./',
    'RUN --mount=type=cache,id=gomod,target=/go/pkg/mod \\',
    '    --mount=type=secret,id=netrc,target=/root/.netrc \\',
    '    go mod download',
    'COPY . .',
    'ARG TARGETOS TARGETARCH TARGETVARIANT',
    'ARG VERSION=dev',
    'ARG LDFLAGS',
    'RUN --mount=type=cache,id=gomod,target=/go/pkg/mod \\',
    '    --mount=type=cache,id=gobuild,target=/root/.cache/go-build \\',
    '    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \\',
    `    go build -trimpath -ldflags "-s -w -X main.version=\${VERSION} \${LDFLAGS}" -o /out/app ${shellWord(o.goMain)}`,
    'RUN mkdir -p /out/rootfs/etc/ssl/certs \\',
    ' && cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ \\',
    ' && cp "$(go env GOROOT)/lib/time/zoneinfo.zip" /out/rootfs/zoneinfo.zip \\',
    " && echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > /out/rootfs/etc/passwd \\",
    " && echo 'nonroot:x:65532:' > /out/rootfs/etc/group",
    '',
  ];
  if (o.baseImage === undefined) {
    lines.push('FROM scratch', 'COPY --from=build /out/rootfs/ /', 'ENV ZONEINFO=/zoneinfo.zip');
  } else if (o.baseImage === 'scratch') {
    lines.push('FROM scratch', 'COPY --from=build /out/rootfs/etc/passwd /out/rootfs/etc/group /etc/');
  } else {
    lines.push(`FROM ${o.baseImage}`);
  }
  lines.push('COPY --from=build /out/app /app', `USER ${BUILTIN_USER}`, 'ENTRYPOINT ["/app"]', '');
  return lines.join('\n');
}

/** What the built-in Dockerfile's directory gets as <name>.dockerignore when the context has no .dockerignore of its own. */
export const BUILTIN_DOCKERIGNORE = ['.git', '.github', '**/*_test.go', '**/testdata', 'Dockerfile*', '*.md', ''].join('\n');

/** With no Dockerfile and a go.mod, the built-in Dockerfile goes into the temp dir and the build uses it. */
export function useBuiltinDockerfile(settings: Settings, tempDir: string, version: string): Settings {
  const z = settings.zeroConfig;
  if (!z) return settings;
  const dir = path.join(tempDir, 'builtin');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'Dockerfile');
  const text = builtinDockerfile(z);
  fs.writeFileSync(file, text);
  // BuildKit reads <Dockerfile>.dockerignore next to the Dockerfile when the context has no .dockerignore.
  if (!fs.existsSync(path.join(settings.context, '.dockerignore'))) fs.writeFileSync(`${file}.dockerignore`, BUILTIN_DOCKERIGNORE);
  out.info(
    `No Dockerfile in ${path.relative(settings.workspace, settings.context) || '.'}: using the built-in one for Go ${z.goVersion}, package ${z.goMain}`,
  );
  if (settings.printDockerfile) out.info(`The built-in Dockerfile (save it as your own to change it):\n${text}`);
  const own = new Set(Object.keys(buildArgMap(settings.buildArgs)));
  const extra = [
    ...(own.has('VERSION') ? [] : [`VERSION=${version || 'dev'}`]),
    ...(own.has('LDFLAGS') || !z.ldflags ? [] : [`LDFLAGS=${z.ldflags}`]),
  ];
  return { ...settings, file, buildArgs: [...settings.buildArgs, ...extra] };
}
