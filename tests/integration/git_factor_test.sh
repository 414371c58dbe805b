#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The in-git-repository factor end to end (docs/rules.md): in a real git repository made now,
# `keyward scan` and `keyward ci` give it to a committed key and a staged one, not to an untracked
# or an ignored key, nor to a key outside any repository. Usage: git_factor_test.sh PATH/TO/keyward
set -uo pipefail
kw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
py=${KEYWARD_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d /tmp/keyward-gitfactor-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [[ "$2" == "$3" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: expected [$2], got [$3]"; fi; }
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git_() { git -c user.name=t -c user.email=t@t -c init.defaultBranch=main -c commit.gpgsign=false "$@" >/dev/null 2>&1; }
key() { openssl genpkey -algorithm ED25519 -out "$1" 2>/dev/null; }

repo=$tmp/repo
mkdir -p "$repo/keys" "$tmp/outside"
git_ init "$repo"
printf 'ignored.pem\n' > "$repo/.gitignore"
key "$repo/keys/committed.pem"
key "$repo/keys/staged.pem"
(cd "$repo" && git_ add .gitignore keys/committed.pem && git_ commit -m keys && git_ add keys/staged.pem)
key "$repo/keys/untracked.pem"
key "$repo/keys/ignored.pem"
key "$tmp/outside/alone.pem"

# Which scanned files got the factor, as "name:yes|no" sorted by name.
factor_by_file() {
  "$py" -c '
import json, os, sys
doc = json.load(sys.stdin)
rows = []
for f in doc["findings"]:
    if f["kind"] != "private_key":
        continue
    ids = [x["id"] for x in f["risk"]["factors"]]
    rows.append(os.path.basename(f["location"]["path"]) + ":" + ("yes" if "in-git-repository" in ids else "no"))
print(" ".join(sorted(rows)))'
}

got=$("$kw" scan -q --format json "$tmp" | factor_by_file)
check "scan: tracked keys only" "alone.pem:no committed.pem:yes ignored.pem:no staged.pem:yes untracked.pem:no" "$got"
got=$(cd "$repo" && "$kw" ci --format json --fail-on critical . | factor_by_file)
check "ci: tracked keys only" "committed.pem:yes staged.pem:yes untracked.pem:no" "$got"

echo "git factor: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
