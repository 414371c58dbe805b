#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lists the C++ functions of the repository (tests excepted) longer than a limit, from
# universal-ctags' start and end lines, and exits 1 when one is not in the allowed list.
# Usage: scripts/function-lengths.sh [LIMIT]   (default 80, see CONTRIBUTING.md "Style")
# The allowed list (scripts/function-lengths.allow) holds the format parsers where one long linear
# parse reads best (JKS, PGP, PKCS#12, PPK), each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-80}
command -v ctags >/dev/null && ctags --version 2>/dev/null | grep -q 'Universal Ctags' || {
  echo "function-lengths: needs universal-ctags (apt-get install universal-ctags)" >&2; exit 2; }
allow=$(grep -v -E '^\s*(#|$)' scripts/function-lengths.allow | awk '{print $1}')
long=$(git ls-files '*.cpp' '*.hpp' ':!tests/**' |
  xargs ctags --languages=C++ --kinds-C++=f --fields=+ne -x \
        --_xformat='%{line}	%{end}	%{input}	%{scopeKind}	%{scope}	%{name}' 2>/dev/null |
  awk -F'\t' -v lim="$limit" '$2 != "" && ($2 - $1 + 1) > lim {
    scope = $5; sub(/.*::/, "", scope)
    name = ($4 == "class" || $4 == "struct") ? scope "::" $6 : $6
    print ($2 - $1 + 1), $3 ":" $1, name }' | sort -rn)
status=0
while read -r n where name; do
  [[ -z "${n:-}" ]] && continue
  if grep -qx -- "$name" <<<"$allow"; then echo "allowed  $n lines  $where  $name"
  else echo "TOO LONG $n lines  $where  $name (limit $limit)"; status=1; fi
done <<<"$long"
[[ $status -eq 0 ]] && echo "function-lengths: no function over $limit lines outside the allowed parsers"
exit $status
