#!/usr/bin/env bash
# `npm test`: every test, on a fresh machine with nothing done by hand.
# As root it brings up what the e2e tests need (the engine, registry and QEMU
# from Debian's packages; Chromium for the job summary rendering); otherwise it
# says in one line per missing piece what is skipped (with CI=true the tests
# fail instead of skipping). Then it builds the bundle the e2e tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
can_install() { [ "$(id -u)" = 0 ] && [ -z "${GBA_NO_ENGINE:-}" ]; }

# As root, always: engine.sh is idempotent, and it replaces an engine of another release with the primary one.
if can_install; then
  bash scripts/engine.sh up
elif ! docker info >/dev/null 2>&1 || ! curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  echo "!!! no engine and not root: the e2e tests are skipped (bring it up with: sudo scripts/engine.sh up)"
fi

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if can_install; then
    echo "== installing chromium (renders the job summary in the e2e tests) =="
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "!!! no chromium and not root: the job summary rendering test is skipped (install with: sudo apt-get install chromium)"
  fi
fi

# The e2e tests run the bundle, so build it from the current source first.
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build >/dev/null
npx vitest run "$@"
