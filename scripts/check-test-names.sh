#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every doctest case must reach ctest whole (CONTRIBUTING.md, "Tests"): doctest_discover_tests
# turns each TEST_CASE name into a ctest name, and CMake cuts a name at ';' (a list separator),
# so a case named "a; b" became the ctest "a", which matched no case, ran nothing and passed.
# Fails listing any TEST_CASE name (string literals joined) that holds a ';'.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
/usr/bin/python3 - "$root" <<'PY'
import pathlib, re, sys
root = pathlib.Path(sys.argv[1])
case = re.compile(r'TEST_CASE\s*\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
bad = []
for path in sorted((root / "tests").rglob("*.cpp")):
    text = path.read_text(errors="replace")
    for m in case.finditer(text):
        name = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        if ";" in name:
            bad.append(f"{path.relative_to(root)}:{text.count(chr(10), 0, m.start()) + 1}: {name}")
for b in bad:
    print("test name with ';' (ctest would run nothing for it):", b)
sys.exit(1 if bad else 0)
PY
