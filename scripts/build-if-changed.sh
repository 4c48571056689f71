#!/usr/bin/env bash
# Runs `npm run build` only when one of its inputs changed since the last successful build.
#
# The stamp dist/.build-inputs holds a hash of every file the build reads (src/, web/, the build
# scripts, the TypeScript configs, package.json, package-lock.json): each file's path, modification
# time and content. A second run with nothing changed only hashes (about 0.1 s); an edited or merely
# touched file, a missing output, or POLYVISOR_REBUILD=1 builds again. The hash is taken before the
# build, so a file changed while it runs makes the next run build again.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }
STAMP=dist/.build-inputs
OUTPUTS=(dist/daemon/main.js dist/cli/main.js dist/web/index.html)

inputs_hash() {
  local files
  files=$(find src web scripts/build-cli.mjs scripts/build-web.mjs tsconfig*.json package.json package-lock.json \
    -type f -not -path '*/node_modules/*' -printf '%p %T@\n' | LC_ALL=C sort)
  { printf '%s\n' "$files"; printf '%s\n' "$files" | cut -d' ' -f1 | tr '\n' '\0' | xargs -0 sha256sum; } | sha256sum | cut -c1-32
}

current=1
[ "${POLYVISOR_REBUILD:-0}" = 1 ] && current=0
for f in "${OUTPUTS[@]}"; do [ -f "$f" ] || current=0; done
inputs=$(inputs_hash)
[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$inputs" ] || current=0
if [ "$current" = 1 ]; then
  log "build is current (no build input changed since the last build)"
  exit 0
fi
log "building TypeScript and the web UI (dist/)"
rm -f "$STAMP"
npm run --silent build
mkdir -p dist
echo "$inputs" >"$STAMP"
