#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check-spdx.sh [--fix]: every source file of the repository carries the licence's SPDX line
# (LICENSE, Apache-2.0) in its first two lines (after a shebang). --fix adds it where missing.
# Not the browser assets copied into every HTML report and the dashboard (reporters/assets,
# collector/ui): they are served as they are.
# Runs in `make test` as repo.spdx.
set -euo pipefail
cd "$(dirname "$0")/.."
fix=0; [[ ${1:-} == --fix ]] && fix=1
tag="SPDX-License-Identifier: Apache-2.0"
missing=0
while IFS= read -r f; do
  head -n 2 "$f" | grep -q "$tag" && continue
  if ((fix == 0)); then echo "check-spdx: $f has no '$tag' line" >&2; missing=1; continue; fi
  case "$f" in
    *.cpp | *.hpp | *.h | *.c | *.js | *.mjs) line="// $tag" ;;
    *.css) line="/* $tag */" ;;
    *) line="# $tag" ;;
  esac
  if head -n 1 "$f" | grep -q '^#!'; then sed -i "1a $line" "$f"; else sed -i "1i $line" "$f"; fi
done < <(git ls-files -- '*.cpp' '*.hpp' '*.h' '*.c' '*.py' '*.sh' '*.cmake' '*CMakeLists.txt' '*.js' '*.mjs' \
           '*.css' 'Makefile' '.ci/run' | grep -v -E '^(reporters/assets|collector/ui)/')
((missing == 0)) && echo "check-spdx: every source file carries the SPDX line"
exit $missing
