#!/usr/bin/env bash
# Installs the browser tests' npm packages (playwright-core, and the CycloneDX schemas in
# @cyclonedx/cyclonedx-library) into DEST from the committed package-lock.json: `npm ci`, no
# optional packages, no install scripts. Skipped when DEST already holds this lock's install.
# Used by: the ctest fixture browser.npm (tests/CMakeLists.txt). Needs the npm registry.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: npm_ci.sh DEST}
mkdir -p "$dest"
if [[ -f "$dest/node_modules/.keyward-lock" ]] && cmp -s "$src/package-lock.json" "$dest/node_modules/.keyward-lock"; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm_ci.sh: npm is missing: run make deps (scripts/install-deps.sh)" >&2; exit 1; }
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.keyward-lock
