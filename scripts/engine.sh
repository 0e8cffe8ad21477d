#!/usr/bin/env bash
# Brings up a real container engine on a fresh Debian 12 machine from Debian's
# packages only: dockerd 26 with the containerd image store, buildx, a
# distribution registry on 127.0.0.1:5000, QEMU binfmt, and stand-in base images
# in that registry (which is also the docker.io mirror).
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
#   scripts/engine.sh leg NAME           start an extra engine beside the main one (tests use it):
#                                        `classic` is dockerd with the containerd snapshotter off
#                                        (the classic image store, overlay2), on its own socket,
#                                        data root, exec root, containerd and bridge; prints its
#                                        DOCKER_HOST
#   scripts/engine.sh down               stop what `up` started
#
# Facts behind the choices: ../shared/notes/engine-facts.md
set -euo pipefail

PREFIX=${GBA_ENGINE_PREFIX:-/opt/gba-engine}
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

# Trixie packages are downloaded through a private apt configuration and
# unpacked with dpkg -x; installing them would drag a libc6/systemd upgrade in.
trixie_download() { # trixie_download DESTDIR PKG...
  local dest=$1; shift
  local t="$STATE/apt-trixie"
  mkdir -p "$t/lists/partial" "$t/cache/archives/partial" "$t/parts" "$dest"
  cat >"$t/parts/trixie.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local opts=(-q -o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$t/parts"
    -o "Dir::State::Lists=$t/lists" -o "Dir::Cache=$t/cache")
  if [ ! -s "$t/updated" ]; then
    apt-get "${opts[@]}" update >/dev/null 2>&1 || apt-get "${opts[@]}" update
    date >"$t/updated"
  fi
  (cd "$dest" && apt-get "${opts[@]}" download "$@" >/dev/null)
}

install_engine_binaries() {
  if [ -x "$PREFIX/bin/dockerd" ] && [ -x "$PREFIX/bin/containerd" ] && [ -x "$PLUGIN_DIR/docker-buildx" ]; then
    return 0
  fi
  apt_install runc iptables ca-certificates curl zstd
  local debs="$STATE/debs"
  log "downloading docker.io, containerd, tini, docker-buildx from trixie"
  trixie_download "$debs" docker.io containerd tini docker-buildx
  local root="$STATE/unpacked"
  rm -rf "$root" && mkdir -p "$root"
  local d
  for d in "$debs"/docker.io_*.deb "$debs"/containerd_*.deb "$debs"/tini_*.deb "$debs"/docker-buildx_*.deb; do
    dpkg -x "$d" "$root"
  done
  mkdir -p "$PREFIX/bin" "$PLUGIN_DIR"
  install -m 0755 "$root/usr/sbin/dockerd" "$PREFIX/bin/dockerd"
  install -m 0755 "$root/usr/sbin/docker-proxy" "$PREFIX/bin/docker-proxy" 2>/dev/null ||
    install -m 0755 "$root/usr/bin/docker-proxy" "$PREFIX/bin/docker-proxy"
  local b
  for b in containerd containerd-shim-runc-v2 ctr; do install -m 0755 "$root/usr/bin/$b" "$PREFIX/bin/$b"; done
  # dockerd looks for its init under this name.
  install -m 0755 "$root/usr/bin/tini-static" "$PREFIX/bin/docker-init"
  install -m 0755 "$root/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGIN_DIR/docker-buildx"
}

# cosign from trixie's .deb (it links only libc, so it runs on bookworm), for the
# signing e2e tests; on PATH as /usr/local/bin/cosign.
install_cosign() {
  [ -x /usr/local/bin/cosign ] && return 0
  local debs="$STATE/debs-cosign" root="$STATE/cosign-root"
  log "downloading cosign from trixie"
  trixie_download "$debs" cosign
  rm -rf "$root" && mkdir -p "$root"
  dpkg -x "$debs"/cosign_*.deb "$root"
  install -m 0755 "$root/usr/bin/cosign" /usr/local/bin/cosign
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

start_engine() {
  mkdir -p "$LOGS"
  local changed=0
  write_daemon_json || changed=1
  if docker info >/dev/null 2>&1; then
    if [ $changed = 1 ] && pgrep -x dockerd >/dev/null; then
      log "daemon.json changed: reloading dockerd"
      pkill -HUP -x dockerd || true
    fi
    log "engine already running: $(docker version --format '{{.Server.Version}}')"
    return 0
  fi
  export PATH="$PREFIX/bin:$PATH"
  # A session that ended kills the daemons but leaves their pid and socket files.
  pgrep -x dockerd >/dev/null || rm -f /var/run/docker.pid /var/run/docker.sock
  if ! pgrep -x containerd >/dev/null; then
    rm -f /run/containerd/containerd.sock
    log "starting containerd"
    nohup containerd >"$LOGS/containerd.log" 2>&1 &
  fi
  wait_for 30 containerd test -S /run/containerd/containerd.sock
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd"
    nohup dockerd --containerd=/run/containerd/containerd.sock >"$LOGS/dockerd.log" 2>&1 &
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
  trixie_download "$debs" golang-1.24-go golang-1.24-src
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
  install_engine_binaries
  install_cosign
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
#   NAME      image store           bridge
#   classic   classic (overlay2)    gba-classic0, 172.29.0.1/24
leg_settings() { # leg_settings NAME -> "SNAPSHOTTER CIDR"
  case "$1" in
    classic) echo "false 172.29.0.1/24" ;;
    *) die "unknown engine leg $1 (known: classic)" ;;
  esac
}

start_leg() {
  local name=$1 snap cidr
  read -r snap cidr <<<"$(leg_settings "$name")"
  local root="/var/lib/gba-leg-$name" run="/run/gba-leg-$name" bridge="gba-$name"0
  local sock="$run/docker.sock"
  if DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; then echo "unix://$sock"; return 0; fi
  apt_install iproute2
  install_engine_binaries
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
  PATH="$PREFIX/bin:$PATH" nohup dockerd --config-file "$run/daemon.json" --data-root "$root" --exec-root "$run/exec" \
    --pidfile "$run/docker.pid" -H "unix://$sock" --bridge "$bridge" --iptables=false --ip6tables=false \
    >"$LOGS/dockerd-$name.log" 2>&1 &
  wait_for 60 "the $name engine" env DOCKER_HOST="unix://$sock" docker info
  log "$name engine up: $(DOCKER_HOST="unix://$sock" docker info --format '{{.ServerVersion}} {{.Driver}}')"
  echo "unix://$sock"
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
  pkill -x dockerd 2>/dev/null || true
  sleep 2
  pkill -x containerd 2>/dev/null || true
}

case "${1:-up}" in
  up) up ;;
  registry) start_registry "${2:?port}" "${3:?dir}" "${4:-}" "${5:-}" ;;
  sshd) start_sshd "${2:?port}" "${3:?dir}" "${4:?authorized keys file}" ;;
  leg) start_leg "${2:?leg name}" ;;
  down) down ;;
  *) die "usage: $0 up|registry PORT DIR|sshd PORT DIR KEYS|leg NAME|down" ;;
esac
