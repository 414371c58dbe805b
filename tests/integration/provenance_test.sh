#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Provenance on the command line (docs/rules.md, "Provenance"): a vendored key and a key whose
# file a (fake) package lists are reported at most low by `keyward scan` and `keyward ci`, and
# `--show-vendor` gives them the band of their points again. Keys are generated at test time.
# Usage: provenance_test.sh PATH/TO/keyward
set -uo pipefail
kw=$1
tmp=$(mktemp -d /tmp/keyward-prov-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: expected [$2], got [$3]"; fi
}
# severity_of REPORT PATH-SUFFIX [BANDED]: the severity and provenance factor ids of the private
# key at that path; with BANDED, medium/high/critical print as "above-low".
severity_of() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for f in doc["findings"]:
    if f["kind"] == "private_key" and f["location"]["path"].endswith(sys.argv[2]):
        ids = {x["id"] for x in f["risk"]["factors"]}
        prov = ",".join(sorted(ids & {"package-owned", "vendored-dependency", "known-public-key"}))
        sev = f["risk"]["severity"]
        if len(sys.argv) > 3 and sev in ("medium", "high", "critical"):
            sev = "above-low"
        print(sev, prov or "-")
        break
PY
}
genkey() { mkdir -p "$(dirname "$1")" && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# A repository with a committed vendored key and a key a fake package owns.
repo=$tmp/repo
genkey "$repo/node_modules/tls-lib/certs/server.key"
genkey "$repo/opt/libfake/server.key"
chmod 0644 "$repo/node_modules/tls-lib/certs/server.key" "$repo/opt/libfake/server.key"
mkdir -p "$tmp/dpkg"
printf '/.\n%s\n' "$repo/opt/libfake/server.key" > "$tmp/dpkg/libfake:amd64.list"

"$kw" scan -q --format json -o "$tmp/capped.json" --package-db "$tmp/dpkg" "$repo"
check "scan: the vendored key is low" "low vendored-dependency" "$(severity_of "$tmp/capped.json" node_modules/tls-lib/certs/server.key)"
check "scan: the package's key is low" "low package-owned" "$(severity_of "$tmp/capped.json" opt/libfake/server.key)"
"$kw" scan -q --format json -o "$tmp/shown.json" --package-db "$tmp/dpkg" --show-vendor "$repo"
check "scan --show-vendor: the vendored key keeps its points" "above-low vendored-dependency" \
  "$(severity_of "$tmp/shown.json" node_modules/tls-lib/certs/server.key banded)"
check "scan --show-vendor: the package's key keeps its points" "above-low package-owned" \
  "$(severity_of "$tmp/shown.json" opt/libfake/server.key banded)"

git -C "$repo" init -q && git -C "$repo" add -A && git -C "$repo" -c user.name=t -c user.email=t@example.invalid commit -qm keys
"$kw" ci "$repo" --format json -o "$tmp/ci-capped.json" --fail-on critical 2>/dev/null
check "ci: the vendored key is low" "low vendored-dependency" "$(severity_of "$tmp/ci-capped.json" node_modules/tls-lib/certs/server.key)"
"$kw" ci "$repo" --format json -o "$tmp/ci-shown.json" --fail-on critical --show-vendor 2>/dev/null
check "ci --show-vendor: the vendored key keeps its points" "above-low vendored-dependency" \
  "$(severity_of "$tmp/ci-shown.json" node_modules/tls-lib/certs/server.key banded)"

# keyward ci does not look packages up (repository content), unless --package-db asks.
"$kw" ci "$repo" --format json -o "$tmp/ci-nopkg.json" --fail-on critical 2>/dev/null
check "ci: no package lookup by default" "above-low -" "$(severity_of "$tmp/ci-nopkg.json" opt/libfake/server.key banded)"
"$kw" ci "$repo" --format json -o "$tmp/ci-pkg.json" --fail-on critical --package-db "$tmp/dpkg" 2>/dev/null
check "ci --package-db: the package's key is low" "low package-owned" "$(severity_of "$tmp/ci-pkg.json" opt/libfake/server.key)"

echo "provenance: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
