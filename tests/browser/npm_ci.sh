#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the browser tests' npm packages (playwright-core, and the CycloneDX schemas in
# @cyclonedx/cyclonedx-library) into DEST from the committed package-lock.json: `npm ci`, no
# optional packages, no install scripts. Skipped when DEST already holds this lock's install.
# Used by: the ctest fixture browser.npm (tests/CMakeLists.txt). Needs the npm registry: where it
# cannot be reached (no network, or a network that intercepts TLS with a CA this root does not
# trust, as in a brand-new chroot), exits 77, which ctest reports as Skipped, with npm's reason;
# the browser tests then skip too (tests/support/npm_packages.py). KEYWARD_REQUIRE_BROWSER=1
# (.ci/run) makes that a failure. Any other npm failure (an integrity mismatch) always fails.
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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error --fetch-retries=1 >"$log" 2>&1; then
  cat "$log"
  cp package-lock.json node_modules/.keyward-lock
  exit 0
fi
cat "$log" >&2
unreachable='ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF|CERT_HAS_EXPIRED|ERR_SOCKET_TIMEOUT'
if grep -Eq "$unreachable" "$log" && [[ ${KEYWARD_REQUIRE_BROWSER:-} != 1 ]]; then
  echo "npm_ci.sh: SKIP: the npm registry cannot be reached from here (above); the browser and CBOM schema tests are skipped. Where TLS is intercepted, give npm the CA: npm config set cafile FILE" >&2
  exit 77
fi
exit 1
