#!/usr/bin/env bash
# Brings up a real container engine on a fresh Debian 12 machine from Debian's
# packages only: today's releases from Debian sid (dockerd 28.5 with the
# containerd image store, containerd 2.1, buildx 0.29, cosign 3.1) as the
# primary engine, a distribution registry on 127.0.0.1:5000, QEMU binfmt, and
# stand-in base images in that registry (which is also the docker.io mirror).
# The oldest supported releases (Debian trixie: dockerd 26.1, containerd 1.7,
# buildx 0.13.1, cosign 2.5) run as a leg beside it, and so does the classic
# image store.
#
# Packages come from the Debian archive this machine's own apt sources name
# (/etc/apt/sources.list.d, /etc/apt/sources.list): the mirror is the
# machine's configuration, not the repository's. Newer suites are downloaded
# through a private apt configuration and unpacked with dpkg -x into
# /opt/gba-engine/<suite>; installing them would drag a libc6/systemd upgrade in.
#
# Idempotent: every piece is checked first and reused when already there,
# including an engine that some other means already started.
#
#   scripts/engine.sh up                 everything above, plus the Go module
#                                        sources the GOPROXY fixture serves
#   scripts/engine.sh sshd PORT DIR KEYS  start an sshd on loopback (tests use it)
#   scripts/engine.sh registry PORT DIR [HTPASSWD] [nodelete]
#                                        start an extra registry (tests use it);
#                                        nodelete refuses deletes, as many do
#   scripts/engine.sh leg NAME           start an extra engine beside the main one (tests use it),
#                                        on its own socket, data root, exec root, containerd and
#                                        bridge; prints the environment that points a client at it
#                                        (DOCKER_HOST, and for `oldest` DOCKER_CONFIG with its
#                                        buildx and PATH with its cosign):
#                                          oldest   trixie's dockerd 26.1, buildx 0.13.1, cosign 2.5
#                                          classic  trixie's dockerd 26.1, containerd snapshotter off
#                                                   (the classic image store, overlay2)
#   scripts/engine.sh buildkit           build buildkitd and buildctl from Debian trixie's sources (the
#                                        docker.io source package's orig-buildkit component, BuildKit
#                                        0.13, with Debian's Go packages and four small patches) and
#                                        push them as localhost:5000/moby/buildkit:buildx-stable-1, which
#                                        the docker.io mirror makes moby/buildkit:buildx-stable-1: the
#                                        docker-container builder then runs here (tests use it)
#   scripts/engine.sh versions           the releases of the primary engine and the legs
#   scripts/engine.sh down               stop what `up` started
#
# Facts behind the choices: ../shared/notes/engine-facts.md
set -euo pipefail

PREFIX_ROOT=${GBA_ENGINE_PREFIX:-/opt/gba-engine}
# The primary engine: today's releases. The oldest supported: the leg "oldest".
PRIMARY_SUITE=sid
OLDEST_SUITE=trixie
PRIMARY_DOCKER=28.5
PREFIX="$PREFIX_ROOT/$PRIMARY_SUITE"
STATE=${GBA_ENGINE_STATE:-/var/lib/gba-engine}
LOGS=${GBA_ENGINE_LOGS:-/var/log/gba-engine}
REGISTRY_ADDR=127.0.0.1:5000
GO_IMAGE=localhost:5000/library/golang:1.24
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[engine] %s\n' "$*" >&2; }
die() { printf '[engine] ERROR: %s\n' "$*" >&2; exit 1; }

wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local limit=$1 what=$2; shift 2
  local i
  for ((i = 0; i < limit * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  die "$what did not come up within ${limit}s (logs in $LOGS)"
}

apt_updated=
apt_install() { # installs bookworm packages that are missing
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then apt-get update -q >/dev/null; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian archive this machine's apt sources use (deb822 .sources first, then sources.list): the first
# URI of an entry for the release this machine runs (not its -security or -updates suites).
debian_archive() {
  local codename uri
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  uri=$(awk -v rel="$codename" '
    /^[[:space:]]*$/ { if (u != "" && hit) { print u; exit } u = ""; hit = 0; next }
    /^URIs:/ { u = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == rel) hit = 1 }
    END { if (u != "" && hit) print u }
  ' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk -v rel="$codename" '$1 == "deb" && $3 == rel { print $2; exit }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "no Debian archive for $codename in /etc/apt/sources.list.d or /etc/apt/sources.list"
  echo "${uri%/}"
}

# suite_download SUITE DESTDIR PKG...: .deb files of another Debian suite, through a private apt
# configuration, from the same archive the machine uses.
suite_download() {
  local suite=$1 dest=$2; shift 2
  mkdir -p "$dest"
  (cd "$dest" && suite_apt "$suite" deb download "$@" >/dev/null)
}

# suite_apt SUITE TYPES APT-GET-ARGS...: apt-get through a private configuration that names only SUITE
# (TYPES deb or deb-src) of the machine's archive, its lists updated once.
suite_apt() {
  local suite=$1 types=$2; shift 2
  local t="$STATE/apt-$suite-$types"
  mkdir -p "$t/lists/partial" "$t/cache/archives/partial" "$t/parts"
  cat >"$t/parts/$suite.sources" <<SRC
Types: $types
URIs: $(debian_archive)
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local opts=(-q -o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$t/parts"
    -o "Dir::State::Lists=$t/lists" -o "Dir::Cache=$t/cache")
  if [ ! -s "$t/updated" ]; then
    apt-get "${opts[@]}" update >/dev/null 2>&1 || apt-get "${opts[@]}" update >&2
    date >"$t/updated"
  fi
  apt-get "${opts[@]}" "$@"
}

# install_suite SUITE: dockerd, docker-proxy, containerd, its shim, ctr, docker-init (trixie's static
# tini), the buildx plugin and cosign of that suite, into $PREFIX_ROOT/SUITE/{bin,cli-plugins}.
install_suite() {
  local suite=$1 dir="$PREFIX_ROOT/$1"
  if [ -x "$dir/bin/dockerd" ] && [ -x "$dir/bin/containerd" ] && [ -x "$dir/cli-plugins/docker-buildx" ] && [ -x "$dir/bin/cosign" ]; then
    return 0
  fi
  apt_install runc iptables ca-certificates curl zstd
  local debs="$STATE/debs-$suite" root="$STATE/unpacked-$suite"
  log "downloading docker.io, containerd, docker-buildx, cosign from $suite"
  rm -rf "$debs" && suite_download "$suite" "$debs" docker.io containerd docker-buildx cosign
  # dockerd wants docker-init on PATH; trixie's tini .deb has the static one.
  suite_download "$OLDEST_SUITE" "$debs" tini
  rm -rf "$root" && mkdir -p "$root"
  local d
  for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
  mkdir -p "$dir/bin" "$dir/cli-plugins"
  install -m 0755 "$root/usr/sbin/dockerd" "$dir/bin/dockerd"
  # dockerd needs the docker-proxy of its own release, or every port mapping fails.
  install -m 0755 "$root/usr/sbin/docker-proxy" "$dir/bin/docker-proxy" 2>/dev/null ||
    install -m 0755 "$root/usr/bin/docker-proxy" "$dir/bin/docker-proxy"
  local b
  for b in containerd containerd-shim-runc-v2 ctr cosign; do install -m 0755 "$root/usr/bin/$b" "$dir/bin/$b"; done
  install -m 0755 "$root/usr/bin/tini-static" "$dir/bin/docker-init"
  install -m 0755 "$root/usr/libexec/docker/cli-plugins/docker-buildx" "$dir/cli-plugins/docker-buildx"
  dpkg-deb -f "$debs"/docker.io_*.deb Version >"$dir/versions"
  { dpkg-deb -f "$debs"/containerd_*.deb Version; dpkg-deb -f "$debs"/docker-buildx_*.deb Version; dpkg-deb -f "$debs"/cosign_*.deb Version; } >>"$dir/versions"
}

# The primary engine's client side: its buildx as the docker CLI plugin, its cosign on PATH.
install_primary_tools() {
  mkdir -p "$PLUGIN_DIR"
  cmp -s "$PREFIX/cli-plugins/docker-buildx" "$PLUGIN_DIR/docker-buildx" || install -m 0755 "$PREFIX/cli-plugins/docker-buildx" "$PLUGIN_DIR/docker-buildx"
  cmp -s "$PREFIX/bin/cosign" /usr/local/bin/cosign || install -m 0755 "$PREFIX/bin/cosign" /usr/local/bin/cosign
}

write_daemon_json() {
  mkdir -p /etc/docker
  local want
  want=$(cat <<JSON
{
  "features": {"containerd-snapshotter": true},
  "insecure-registries": ["localhost:5000", "127.0.0.1:5000", "localhost:5001", "127.0.0.1:5001", "localhost:5002", "127.0.0.1:5002"],
  "registry-mirrors": ["http://localhost:5000"]
}
JSON
)
  if [ ! -f /etc/docker/daemon.json ] || [ "$(cat /etc/docker/daemon.json)" != "$want" ]; then
    printf '%s\n' "$want" >/etc/docker/daemon.json
    return 1 # changed
  fi
  return 0
}

# The main engine's daemons, by their pid files (the legs run dockerds and containerds of their own).
MAIN_DOCKERD_PID=/var/run/docker.pid
MAIN_CONTAINERD_PID="$STATE/containerd.pid"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pid() { # stop_pid PIDFILE: TERM, then wait up to 10 s
  alive "$1" || return 0
  kill "$(cat "$1")" 2>/dev/null || true
  for _ in $(seq 1 40); do alive "$1" || return 0; sleep 0.25; done
}

start_engine() {
  mkdir -p "$LOGS" "$STATE"
  local changed=0
  write_daemon_json || changed=1
  # An engine of another release (an earlier version of this script) is stopped first.
  local running
  running=$(DOCKER_HOST=unix:///var/run/docker.sock docker version --format '{{.Server.Version}}' 2>/dev/null || true)
  if [ -n "$running" ] && [ "${running#"$PRIMARY_DOCKER".}" = "$running" ]; then
    log "dockerd $running runs, the primary engine is $PRIMARY_DOCKER: restarting it"
    stop_pid "$MAIN_DOCKERD_PID"
    stop_pid "$MAIN_CONTAINERD_PID"
    # A containerd this script started before it kept a pid file.
    [ -f "$MAIN_CONTAINERD_PID" ] || pkill -f '^containerd$' 2>/dev/null || true
    sleep 1
  fi
  if DOCKER_HOST=unix:///var/run/docker.sock docker info >/dev/null 2>&1; then
    if [ $changed = 1 ] && alive "$MAIN_DOCKERD_PID"; then
      log "daemon.json changed: reloading dockerd"
      kill -HUP "$(cat "$MAIN_DOCKERD_PID")" || true
    fi
    log "engine already running: $(docker version --format '{{.Server.Version}}')"
    return 0
  fi
  export PATH="$PREFIX/bin:$PATH"
  # A session that ended kills the daemons but leaves their pid and socket files.
  alive "$MAIN_DOCKERD_PID" || rm -f "$MAIN_DOCKERD_PID" /var/run/docker.sock
  if ! alive "$MAIN_CONTAINERD_PID"; then
    rm -f /run/containerd/containerd.sock
    log "starting containerd $("$PREFIX/bin/containerd" --version | awk '{print $3}')"
    nohup "$PREFIX/bin/containerd" >"$LOGS/containerd.log" 2>&1 &
    echo $! >"$MAIN_CONTAINERD_PID"
  fi
  wait_for 30 containerd test -S /run/containerd/containerd.sock
  if ! alive "$MAIN_DOCKERD_PID"; then
    log "starting dockerd"
    nohup "$PREFIX/bin/dockerd" --containerd=/run/containerd/containerd.sock >"$LOGS/dockerd.log" 2>&1 &
  fi
  wait_for 60 dockerd docker info
  log "engine up: $(docker version --format '{{.Server.Version}}'), driver $(docker info --format '{{.Driver}}')"
}

# start_registry PORT DIR [HTPASSWD] [nodelete]: a plain-HTTP distribution
# registry on loopback, with basic auth when an htpasswd file (bcrypt) is given,
# and without the delete API when asked.
start_registry() {
  local port=$1 dir=$2 htpasswd=${3:-} deletes=true
  [ "${4:-}" = nodelete ] && deletes=false
  apt_install docker-registry
  if curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then return 0; fi
  mkdir -p "$dir" "$LOGS"
  cat >"$dir.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir
  delete:
    enabled: $deletes
http:
  addr: 127.0.0.1:$port
YML
  if [ -n "$htpasswd" ]; then
    printf 'auth:\n  htpasswd:\n    realm: gba-test\n    path: %s\n' "$htpasswd" >>"$dir.yml"
  fi
  log "starting registry on 127.0.0.1:$port"
  nohup docker-registry serve "$dir.yml" >"$LOGS/registry-$port.log" 2>&1 &
  echo $! >"$dir.pid"
  # An auth-protected registry answers /v2/ with 401, which still means it is up.
  wait_for 20 "registry on $port" sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/v2/ | grep -qE '200|401'"
}

# start_sshd PORT DIR AUTHORIZED_KEYS: an OpenSSH server on 127.0.0.1:PORT that
# takes only the given keys (root, key only), for the private Go module served
# over git+ssh in the e2e tests. Also installs git and the ssh client, which
# the test copies into its build image. Idempotent on PORT.
start_sshd() {
  local port=$1 dir=$2 keys=$3
  apt_install openssh-server openssh-client git
  if [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; then return 0; fi
  mkdir -p "$dir" /run/sshd
  [ -f "$dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519"
  cat >"$dir/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CFG
  log "starting sshd on 127.0.0.1:$port"
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$LOGS/sshd-$port.log"
  wait_for 10 "sshd on $port" bash -c "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
}

setup_qemu() {
  apt_install qemu-user-static binfmt-support
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --enable
  fi
  grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "qemu-aarch64 binfmt is not enabled"
}

# A test CA and a certificate for 127.0.0.1, so the local Go module proxy can
# serve HTTPS: the go command sends netrc credentials only over HTTPS.
TEST_CA="$STATE/test-ca"
make_test_ca() {
  [ -s "$TEST_CA/proxy.crt" ] && return 0
  log "creating the test CA in $TEST_CA"
  mkdir -p "$TEST_CA"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj '/CN=go-buildx-action test CA' -keyout "$TEST_CA/ca.key" -out "$TEST_CA/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=127.0.0.1' \
    -keyout "$TEST_CA/proxy.key" -out "$TEST_CA/proxy.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$TEST_CA/san.ext"
  openssl x509 -req -in "$TEST_CA/proxy.csr" -CA "$TEST_CA/ca.crt" -CAkey "$TEST_CA/ca.key" -CAcreateserial \
    -days 3650 -extfile "$TEST_CA/san.ext" -out "$TEST_CA/proxy.crt" 2>/dev/null
  chmod 0644 "$TEST_CA"/*.crt "$TEST_CA"/*.key
}

# A golang builder image from Debian's Go 1.24, with busybox for /bin/sh and
# the test CA in its trust bundle. Single-platform (amd64) on purpose: builder
# stages run on $BUILDPLATFORM. The "-gba2" tag marks this recipe's version.
push_go_image() {
  if curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY_ADDR/v2/library/golang/manifests/1.24-gba2"; then
    return 0
  fi
  apt_install busybox-static ca-certificates
  local debs="$STATE/debs-go" root="$STATE/go-rootfs"
  log "building the golang:1.24 stand-in from trixie's golang-1.24"
  suite_download "$OLDEST_SUITE" "$debs" golang-1.24-go golang-1.24-src
  rm -rf "$root" && mkdir -p "$root"/{bin,etc/ssl/certs,tmp,go/bin,go/src,root,usr/bin,usr/local/bin}
  chmod 1777 "$root/tmp"
  local d
  for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  ln -sf ../lib/go-1.24/bin/go "$root/usr/bin/go"
  ln -sf ../lib/go-1.24/bin/gofmt "$root/usr/bin/gofmt"
  cat /etc/ssl/certs/ca-certificates.crt "$TEST_CA/ca.crt" >"$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/go/bin:/usr/lib/go-1.24/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV GOPATH=/go' --change 'ENV GOTOOLCHAIN=local' --change 'WORKDIR /go' \
    --change 'CMD ["/bin/sh"]' - "$GO_IMAGE" >/dev/null
  docker push -q "$GO_IMAGE" >/dev/null
  docker tag "$GO_IMAGE" "$GO_IMAGE-gba2"
  docker push -q "$GO_IMAGE-gba2" >/dev/null
  docker tag "$GO_IMAGE" golang:1.24
}

# Real Go modules for the local GOPROXY fixture (scripts/goproxy.mjs): Gin,
# logrus, Prometheus client_golang, uuid and their dependencies, as sources in
# /usr/share/gocode/src. These are architecture-independent bookworm packages.
install_go_module_sources() {
  apt_install golang-github-gin-gonic-gin-dev golang-github-sirupsen-logrus-dev \
    golang-github-prometheus-client-golang-dev golang-github-google-uuid-dev
}

up() {
  [ "$(id -u)" = 0 ] || die "run as root (apt-get, dockerd, binfmt)"
  local t0=$SECONDS
  install_go_module_sources
  # git and OpenSSH: the private module over git+ssh (ssh.test.ts, and the README's ssh recipe's agent).
  apt_install openssh-server openssh-client git
  install_suite "$PRIMARY_SUITE"
  install_primary_tools
  start_engine
  start_registry 5000 /var/lib/gba-registry
  setup_qemu
  make_test_ca
  push_go_image
  docker buildx version >/dev/null || die "buildx plugin missing"
  log "ready in $((SECONDS - t0))s: $(docker buildx version | head -1)"
}

# Extra engines ("legs") beside the main one. Each has its own socket, data root, exec root, pid file, a
# containerd that dockerd manages under its exec root, and its own bridge: never `--bridge none`, with which
# dockerd deletes docker0 and the main engine's containers lose their network. A leg shares the registry
# and its docker.io mirror with the main engine.
#   NAME      releases   image store           bridge
#   oldest    trixie     containerd            gba-oldest0, 172.30.0.1/24
#   classic   trixie     classic (overlay2)    gba-classic0, 172.29.0.1/24
leg_settings() { # leg_settings NAME -> "SUITE SNAPSHOTTER CIDR"
  case "$1" in
    oldest) echo "$OLDEST_SUITE true 172.30.0.1/24" ;;
    classic) echo "$OLDEST_SUITE false 172.29.0.1/24" ;;
    *) die "unknown engine leg $1 (known: oldest, classic)" ;;
  esac
}

# What points a client at a leg: its socket; for the oldest, its buildx (a DOCKER_CONFIG whose
# cli-plugins holds it) and its cosign (first on PATH).
leg_env() {
  local name=$1 suite=$2 run=$3
  echo "DOCKER_HOST=unix://$run/docker.sock"
  if [ "$name" = oldest ]; then
    mkdir -p "$run/docker-config/cli-plugins"
    ln -sf "$PREFIX_ROOT/$suite/cli-plugins/docker-buildx" "$run/docker-config/cli-plugins/docker-buildx"
    echo "DOCKER_CONFIG=$run/docker-config"
    echo "GBA_PATH_PREFIX=$PREFIX_ROOT/$suite/bin"
  fi
}

start_leg() {
  local name=$1 suite snap cidr
  read -r suite snap cidr <<<"$(leg_settings "$name")"
  local root="/var/lib/gba-leg-$name" run="/run/gba-leg-$name" bridge="gba-$name"0
  local sock="$run/docker.sock"
  if DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; then leg_env "$name" "$suite" "$run"; return 0; fi
  apt_install iproute2
  install_suite "$suite"
  mkdir -p "$root" "$run" "$LOGS"
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$cidr" dev "$bridge"
    ip link set "$bridge" up
  fi
  cat >"$run/daemon.json" <<JSON
{
  "features": {"containerd-snapshotter": $snap},
  "insecure-registries": ["localhost:5000", "127.0.0.1:5000", "localhost:5001", "127.0.0.1:5001", "localhost:5002", "127.0.0.1:5002"],
  "registry-mirrors": ["http://localhost:5000"]
}
JSON
  # A session that ended leaves the pid file and socket behind.
  rm -f "$run/docker.pid" "$sock"
  log "starting the $name engine on $sock"
  PATH="$PREFIX_ROOT/$suite/bin:$PATH" nohup dockerd --config-file "$run/daemon.json" --data-root "$root" --exec-root "$run/exec" \
    --pidfile "$run/docker.pid" -H "unix://$sock" --bridge "$bridge" --iptables=false --ip6tables=false \
    >"$LOGS/dockerd-$name.log" 2>&1 &
  wait_for 60 "the $name engine" env DOCKER_HOST="unix://$sock" docker info
  log "$name engine up: $(DOCKER_HOST="unix://$sock" docker info --format '{{.ServerVersion}} {{.Driver}}')"
  leg_env "$name" "$suite" "$run"
}

# A moby/buildkit image from Debian's sources. No Debian package ships buildkitd, and no BuildKit image can be
# pulled here. Sid's orig-buildkit tarball is not on the archive (404); trixie's (BuildKit 0.13, as in
# Docker 26.1) is. Its Go dependencies are the golang-*-dev packages docker.io builds with, and theirs.
# Patches, each for a package Debian does not have in the version BuildKit 0.13 wants:
#   - github.com/Microsoft/hcsshim (Windows runtime options): not packaged; its one use is dropped;
#   - go.opentelemetry.io/otel/exporters/jaeger: gone from Debian's otel; the detector is not imported;
#   - github.com/grpc-ecosystem/go-grpc-middleware: Debian has v2, without the v1 Chain* helpers that
#     BuildKit 0.13 calls; grpc's own Chain*Interceptor options do the same;
#   - github.com/docker/docker: taken from the same source package's main tarball.
BUILDKIT_IMAGE=localhost:5000/moby/buildkit:buildx-stable-1
BUILDKIT_RECIPE=gba1
push_buildkit_image() {
  if curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY_ADDR/v2/moby/buildkit/manifests/buildx-stable-1-$BUILDKIT_RECIPE"; then
    return 0
  fi
  apt_install xz-utils busybox-static runc ca-certificates
  local w="$STATE/buildkit-src" src="$STATE/buildkit-src/src"
  rm -rf "$w" && mkdir -p "$src" "$w/debs"
  log "downloading BuildKit's source (trixie docker.io, orig-buildkit) and its Go packages"
  # The .dsc is not on the archive here, but the tarballs are: --download-only fetches what it can.
  (cd "$w" && suite_apt "$OLDEST_SUITE" deb-src source --download-only docker.io >/dev/null 2>&1) || true
  ls "$w"/docker.io_*.orig-buildkit.tar.xz "$w"/docker.io_*.orig.tar.xz >/dev/null || die "BuildKit's source is not on the archive"
  local gopath="$w/gopath" bk="$w/gopath/src/github.com/moby/buildkit"
  mkdir -p "$gopath/src/github.com/moby" "$w/moby"
  tar -xJf "$w"/docker.io_*.orig-buildkit.tar.xz -C "$w" && mv "$w/buildkit" "$bk"
  tar -xJf "$w"/docker.io_*.orig.tar.xz -C "$w/moby"
  tar -xJf "$w"/docker.io_*.debian.tar.xz -C "$w"
  # docker.io's Go build dependencies, and theirs, until nothing is missing.
  local want have need round
  want=$(sed -n '/^Build-Depends:/,/^[A-Z][a-z-]*:/p' "$w/debian/control" | grep -o 'golang-[a-z0-9.+-]*-dev' | sort -u)
  for round in 1 2 3 4 5 6 7 8; do
    # In bulk; one at a time when a name is virtual (apt download takes real packages only).
    # shellcheck disable=SC2086
    suite_download "$OLDEST_SUITE" "$w/debs" $want 2>/dev/null ||
      for p in $want; do suite_download "$OLDEST_SUITE" "$w/debs" "$p" 2>/dev/null || true; done
    have=$(for d in "$w"/debs/*.deb; do dpkg-deb -f "$d" Package; done | sort -u)
    want=$(comm -13 <(echo "$have") <(for d in "$w"/debs/*.deb; do dpkg-deb -f "$d" Depends 2>/dev/null; done |
      tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' | grep '^golang-.*-dev$' | sort -u))
    [ -n "$want" ] || break
  done
  local root="$w/root"
  for d in "$w"/debs/*.deb; do case "$d" in *golang-github-golang-protobuf-1-3-dev_*) ;; *) dpkg -x "$d" "$root" ;; esac; done
  local S="$root/usr/share/gocode/src" e n
  for e in "$S"/*; do n=$(basename "$e"); [ "$n" = github.com ] || ln -sfn "$e" "$gopath/src/$n"; done
  for e in "$S"/github.com/*; do n=$(basename "$e"); [ "$n" = moby ] || ln -sfn "$e" "$gopath/src/github.com/$n"; done
  for e in "$S"/github.com/moby/*; do n=$(basename "$e"); [ "$n" = buildkit ] || ln -sfn "$e" "$gopath/src/github.com/moby/$n"; done
  rm -rf "$gopath/src/github.com/docker" && mkdir -p "$gopath/src/github.com/docker"
  for e in "$S"/github.com/docker/*; do ln -sfn "$e" "$gopath/src/github.com/docker/$(basename "$e")"; done
  ln -sfn "$(ls -d "$w"/moby/*/engine)" "$gopath/src/github.com/docker/docker"
  # The patches (see above).
  sed -i '/runhcsoptions "github.com\/Microsoft\/hcsshim/d; s/return &runhcsoptions.Options{}/return \&runtimeoptions.Options{}/' \
    "$bk/cmd/buildkitd/main_containerd_worker.go"
  sed -i '/_ "github.com\/moby\/buildkit\/util\/tracing\/detect\/jaeger"/d' "$bk/cmd/buildkitd/main.go" "$bk/cmd/buildctl/main.go"
  local f
  for f in "$bk/session/grpc.go" "$bk/session/session.go"; do
    sed -i 's/grpc.WithUnaryInterceptor(grpc_middleware.ChainUnaryClient(\(.*\)))/grpc.WithChainUnaryInterceptor(\1)/;
      s/grpc.WithStreamInterceptor(grpc_middleware.ChainStreamClient(\(.*\)))/grpc.WithChainStreamInterceptor(\1)/;
      s/grpc.UnaryInterceptor(grpc_middleware.ChainUnaryServer(\(.*\)))/grpc.ChainUnaryInterceptor(\1)/;
      s/grpc.StreamInterceptor(grpc_middleware.ChainStreamServer(\(.*\)))/grpc.ChainStreamInterceptor(\1)/;
      /grpc_middleware "github.com\/grpc-ecosystem\/go-grpc-middleware"/d' "$f"
  done
  sed -i '/grpc_middleware "github.com\/grpc-ecosystem\/go-grpc-middleware"/d;
    s/unary := grpc_middleware.ChainUnaryServer(\(.*\))$/unary := grpc.ChainUnaryInterceptor(\1)/;
    s/stream := grpc_middleware.ChainStreamServer(\(.*\))$/stream := grpc.ChainStreamInterceptor(\1)/;
    s/opts := \[\]grpc.ServerOption{grpc.UnaryInterceptor(unary), grpc.StreamInterceptor(stream)}/opts := []grpc.ServerOption{unary, stream}/' \
    "$bk/cmd/buildkitd/main.go"
  # Trixie's Go 1.24, unpacked on its own (the golang stand-in's rootfs may be gone while its image stays).
  local go="$STATE/go-toolchain/usr/lib/go-1.24/bin/go"
  if [ ! -x "$go" ]; then
    suite_download "$OLDEST_SUITE" "$w/go-debs" golang-1.24-go golang-1.24-src
    local d
    for d in "$w"/go-debs/*.deb; do dpkg -x "$d" "$STATE/go-toolchain"; done
  fi
  log "building buildkitd and buildctl from $(basename "$w"/docker.io_*.orig-buildkit.tar.xz)"
  local out="$w/rootfs"
  mkdir -p "$out/usr/bin" "$out/bin" "$out/lib/x86_64-linux-gnu" "$out/lib64" "$out/etc/buildkit" "$out/etc/ssl/certs" "$out/tmp" "$out/var/lib/buildkit" "$out/run"
  chmod 1777 "$out/tmp"
  (cd "$bk" && for c in buildkitd buildctl; do
    GOPATH="$gopath" GO111MODULE=off GOFLAGS= GOCACHE="$w/gocache" GOTOOLCHAIN=local CGO_ENABLED=0 \
      "$go" build -ldflags "-X github.com/moby/buildkit/version.Version=v0.13-debian" -o "$out/usr/bin/$c" "./cmd/$c" || exit 1
  done) || die "building BuildKit failed"
  # runc from bookworm (trixie's needs a newer glibc), with the libraries it links.
  install -m 0755 /usr/sbin/runc "$out/usr/bin/runc"
  cp -L /lib/x86_64-linux-gnu/libseccomp.so.2 /lib/x86_64-linux-gnu/libc.so.6 "$out/lib/x86_64-linux-gnu/"
  cp -L /lib64/ld-linux-x86-64.so.2 "$out/lib64/"
  cp /bin/busybox "$out/bin/busybox"
  for f in sh cat ls mkdir rm mount umount; do ln -sf busybox "$out/bin/$f"; done
  cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$out/etc/passwd"
  printf 'root:x:0:\n' >"$out/etc/group"
  tar -C "$out" -c . | docker import --change 'ENTRYPOINT ["buildkitd"]' --change 'ENV PATH=/usr/bin:/bin' \
    --change 'VOLUME /var/lib/buildkit' - "$BUILDKIT_IMAGE" >/dev/null
  docker push -q "$BUILDKIT_IMAGE" >/dev/null
  docker tag "$BUILDKIT_IMAGE" "$BUILDKIT_IMAGE-$BUILDKIT_RECIPE"
  docker push -q "$BUILDKIT_IMAGE-$BUILDKIT_RECIPE" >/dev/null
  log "pushed $BUILDKIT_IMAGE ($("$out/usr/bin/buildkitd" --version | awk '{print $3}'))"
}

versions() {
  local s
  for s in "$PRIMARY_SUITE" "$OLDEST_SUITE"; do
    [ -f "$PREFIX_ROOT/$s/versions" ] && echo "$s: docker.io $(sed -n 1p "$PREFIX_ROOT/$s/versions"), containerd $(sed -n 2p "$PREFIX_ROOT/$s/versions"), docker-buildx $(sed -n 3p "$PREFIX_ROOT/$s/versions"), cosign $(sed -n 4p "$PREFIX_ROOT/$s/versions")"
  done
  return 0
}

stop_legs() {
  local f
  for f in /run/gba-leg-*/docker.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  return 0
}

down() {
  stop_legs
  local f
  for f in /var/lib/gba-registry*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
  stop_pid "$MAIN_DOCKERD_PID"
  stop_pid "$MAIN_CONTAINERD_PID"
}

case "${1:-up}" in
  up) up ;;
  registry) start_registry "${2:?port}" "${3:?dir}" "${4:-}" "${5:-}" ;;
  sshd) start_sshd "${2:?port}" "${3:?dir}" "${4:?authorized keys file}" ;;
  leg) start_leg "${2:?leg name}" ;;
  versions) versions ;;
  buildkit) push_buildkit_image ;;
  down) down ;;
  *) die "usage: $0 up|registry PORT DIR|sshd PORT DIR KEYS|leg NAME|buildkit|versions|down" ;;
esac
