#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# keyward's command line as users and CI systems meet it: exit codes, --help, --version,
# --output, colour only on a TTY and never with NO_COLOR, unreadable directories counted
# (run as an unprivileged user), FIFOs that never block, and --strict.
# Usage: cli_test.sh PATH/TO/keyward   (KEYWARD_CORPUS: the generated key corpus)
set -uo pipefail
kw=$1
corpus=${KEYWARD_CORPUS:?KEYWARD_CORPUS must point at the generated corpus}
tmp=$(mktemp -d /tmp/keyward-cli-XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: expected [$2], got [$3]"; fi
}
contains() {  # contains NAME HAYSTACK NEEDLE
  if [[ "$2" == *"$3"* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: output lacks [$3]"; fi
}
lacks() {
  if [[ "$2" != *"$3"* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: output has [$3]"; fi
}

out=$("$kw" --version); check "--version exits 0" 0 $?
contains "--version names the tool" "$out" "keyward "

"$kw" >/dev/null 2>&1; check "no command is a usage error" 2 $?
"$kw" scan --no-such-flag . >/dev/null 2>&1; check "unknown flag is a usage error" 2 $?
"$kw" scan >/dev/null 2>&1; check "scan without a path is a usage error" 2 $?
"$kw" scan --format xml . >/dev/null 2>&1; check "unknown format is a usage error" 2 $?

help=$("$kw" scan --help); check "scan --help exits 0" 0 $?
contains "--help teaches exit codes" "$help" "Exit status"
contains "--help gives examples" "$help" "Examples"

mkdir -p "$tmp/clean/src"
echo 'int main() { return 0; }' > "$tmp/clean/src/main.c"
out=$("$kw" scan "$tmp/clean"); check "a tree without keys exits 0" 0 $?
contains "summary line" "$out" "Summary: 0 private keys"

err=$("$kw" scan "$tmp/does-not-exist" 2>&1 >/dev/null); check "a missing root exits 2" 2 $?
contains "a missing root is named" "$err" "does-not-exist"

"$kw" scan -q "$corpus/tree" >/dev/null 2>&1; check "a tree with private keys exits 1" 1 $?

stdout=$("$kw" scan -q --format json --output "$tmp/report.json" "$corpus/tree"); check "--output still exits 1" 1 $?
check "--output leaves stdout empty" "" "$stdout"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="keyward.findings/v1" and d["findings"]' "$tmp/report.json"
check "--output writes the JSON document" 0 $?

"$kw" scan -q --output "$tmp/no/such/dir/r.txt" "$tmp/clean" 2>"$tmp/err"; check "an unwritable --output exits 2" 2 $?
contains "an unwritable --output says what to do" "$(cat "$tmp/err")" "cannot write"

piped=$("$kw" scan "$corpus/tree/pem" | cat)
lacks "no colour when stdout is not a TTY" "$piped" $'\x1b['
tty=$(script -qec "$kw scan -q $corpus/tree/pem" /dev/null)
contains "colour on a TTY" "$tty" $'\x1b['
nocolor=$(NO_COLOR=1 script -qec "$kw scan -q $corpus/tree/pem" /dev/null)
lacks "NO_COLOR turns colour off on a TTY" "$nocolor" $'\x1b[1;31m'

# A FIFO must never be opened (it would block forever), and a socket-ish tree finishes.
mkdir -p "$tmp/special"
mkfifo "$tmp/special/pipe"
timeout 60 "$kw" scan --format json "$tmp/special" > "$tmp/special.json"; check "a FIFO does not block the scan" 0 $?
skipped=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scan"]["stats"]["skipped"].get("special_file",0))' "$tmp/special.json")
check "the FIFO is counted as skipped" 1 "$skipped"

# Unreadable directories and files, as a user who cannot read them (tests run as root, and
# root reads everything). The scan goes on, counts them, and exits by what it found.
mkdir -p "$tmp/perm/open" "$tmp/perm/closed"
cp "$kw" "$tmp/keyward" && chmod 755 "$tmp/keyward"
echo hello > "$tmp/perm/open/readme.txt"
echo secret > "$tmp/perm/closed/inner.txt"
echo x > "$tmp/perm/open/locked.txt"
chmod 755 "$tmp/perm" "$tmp/perm/open"; chmod 700 "$tmp/perm/closed"; chmod 600 "$tmp/perm/open/locked.txt"
chmod 644 "$tmp/perm/open/readme.txt"
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${as_nobody[@]}" "$tmp/keyward" scan --format json "$tmp/perm" > "$tmp/perm.json" 2>"$tmp/perm.err"
check "unreadable entries do not change the exit code" 0 $?
perm=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["scan"]["stats"]; print(s["skipped"].get("permission_denied",0), s["errors"], s["files_scanned"])' "$tmp/perm.json")
check "unreadable dir and file are counted" "2 2 1" "$perm"
"${as_nobody[@]}" "$tmp/keyward" scan -q --strict "$tmp/perm" >/dev/null 2>&1
check "--strict makes unreadable entries exit 2" 2 $?

# A cache that cannot be written warns, and the report and exit status are still there.
out=$("$kw" scan -q --cache "$tmp/no/such/dir/cache" "$tmp/clean" 2>"$tmp/err"); check "an unwritable cache keeps the exit status" 0 $?
contains "the report is still written" "$out" "Summary:"
contains "the unwritable cache is reported" "$(cat "$tmp/err")" "cannot write the scan cache"
# --cache given a file that is not a cache (a slip of the keyboard) leaves it as it was.
printf 'my notes\n' > "$tmp/notes.txt"
"$kw" scan -q --cache "$tmp/notes.txt" "$tmp/clean" >/dev/null 2>"$tmp/err"; check "a foreign --cache file keeps the exit status" 0 $?
check "a foreign --cache file is not overwritten" "my notes" "$(cat "$tmp/notes.txt")"
contains "a foreign --cache file is named" "$(cat "$tmp/err")" "is not a keyward cache file"

# A broken rule file is named with its line and what is wrong, and exits 2.
mkdir -p "$tmp/badrules"
printf 'detections:\n  - id: private-key/pkcs8\n    severity: apocalyptic\n' > "$tmp/badrules/broken.yaml"
err=$("$kw" rules list --rules "$tmp/badrules" 2>&1 >/dev/null); check "a broken rule file exits 2" 2 $?
contains "it names the file and line" "$err" "broken.yaml:3"

echo "cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
