#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13, "a report a person can triage" and "bad input gets a clear error, up front", with the
# real binary: missing roots and unwritable outputs are refused before any scanning, write errors
# name the errno, the directory depth limit is settable, ids do not depend on how the root was
# spelt, and `keyward explain` takes the text report's short id, a path or a path!member.
# Keys are generated here (openssl); no key body is committed.
# Usage: triage_test.sh PATH/TO/keyward
set -uo pipefail
kw=$1
tmp=$(mktemp -d /tmp/keyward-triage-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: expected [$2], got [$3]"; fi
}
contains() {  # contains NAME HAYSTACK NEEDLE
  if [[ "$2" == *"$3"* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: output lacks [$3]"; fi
}
lines() { printf '%s' "$1" | grep -c ''; }
ids() {  # ids ROOT: the sorted finding ids of a JSON scan of ROOT
  "$kw" scan -q --format json "$1" | python3 -c 'import json,sys; print(" ".join(sorted(f["id"] for f in json.load(sys.stdin)["findings"])))'
}

cd "$tmp" || exit 2
mkdir -p plant/deep/er/still plant/sub
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out plant/sub/a.pem 2>/dev/null
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out plant/deep/er/still/b.pem 2>/dev/null
python3 -c 'import zipfile,sys; z=zipfile.ZipFile("plant/app.zip","w"); z.write("plant/sub/a.pem","conf/signing.pem"); z.close()'

# A missing root is an error even beside one that exists: exit 2, one line naming it.
err=$("$kw" scan /nonexistent-keyward-root plant 2>&1 >/dev/null); check "a missing root among others exits 2" 2 $?
check "the missing root is one line" 1 "$(lines "$err")"
contains "the line names the root" "$err" "/nonexistent-keyward-root: No such file or directory"
err=$("$kw" ci /nonexistent-keyward-root 2>&1 >/dev/null); check "ci with a missing path exits 2" 2 $?
check "ci's missing path is one line" 1 "$(lines "$err")"

# -o is checked before the scan: a missing directory (ENOENT) and a parent that is a file
# (ENOTDIR; root is refused too, unlike with a read-only directory). Nothing may be read.
for out in "$tmp/no/such/dir/r.txt" "$tmp/plant/sub/a.pem/r.txt"; do
  err=$("$kw" scan -q -o "$out" plant 2>&1 >/dev/null); check "-o $out exits 2" 2 $?
  check "-o $out is one line" 1 "$(lines "$err")"
  contains "-o $out names the output" "$err" "cannot write $out"
  contains "-o $out says nothing was scanned" "$err" "nothing was scanned"
done
contains "a missing directory names ENOENT" "$("$kw" scan -q -o "$tmp/no/r" plant 2>&1)" "No such file or directory"
contains "a file as directory names ENOTDIR" "$("$kw" scan -q -o "$tmp/plant/sub/a.pem/r" plant 2>&1)" "Not a directory"
if command -v strace >/dev/null; then
  strace -f -e trace=openat,open -o "$tmp/trace" "$kw" scan -q -o "$tmp/no/such/r.txt" plant >/dev/null 2>&1
  if grep -q 'plant/sub/a.pem\|plant/sub"' "$tmp/trace"; then
    fail=$((fail + 1)); echo "FAIL: a refused -o still opened the scanned tree"
  else pass=$((pass + 1)); fi
  err=$("$kw" ci -o "$tmp/no/such/r.txt" plant 2>&1 >/dev/null); check "ci refuses a bad -o" 2 $?
else
  echo "note: strace not installed; the no-open check is skipped"
fi
err=$("$kw" scan -q -o /dev/full plant 2>&1 >/dev/null); check "a full disk exits 2" 2 $?
contains "a full disk names the errno" "$err" "cannot write /dev/full: No space left on device"

# The directory depth limit: plant/deep/er/still is 4 levels down.
n=$("$kw" scan -q --format json --max-depth 2 plant | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["findings"]), d["scan"]["stats"]["skipped"].get("too_deep", 0))')
check "--max-depth 2 does not enter deeper directories, and counts them" "2 1" "$n"
n=$("$kw" scan -q --format json plant | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["findings"]), d["scan"]["stats"]["skipped"].get("too_deep", 0))')
check "the default depth enters them" "3 0" "$n"
contains "--help documents --max-depth" "$("$kw" scan --help)" "--max-depth"

# Ids do not depend on how the root is spelt.
want=$(ids plant)
check "three findings have ids" 3 "$(wc -w <<<"$want")"
for spelling in ./plant "$tmp/plant" plant/ "$tmp/./plant/"; do check "ids of '$spelling' equal those of 'plant'" "$want" "$(ids "$spelling")"; done

# The text report's short id is what explain takes; explain also takes a path and path!member.
report=$("$kw" scan -q plant)
short=$(grep -o '^  \[[A-Z]* [0-9]*\] [0-9a-f]*  private key  plant/sub/a.pem' <<<"$report" | awk '{print $3}')
check "the short id is 8 hex digits" 8 "${#short}"
out=$("$kw" explain "$short" plant); check "explain SHORT-ID exits 0" 0 $?
contains "explain SHORT-ID finds the finding" "$out" "plant/sub/a.pem"
full=$(head -1 <<<"$out" | awk '{print $1}')
out=$("$kw" explain "$tmp/plant/sub/a.pem" plant); check "explain PATH exits 0" 0 $?
check "explain PATH under the original root gives the report's id" "$full" "$(head -1 <<<"$out" | awk '{print $1}')"
out=$("$kw" explain "plant/app.zip!conf/signing.pem" plant); check "explain PATH!MEMBER exits 0" 0 $?
contains "explain PATH!MEMBER shows the member" "$out" "app.zip!conf/signing.pem"
out=$("$kw" explain plant/deep 2>/dev/null); check "explain DIR exits 0" 0 $?
contains "explain DIR explains what is under it" "$out" "still/b.pem"
"$kw" explain plant/sub/nothing-here.txt plant >/dev/null 2>&1; check "explain a missing path exits 2" 2 $?

# Text filters hide from the list, never from the counts.
out=$("$kw" scan -q --kind certificate,public_key plant)
contains "--kind hides the keys from the list and says so" "$out" "Hidden by --min-severity/--kind: 3"
contains "--kind still counts them" "$out" "3 private keys"

echo "triage: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
