#!/usr/bin/env bash
# Rebuilds dist/ and fails when it differs from what is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build >/dev/null
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "dist/ is stale: 'npm run build' changed it. Commit the rebuilt dist/." >&2
  git status --porcelain -- dist >&2
  git diff --stat -- dist >&2
  exit 1
fi
echo "dist/ is current"
