#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --color, configuration files and .keywardignore for keyward scan end to end (docs/scan.md,
# "Colour", "Configuration files", "`.keywardignore`"; docs/ci.md): colour into a pipe and on a
# pseudo-terminal under NO_COLOR and TERM=dumb; .keyward.yaml and the user's file with flags
# winning over the project file over the user file, excludes adding up, errors naming file:line,
# --no-config; a key under an ignored path suppressed, one outside reported.
# Usage: config_test.sh PATH/TO/keyward
set -uo pipefail
kw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
py=${KEYWARD_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d /tmp/keyward-config-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [[ "$2" == "$3" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: expected [$2], got [$3]"; fi; }
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git_() { git -c user.name=t -c user.email=t@t -c init.defaultBranch=main -c commit.gpgsign=false "$@" >/dev/null 2>&1; }
key() { mkdir -p "$(dirname "$1")" && openssl genpkey -algorithm ED25519 -out "$1" 2>/dev/null; }
# The user's configuration lives here, never in the real home.
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/xdg KEYWARD_SYSTEM_CONFIG=$tmp/etc/config.yaml
unset NO_COLOR
mkdir -p "$HOME" "$XDG_CONFIG_HOME/keyward"
user_cfg=$XDG_CONFIG_HOME/keyward/config.yaml

# "ESC" when the text holds an SGR colour sequence, else "plain".
sgr() { "$py" -c 'import re, sys; print("ESC" if re.search(rb"\x1b\[[0-9;]*m", sys.stdin.buffer.read()) else "plain")'; }
# Runs a command on a pseudo-terminal (stdout and stderr) and prints what sgr says of its output.
on_tty() {
  "$py" - "$@" <<'EOF'
import os, pty, re, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
os.waitpid(pid, 0)
print("ESC" if re.search(rb"\x1b\[[0-9;]*m", out) else "plain")
EOF
}

# --- --color -------------------------------------------------------------------------------
tree=$tmp/colour
key "$tree/server.key"
check "--color always into a pipe" "ESC" "$("$kw" scan -q --color always "$tree" | sgr)"
check "--color always wins over NO_COLOR and TERM=dumb" "ESC" \
  "$(NO_COLOR=1 TERM=dumb "$kw" scan -q --color always "$tree" | sgr)"
check "--color always into -o FILE" "ESC" "$("$kw" scan -q --color always -o "$tmp/out.txt" "$tree"; sgr <"$tmp/out.txt")"
check "--color never into a pipe" "plain" "$("$kw" scan -q --color never "$tree" | sgr)"
check "auto into a pipe" "plain" "$("$kw" scan -q "$tree" | sgr)"
check "auto on a terminal" "ESC" "$(on_tty env TERM=xterm "$kw" scan -q "$tree")"
check "--color never on a terminal" "plain" "$(on_tty env TERM=xterm "$kw" scan -q --color never "$tree")"
check "NO_COLOR=1 on a terminal" "plain" "$(on_tty env NO_COLOR=1 TERM=xterm "$kw" scan -q "$tree")"
check "NO_COLOR empty on a terminal" "ESC" "$(on_tty env NO_COLOR= TERM=xterm "$kw" scan -q "$tree")"
check "TERM=dumb on a terminal" "plain" "$(on_tty env TERM=dumb "$kw" scan -q "$tree")"
"$kw" scan -q --color sometimes "$tree" >/dev/null 2>&1
check "--color sometimes is a usage error" "2" "$?"
"$kw" scan --format json -o "$tmp/findings.json" "$tree" >/dev/null 2>&1
check "ci --color always" "ESC" "$(cd "$tree" && git_ init . && git_ add . && "$kw" ci --color always | sgr)"
check "plan --color always" "ESC" "$("$kw" plan --color always "$tmp/findings.json" | sgr)"
check "plan --color never" "plain" "$("$kw" plan --color never "$tmp/findings.json" | sgr)"

# --- configuration files: exclude adds up --------------------------------------------------
# Names of the private keys a JSON report lists as not suppressed, sorted.
keys_found() {
  "$py" -c '
import json, os, sys
doc = json.load(sys.stdin)
print(" ".join(sorted(os.path.basename(f["location"]["path"]) for f in doc["findings"]
                      if f["kind"] == "private_key" and not f.get("suppressed"))))'
}
proj=$tmp/proj
for k in by-user/a.pem by-project/b.pem by-flag/c.pem kept/d.pem; do key "$proj/$k"; done
printf 'exclude:\n  - by-user\n' >"$user_cfg"
printf '# the project'"'"'s settings\nexclude: [by-project]\n' >"$proj/.keyward.yaml"
check "excludes of user file, project file and flag add up" "d.pem" \
  "$("$kw" scan -q --format json --exclude by-flag "$proj" | keys_found)"
check "--no-config reads neither file" "a.pem b.pem d.pem" "$("$kw" scan -q --format json --no-config --exclude by-flag "$proj" | keys_found)"
check "the project file is not read for two roots" "b.pem c.pem d.pem" \
  "$("$kw" scan -q --format json "$proj" "$tree" | keys_found | sed 's/ server.key//')"

# --- errors name file:line ------------------------------------------------------------------
printf 'exclude: [x]\nexlude: [y]\n' >"$proj/.keyward.yaml"
err=$("$kw" scan -q "$proj" 2>&1 >/dev/null)
check "unknown key: exit 2" "2" "$("$kw" scan -q "$proj" >/dev/null 2>&1; echo $?)"
check "unknown key names file:line" "keyward: $proj/.keyward.yaml:2: unknown key 'exlude' (known keys: exclude, rules, fail_on, baseline)" "$err"
err=$("$kw" explain "$proj/kept/d.pem" "$proj" 2>&1 >/dev/null)
rc=$?
check "keyward explain reads it too" "keyward: $proj/.keyward.yaml:2: unknown key 'exlude' (known keys: exclude, rules, fail_on, baseline)|2" "$err|$rc"
check "keyward explain --no-config" "0" "$("$kw" explain --no-config "$proj/kept/d.pem" "$proj" >/dev/null 2>&1; echo $?)"
check "--no-config skips a broken file" "0" "$("$kw" scan -q --no-config --exclude '*' "$proj" >/dev/null 2>&1; echo $?)"
printf 'fail_on: [high]\n' >"$proj/.keyward.yaml"
check "a list where a severity goes" "keyward: $proj/.keyward.yaml:1: fail_on must be a non-empty string" \
  "$("$kw" scan -q "$proj" 2>&1 >/dev/null)"
rm "$proj/.keyward.yaml"
printf '\n\nrules: [no-such-dir]\n' >"$user_cfg"
check "a rules directory that does not exist, in the user file" \
  "keyward: $user_cfg:3: rules: $XDG_CONFIG_HOME/keyward/no-such-dir is not a directory" \
  "$("$kw" scan -q "$proj" 2>&1 >/dev/null)"
printf 'exclude: [by-user\n' >"$user_cfg"
check "not YAML" "1" "$("$kw" scan -q "$proj" 2>&1 >/dev/null | grep -c "^keyward: $user_cfg:.*not valid YAML")"
rm "$user_cfg"
check "HOME's file when XDG_CONFIG_HOME is unset" "b.pem c.pem d.pem" "$(mkdir -p "$HOME/.config/keyward" &&
  printf 'exclude: [by-user]\n' >"$HOME/.config/keyward/config.yaml" &&
  XDG_CONFIG_HOME= "$kw" scan -q --format json "$proj" | keys_found)"
rm -r "$HOME/.config"

# --- precedence: flag > project > user > machine (keyward ci's fail_on) ---------------------
repo=$tmp/repo
key "$repo/deploy/id.pem"
git_ init "$repo"
(cd "$repo" && git_ add . && git_ commit -m key)
mkdir -p "$repo/sub"
verdict() { (cd "$repo/sub" && "$kw" ci "$@" 2>&1 | grep -E '^keyward ci: (passed|FAILED)' | sed -E 's/.*fails?: //; s/\)$//'); }
check "no files: every key fails" "any private key or key store" "$(verdict)"
mkdir -p "$tmp/etc" && printf 'fail_on: medium\n' >"$KEYWARD_SYSTEM_CONFIG"
check "the machine's file" "at or above medium" "$(verdict)"
printf 'fail_on: info\n' >"$user_cfg"
check "the user file over the machine's" "at or above info" "$(verdict)"
printf 'fail_on: critical\n' >"$repo/.keyward.yaml"
check "the project file (at the root, run from a subdirectory) over the user file" "at or above critical" "$(verdict)"
check "the flag over both" "at or above low" "$(verdict --fail-on low)"
check "--no-config" "any private key or key store" "$(verdict --no-config)"
printf 'fail_on: hihg\n' >"$repo/.keyward.yaml"
err=$(cd "$repo" && "$kw" ci 2>&1 >/dev/null)
rc=$?
check "a bad severity fails the command, never passes the gate" \
  "keyward: $repo/.keyward.yaml:1: fail_on: 'hihg' is not a severity (critical, high, medium, low, info)|2" "$err|$rc"
rm "$user_cfg" "$KEYWARD_SYSTEM_CONFIG"

# --- baseline: relative to the file's directory, flag wins ------------------------------------
printf 'baseline: security/keys-baseline.json\n' >"$repo/.keyward.yaml"
mkdir -p "$repo/security"
(cd "$repo/sub" && "$kw" baseline create >/dev/null 2>&1)
check "keyward baseline create writes the configured baseline" "yes" "$([[ -f $repo/security/keys-baseline.json ]] && echo yes)"
out=$(cd "$repo" && "$kw" ci 2>/dev/null)
rc=$?
check "keyward ci applies it" "keyward ci: baseline security/keys-baseline.json applied (1 finding(s) baselined)|0" \
  "$(grep -E 'baseline .* applied' <<<"$out")|$rc"
printf '{"schema": "keyward.baseline/v1", "entries": []}\n' >"$tmp/empty-baseline.json"
check "--baseline wins over the file's" "1" "$(cd "$repo" && "$kw" ci --baseline "$tmp/empty-baseline.json" >/dev/null 2>&1; echo $?)"

# --- .keywardignore in keyward scan ---------------------------------------------------------
ign=$tmp/ignore
key "$ign/fixtures/test.pem"
key "$ign/app/real.pem"
printf '# throw-away keys of the tests\nfixtures/\n' >"$ign/.keywardignore"
check "an ignored key is suppressed, the other reported" "real.pem" "$("$kw" scan -q --format json "$ign" | keys_found)"
check "suppressed as ignore-file with file:line" "ignore-file $ign/.keywardignore:2" "$("$kw" scan -q --format json "$ign" |
  "$py" -c 'import json, sys; print(" ".join(f["suppressed"]["kind"] + " " + f["suppressed"]["justification"] for f in json.load(sys.stdin)["findings"] if f.get("suppressed")))')"
check "the text report says how many were ignored" "keyward scan: $ign/.keywardignore ignored 1 finding(s) (listed as suppressed)" \
  "$("$kw" scan -q "$ign" | grep '^keyward scan: ')"
rm -r "$ign/app"
check "only ignored keys: exit 0" "0" "$("$kw" scan -q "$ign" >/dev/null 2>&1; echo $?)"
out=$(cd "$ign" && git_ init . && git_ add . && "$kw" ci 2>/dev/null)
rc=$?
check "ci says how many its .keywardignore ignored" "keyward ci: .keywardignore ignored 1 finding(s) (listed as suppressed)|0" \
  "$(grep '^keyward ci: .* ignored' <<<"$out")|$rc"

echo "config: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
