#!/usr/bin/env bash
# Runs every test: unit tests on captured fixtures, then the e2e tests against
# the real engine. Brings the engine up first when it is not running and this
# user can (root); otherwise the e2e tests skip loudly (and fail when CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1 || ! curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && [ -z "${GBA_NO_ENGINE:-}" ]; then
    bash scripts/engine.sh up
  fi
fi
# The e2e tests run the bundle, so build it from the current source first.
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build >/dev/null
npx vitest run "$@"
