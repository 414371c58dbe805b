#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside package_test.sh's throw-away root: DEB_DIR. Every check names what failed.
set -euo pipefail
debs=$1
packages=(keyward keyward-agent keyward-collector)
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "== $* (${SECONDS}s)"; }

for p in "${packages[@]}"; do
  ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed || fail "$p is already installed on this machine"
done
# Speed, not behaviour: no man-db index rebuild after each dpkg call (the pages are read with
# man -l), and no fsync of a root that is thrown away.
rm -f /var/lib/man-db/auto-update
export DPKG_FORCE=unsafe-io
step "dpkg -i"
dpkg -i "$debs"/*.deb >/tmp/dpkg-install.log 2>&1 || { cat /tmp/dpkg-install.log; fail "dpkg -i"; }
for p in "${packages[@]}"; do dpkg-query -L "$p" >>/tmp/installed-files; done

step "--version"
for b in keyward keyward-agent keyward-collector; do
  out=$("$b" --version); [[ $out == "$b "[0-9]* ]] || fail "$b --version printed '$out'"
  out=$("$b" -V); [[ $out == "$b "[0-9]* ]] || fail "$b -V printed '$out'"
  echo "$out"
done

step "keyward scan of a planted key"
mkdir -p /srv/planted/deploy
openssl genpkey -algorithm ED25519 -out /srv/planted/deploy/signing.pem 2>/dev/null
set +e
keyward scan /srv/planted --format json >/tmp/scan.json 2>/tmp/scan.err
rc=$?
set -e
((rc == 0 || rc == 1)) || { cat /tmp/scan.err; fail "keyward scan exited $rc"; }
python3 - /tmp/scan.json <<'PY' || fail "the planted key is not in the report"
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [f for f in doc["findings"] if f["location"]["path"].endswith("deploy/signing.pem")]
assert hits and hits[0]["kind"] == "private_key", doc["findings"]
print("found:", hits[0]["kind"], hits[0]["location"]["path"], "risk", hits[0]["risk"].get("severity"), hits[0]["risk"].get("score"))
PY
grep -q "BEGIN PRIVATE KEY" /tmp/scan.json && fail "the report holds key text"

step "man pages"
pages=$(grep -E '^/usr/share/man/man[158]/' /tmp/installed-files || true)
for want in man1/keyward.1 man5/keyward-rules.5 man8/keyward-agent.8 man8/keyward-collector.8; do
  grep -q "/$want" <<<"$pages" || fail "no $want in the packages"
done
for page in $pages; do
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  [[ -z $warnings ]] || fail "man -l $page: $warnings"
  MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q . || fail "man -l $page rendered nothing"
  echo "man -l $page: ok"
done

step "bash completion"
# As an interactive shell does: bash-completion finds the script by the command's name on first use
# (_completion_loader returns 124, "try again", once it has loaded one).
completion=$(bash -c 'source /usr/share/bash-completion/bash_completion; _completion_loader keyward;
                     complete -p keyward') || fail "bash-completion does not load keyward's completion"
echo "$completion"
grep -q /usr/share/zsh/vendor-completions/_keyward /tmp/installed-files || fail "no zsh completion"

step "system users, state directories, nothing started"
for u in keyward-agent keyward-collector; do
  getent passwd "$u" >/dev/null || fail "no system user $u"
  [[ $(getent passwd "$u" | cut -d: -f7) == */nologin ]] || fail "$u has a login shell"
  [[ $(stat -c '%a %U' "/var/lib/$u") == "700 $u" ]] || fail "/var/lib/$u is $(stat -c '%a %U' "/var/lib/$u")"
done
! ls /etc/systemd/system/*.wants/keyward-* 2>/dev/null || fail "the packages enabled a unit"
for c in /etc/keyward/config.yaml /etc/keyward/agent.env /etc/keyward/collector.env; do
  grep -qx "$c" /var/lib/dpkg/info/*.conffiles || fail "$c is not a conffile"
done

step "the documented set-up of the collector, as its user"
runuser -u keyward-collector -- keyward-collector init --dir /var/lib/keyward-collector \
  --listen 127.0.0.1:8443 --san 127.0.0.1 >/tmp/init.out 2>&1 || { cat /tmp/init.out; fail "collector init"; }
[[ $(stat -c %U /var/lib/keyward-collector/collector.yaml) == keyward-collector ]] || fail "init's files"

if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify"
  units=$(grep -E '^/usr/lib/systemd/system/' /tmp/installed-files)
  # Only the units' own problems count: lines that name another unit of the machine are its own.
  out=$(systemd-analyze verify $units 2>&1 || true)
  bad=$(grep -E 'keyward' <<<"$out" || true)
  [[ -z $bad ]] || fail "systemd-analyze verify: $bad"
  echo "verified: $units"
  # Hardening, as systemd scores it (0 best, 10 worst): both services stay at 3 or below.
  for unit in keyward-agent.service keyward-collector.service; do
    systemd-analyze security --offline=true --threshold=30 "$unit" >/tmp/security.out 2>&1 ||
      { tail -25 /tmp/security.out; fail "$unit is exposed above 3.0"; }
    grep -o "Overall exposure level.*" /tmp/security.out
  done
else
  echo "systemd-analyze is not installed here: units not verified"
fi

step "dpkg -r leaves only the conffiles"
dpkg -r "${packages[@]}" >/tmp/dpkg-remove.log 2>&1 || { cat /tmp/dpkg-remove.log; fail "dpkg -r"; }
while read -r f; do
  [[ -e $f && ! -d $f ]] || continue
  [[ $f == /etc/keyward/* ]] || fail "$f is left after dpkg -r"
done </tmp/installed-files
[[ -e /etc/keyward/agent.env ]] || fail "dpkg -r removed a conffile"

step "dpkg -P removes the conffiles and the agent's state"
dpkg -P "${packages[@]}" >/tmp/dpkg-purge.log 2>&1 || { cat /tmp/dpkg-purge.log; fail "dpkg -P"; }
[[ ! -e /etc/keyward ]] || fail "/etc/keyward is left after purge: $(ls -A /etc/keyward)"
[[ ! -e /var/lib/keyward-agent ]] || fail "/var/lib/keyward-agent is left after purge"
grep -q "kept /var/lib/keyward-collector" /tmp/dpkg-purge.log || fail "purge did not say it kept the collector's data"
echo "package test: ok"
