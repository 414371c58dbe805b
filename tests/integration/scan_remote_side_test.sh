#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# keyward scan as exec mode runs it on a remote host (docs/remote.md, "Modes"): --remove-dir
# removes the private directory keyward was copied into before the scan, and refuses any other;
# --stop-on-stdin-eof stops the scan when the SSH channel (standard input) closes. Also what the
# command line does with ssh:// roots before any connection: bad URLs, bad durations, passphrase
# sources, and roots that are not local paths. No key is committed: one is generated here.
# Usage: scan_remote_side_test.sh PATH/TO/keyward
set -uo pipefail
kw=$1
tmp=$(mktemp -d /tmp/keyward-remote-side-XXXXXX)
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
complete_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["scan"]["complete"])'; }

# A tree whose only private key lies inside the directory --remove-dir names: removed before the
# scan, so the scan finds no key (exit 0, not 1).
mkdir -p "$tmp/tree/keyward-remote.a1b2" "$tmp/tree/etc"
chmod 0700 "$tmp/tree/keyward-remote.a1b2"
openssl genpkey -algorithm ed25519 -out "$tmp/tree/keyward-remote.a1b2/copied.key" 2>/dev/null
echo 'not a key' > "$tmp/tree/etc/motd"
"$kw" scan -q --format json "$tmp/tree" >/dev/null; check "the copied key is found without --remove-dir" 1 $?
"$kw" scan -q --format json --remove-dir "$tmp/tree/keyward-remote.a1b2" "$tmp/tree" >/dev/null
check "--remove-dir removes before the scan (nothing left to find)" 0 $?
[[ -e "$tmp/tree/keyward-remote.a1b2" ]]; check "--remove-dir removed the directory" 1 $?

# Refused: another name, another mode, a symlink, a file. Each exits 2 and removes nothing.
refused() {  # refused NAME DIR WHY
  err=$("$kw" scan -q --remove-dir "$2" "$tmp/tree/etc" 2>&1 >/dev/null); check "$1 exits 2" 2 $?
  contains "$1 says why" "$err" "$3"
  [[ -e "$2" || -L "$2" ]]; check "$1 is left in place" 0 $?
}
mkdir -m 0700 "$tmp/keyward-other.x"; refused "a directory of another name" "$tmp/keyward-other.x" "keyward-remote."
mkdir -m 0755 "$tmp/keyward-remote.open"; refused "a directory not 0700" "$tmp/keyward-remote.open" "0755"
mkdir -m 0700 "$tmp/real"; touch "$tmp/real/keep"
ln -s "$tmp/real" "$tmp/keyward-remote.link"; refused "a symbolic link" "$tmp/keyward-remote.link" "symbolic link"
[[ -e "$tmp/real/keep" ]]; check "a symlink's target is untouched" 0 $?
touch "$tmp/keyward-remote.file"; refused "a file" "$tmp/keyward-remote.file" "not a directory"
if [[ $(id -u) -eq 0 ]]; then
  mkdir -m 0700 "$tmp/keyward-remote.theirs"; chown 65534 "$tmp/keyward-remote.theirs"
  refused "a directory of another user" "$tmp/keyward-remote.theirs" "another user"
fi

# --stop-on-stdin-eof: standard input at EOF (the channel closed) stops the scan: exit 2, the
# report marked incomplete. Held open, the same scan completes.
out=$("$kw" scan -q --format json --stop-on-stdin-eof "$tmp/tree" </dev/null 2>"$tmp/err"); check "EOF on stdin exits 2" 2 $?
check "EOF on stdin leaves the report incomplete" False "$(complete_of <<<"$out")"
contains "EOF on stdin is reported" "$(cat "$tmp/err")" "incomplete"
mkfifo "$tmp/channel"
exec 3<>"$tmp/channel"  # a writer keeps the channel open
out=$("$kw" scan -q --format json --stop-on-stdin-eof "$tmp/tree" <"$tmp/channel"); check "open stdin: the scan completes" 0 $?
check "open stdin: the report is complete" True "$(complete_of <<<"$out")"
exec 3>&-
out=$("$kw" scan -q --format json "$tmp/tree" </dev/null); check "without the flag EOF changes nothing" 0 $?
help=$("$kw" scan --help)
lacks "the exec-side flags are hidden" "$help" "--stop-on-stdin-eof"
lacks "the exec-side flags are hidden (2)" "$help" "--remove-dir"
contains "scan --help teaches ssh:// roots" "$help" "ssh://"

# ssh:// roots before any connection.
err=$("$kw" scan -q ssh://host:0/etc 2>&1 >/dev/null); check "a bad ssh:// URL exits 2" 2 $?
contains "a bad ssh:// URL says what is wrong" "$err" "bad port"
"$kw" scan -q --connect-timeout 10x ssh://host/etc >/dev/null 2>&1; check "a bad duration is a usage error" 2 $?
err=$(env -u KW_NO_SUCH_VAR "$kw" scan -q --passphrase-source env:KW_NO_SUCH_VAR ssh://127.0.0.1:1/etc 2>&1 >/dev/null)
check "an unset passphrase source exits 2" 2 $?
contains "an unset passphrase source names the flag" "$err" "--passphrase-source"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
err=$("$kw" scan -q --format json --connect-timeout 5s "$tmp/tree/etc" "ssh://nobody@127.0.0.1:$port/etc" 2>&1 >"$tmp/out.json")
check "a host not scanned exits 2" 2 $?
lacks "an ssh:// root is not taken for a local path" "$err" "No such file"
contains "the host's problem is one line naming it" "$err" "keyward: ssh://nobody@127.0.0.1:$port: "
check "the local root's report is still written" False "$(complete_of <"$tmp/out.json")"

# keyward remote: what stops it before any host is scanned.
rhelp=$("$kw" remote --help); check "remote --help exits 0" 0 $?
contains "remote --help gives examples" "$rhelp" "Examples"
contains "remote --help teaches exit codes" "$rhelp" "3 some host not scanned"
printf 'hosts:\n  - {host: a, prot: 22}\n' >"$tmp/bad.yaml"
err=$("$kw" remote --inventory "$tmp/bad.yaml" 2>&1 >/dev/null); check "a bad inventory exits 2" 2 $?
contains "a bad inventory names file, line and key" "$err" "bad.yaml:2: hosts[0].prot"
printf 'hosts: [a, {host: b, name: a}]\n' >"$tmp/dup.yaml"
"$kw" remote --inventory "$tmp/dup.yaml" >/dev/null 2>&1; check "duplicate host names exit 2" 2 $?
printf 'hosts: ["ssh://127.0.0.1:1", {host: 127.0.0.1, port: 1, name: "127.0.0.1_1"}]\n' >"$tmp/clash.yaml"
err=$("$kw" remote --inventory "$tmp/clash.yaml" --format json --output-dir "$tmp/outdir" 2>&1 >/dev/null)
check "two hosts writing one file exit 2" 2 $?
contains "two hosts writing one file are named" "$err" "would both be written"
"$kw" remote --inventory "$tmp/dup.yaml" -o "$tmp/x.json" --output-dir "$tmp/outdir" >/dev/null 2>&1
check "-o and --output-dir together are a usage error" 2 $?

echo "scan_remote_side: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
