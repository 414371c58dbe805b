#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# keyward ci end to end, on temporary git repositories with keys generated now:
# a committed code-signing key fails the gate (SARIF valid, naming file and rule); a baseline
# makes it pass; a new key fails again; an expired allow fails; an inline allow is refused under
# --no-inline-allow; --history finds a key committed then deleted; --staged sees only the index;
# --since on a shallow clone says which fetch to run; an unreadable baseline is an error; the
# risk ordering holds and explains itself; the default gate fails on an encrypted key and not on
# a certificate, --fail-on moves it both ways; --history in a shallow clone names its fetch;
# history findings carry their commit; baseline create --history; the root's baseline is picked
# up and named. Usage: ci_test.sh PATH/TO/keyward
set -uo pipefail
kw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=${KEYWARD_SOURCE:?KEYWARD_SOURCE must point at the source tree}
py=${KEYWARD_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d /tmp/keyward-ci-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [[ "$2" == "$3" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: expected [$2], got [$3]"; fi; }
contains() { if [[ "$2" == *"$3"* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: output lacks [$3]"; fi; }
q() { "$@" >/dev/null 2>&1; }
export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.org GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.org
git_() { git -c init.defaultBranch=main -c commit.gpgsign=false "$@"; }

# A CA and a code-signing certificate it issued; its key will be committed.
mkdir -p "$tmp/pki"
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/pki/ca.key" -out "$tmp/pki/ca.crt" \
  -days 3650 -subj "/CN=Test Code Signing CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/pki/sign.key"
q openssl req -new -key "$tmp/pki/sign.key" -subj "/CN=Release Signing" -out "$tmp/pki/sign.csr"
q openssl x509 -req -in "$tmp/pki/sign.csr" -CA "$tmp/pki/ca.crt" -CAkey "$tmp/pki/ca.key" -CAcreateserial -days 365 \
  -out "$tmp/pki/sign.crt" -extfile <(printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n')
q openssl genpkey -algorithm ED25519 -out "$tmp/pki/second.key"
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass pass:a-long-passphrase -out "$tmp/pki/protected.key"

repo=$tmp/repo
q git_ init "$repo"
mkdir -p "$repo/src" "$repo/release"
echo 'int main() { return 0; }' > "$repo/src/main.c"
cp "$tmp/pki/sign.key" "$repo/release/signing.pem"
cp "$tmp/pki/sign.crt" "$repo/release/signing.crt"
chmod 644 "$repo/release/signing.pem"
(cd "$repo" && q git_ add -A && q git_ commit -m "add release signing")

# 1. The committed code-signing key fails the gate; SARIF is valid and names file and rule.
(cd "$repo" && "$kw" ci --format sarif -o "$tmp/out.sarif" 2>/dev/null); check "committed key fails the gate" 1 $?
"$py" - "$tmp/out.sarif" "$src/docs/schemas/sarif-schema-2.1.0.json" <<'PY'
import json, sys, jsonschema
log = json.load(open(sys.argv[1])); schema = json.load(open(sys.argv[2]))
jsonschema.Draft7Validator(schema).validate(log)
res = [r for r in log["runs"][0]["results"] if r["ruleId"].startswith("private-key/")]
assert res, "no private-key result"
uri = res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
assert uri == "release/signing.pem", uri
assert res[0]["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
assert res[0]["partialFingerprints"]
PY
check "SARIF is valid against the 2.1.0 schema and names the file and rule" 0 $?

# 2. After baseline create, the gate passes.
(cd "$repo" && q "$kw" baseline create -o .keyward-baseline.json); check "baseline create" 0 $?
(cd "$repo" && q "$kw" ci --baseline .keyward-baseline.json); check "known key passes with the baseline" 0 $?
grep -q '"line"\|_at"' "$repo/.keyward-baseline.json"; check "baseline has no line numbers or timestamps" 1 $?

# 3. A second, new key fails again.
cp "$tmp/pki/second.key" "$repo/src/deploy.pem"
(cd "$repo" && q git_ add -A && q git_ commit -m "oops")
out=$(cd "$repo" && "$kw" ci --baseline .keyward-baseline.json 2>&1); check "a new key fails despite the baseline" 1 $?
contains "the new key is named" "$out" "src/deploy.pem"

# 4. An allow that has expired fails again; an unexpired one passes.
fp=$(openssl pkey -in "$tmp/pki/second.key" -pubout -outform DER 2>/dev/null | sha256sum | cut -c1-64)
cat > "$tmp/allow-expired.yaml" <<YAML
allow:
  - fingerprint: $fp
    path: src/deploy.pem
    reason: test fixture
    approved_by: security@example.org
    expires: 2020-01-01
YAML
sed 's/2020-01-01/2099-12-31/' "$tmp/allow-expired.yaml" > "$tmp/allow-valid.yaml"
err=$(cd "$repo" && "$kw" ci --baseline .keyward-baseline.json --allowlist "$tmp/allow-expired.yaml" 2>&1 >/dev/null)
check "an expired allow does not allow" 1 $?
contains "the expired allow is reported" "$err" "expired"
(cd "$repo" && q "$kw" ci --baseline .keyward-baseline.json --allowlist "$tmp/allow-valid.yaml")
check "a valid allow allows" 0 $?

# 5. An inline keyward:allow comment, refused under --no-inline-allow.
{ echo "# keyward:allow test fixture"; cat "$tmp/pki/second.key"; } > "$repo/src/deploy.pem"
(cd "$repo" && q "$kw" ci --baseline .keyward-baseline.json); check "inline allow honoured by default" 0 $?
(cd "$repo" && q "$kw" ci --baseline .keyward-baseline.json --no-inline-allow); check "--no-inline-allow refuses it" 1 $?
(cd "$repo" && q git_ rm -q --cached src/deploy.pem && rm -f src/deploy.pem && q git_ commit -m "remove key")

# 6. --history finds the key that was committed and then deleted, with its commit.
added=$(cd "$repo" && git log --format=%H --diff-filter=A -- src/deploy.pem | tail -1)
(cd "$repo" && "$kw" ci --history --format json -o "$tmp/history.json" 2>/dev/null); check "history gate fails" 1 $?
"$py" - "$tmp/history.json" "$added" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
hits = [f for f in d["findings"] if f["location"]["path"] == "src/deploy.pem" and f["kind"] == "private_key"]
assert hits and hits[0]["git"]["commit"] == sys.argv[2], hits
PY
check "--history finds a deleted key with the commit that added it" 0 $?

# 7. --staged sees only the index: a staged key fails, an unstaged one is not seen.
cp "$tmp/pki/second.key" "$repo/src/staged.pem"
(cd "$repo" && q git_ add src/staged.pem)
out=$(cd "$repo" && "$kw" ci --staged --baseline .keyward-baseline.json 2>&1); check "a staged key fails" 1 $?
contains "the staged key is named" "$out" "src/staged.pem"
(cd "$repo" && q git_ reset -q src/staged.pem)
(cd "$repo" && q "$kw" ci --staged --baseline .keyward-baseline.json); check "an unstaged key is not in --staged" 0 $?
rm -f "$repo/src/staged.pem"

# 8. --since on a shallow clone missing the ref: exit 2 with the fetch to run.
first=$(cd "$repo" && git rev-list --max-parents=0 HEAD)
q git_ clone --depth 1 "file://$repo" "$tmp/shallow"
err=$(cd "$tmp/shallow" && "$kw" ci --since "$first" 2>&1); check "--since beyond a shallow clone is an error" 2 $?
contains "it says which fetch to run" "$err" "git fetch"

# 9. An unreadable or missing baseline is an error, not a pass.
(cd "$repo" && q "$kw" ci --baseline /nonexistent/baseline.json); check "missing baseline exits 2" 2 $?
echo '{not json' > "$tmp/bad-baseline.json"
(cd "$repo" && q "$kw" ci --baseline "$tmp/bad-baseline.json"); check "malformed baseline exits 2" 2 $?
mkdir -p "$tmp/notrepo"
(cd "$tmp/notrepo" && q "$kw" ci); check "outside a repository exits 2" 2 $?

# 10. Risk: a world-readable unencrypted code-signing key scores above a protected key in a test dir.
mkdir -p "$tmp/risk/tests/fixtures"
cp "$tmp/pki/sign.key" "$tmp/risk/signing.pem"; chmod 644 "$tmp/risk/signing.pem"
cp "$tmp/pki/sign.crt" "$tmp/risk/signing.crt"
cp "$tmp/pki/protected.key" "$tmp/risk/tests/fixtures/client.pem"; chmod 600 "$tmp/risk/tests/fixtures/client.pem"
"$kw" scan -q --format json -o "$tmp/risk.json" "$tmp/risk"
read -r hi lo hi_id lo_id < <("$py" - "$tmp/risk.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
k = {f["location"]["path"].rsplit("/", 1)[-1]: f for f in d["findings"] if f["kind"] == "private_key"}
print(k["signing.pem"]["risk"]["score"], k["client.pem"]["risk"]["score"], k["signing.pem"]["id"], k["client.pem"]["id"])
PY
)
[[ ${hi:-0} -gt ${lo:-100} ]]; check "unencrypted world-readable code-signing key scores above a protected test key ($hi > $lo)" 0 $?
out=$("$kw" explain "$hi_id" "$tmp/risk"); check "explain the code-signing key" 0 $?
contains "it names the code-signing factor" "$out" "code-signing"
contains "it names the world-readable factor" "$out" "world-readable"
out=$("$kw" explain "$lo_id" "$tmp/risk"); check "explain the protected key" 0 $?
contains "it names the test-path factor" "$out" "test-path"

# 11. JUnit for GitLab/Jenkins parses and fails on the key.
(cd "$repo" && git checkout -q HEAD~1 -- src/deploy.pem 2>/dev/null; "$kw" ci --format junit -o "$tmp/junit.xml" >/dev/null 2>&1)
"$py" -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.iter("failure")' "$tmp/junit.xml"
check "JUnit output is well-formed XML" 0 $?

# 12. The default gate fails on every committed key, whatever its score: a passphrase-protected
# PKCS#8 key fails; --fail-on SEVERITY replaces that rule by the severity threshold, both ways.
enc=$tmp/enc
q git_ init "$enc"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -pass pass:a-long-passphrase \
  -out "$enc/deploy.pem" 2>/dev/null
head -1 "$enc/deploy.pem" | grep -q 'BEGIN ENCRYPTED PRIVATE KEY'; check "the key is encrypted PKCS#8" 0 $?
(cd "$enc" && q git_ add -A && q git_ commit -m "encrypted key")
out=$(cd "$enc" && "$kw" ci 2>&1); check "a committed encrypted PKCS#8 key fails by default" 1 $?
contains "the summary says what fails by default" "$out" "any private key or key store"
sev=$(cd "$enc" && "$kw" ci --format json 2>/dev/null | "$py" -c '
import json, sys
print([f for f in json.load(sys.stdin)["findings"] if f["kind"] == "private_key"][0]["risk"]["severity"])')
rank() { case $1 in info) echo 0;; low) echo 1;; medium) echo 2;; high) echo 3;; critical) echo 4;; esac; }
for level in critical high medium low info; do
  want=0; [[ $(rank "$sev") -ge $(rank "$level") ]] && want=1
  (cd "$enc" && q "$kw" ci --fail-on "$level"); check "--fail-on $level on a $sev key" $want $?
done
# A certificate alone does not fail by default; --fail-on info tightens the gate to fail on it.
crt=$tmp/crt
q git_ init "$crt"
cp "$tmp/pki/ca.crt" "$crt/ca.crt"
(cd "$crt" && q git_ add -A && q git_ commit -m "a certificate")
(cd "$crt" && q "$kw" ci); check "a certificate alone passes by default" 0 $?
(cd "$crt" && q "$kw" ci --fail-on info); check "--fail-on info fails on the certificate" 1 $?
# JUnit follows the same rule as the exit status.
(cd "$enc" && "$kw" ci --format junit -o "$tmp/enc.xml" >/dev/null 2>&1)
"$py" -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if list(r.iter("failure")) else 1)' \
  "$tmp/enc.xml"
check "JUnit fails the encrypted key under the default gate" 0 $?

# 13. --history in a shallow clone: exit 2 naming the fetch, which then makes it work.
hist=$tmp/hist
q git_ init "$hist"
cp "$tmp/pki/second.key" "$hist/old.pem"
(cd "$hist" && q git_ add -A && q git_ commit -m "add key")
key_commit=$(cd "$hist" && git rev-parse HEAD)
(cd "$hist" && q git_ rm -q old.pem && echo readme > README && q git_ add -A && q git_ commit -m "remove key")
q git_ -c protocol.file.allow=always clone --depth 1 "file://$hist" "$tmp/hist-shallow"
err=$(cd "$tmp/hist-shallow" && "$kw" ci --history 2>&1); check "--history in a shallow clone is an error" 2 $?
contains "it says which fetch to run" "$err" "git fetch --unshallow origin"
[[ "$err" != *"object not found"* ]]; check "not 'object not found'" 0 $?
(cd "$tmp/hist-shallow" && q git_ fetch --unshallow origin)
(cd "$tmp/hist-shallow" && q "$kw" ci --history); check "after that fetch, --history finds the removed key" 1 $?

# 14. History findings carry their commit: SARIF partialFingerprints and properties, text, JUnit.
(cd "$hist" && "$kw" ci --history --format sarif -o "$tmp/hist.sarif" 2>/dev/null); check "history SARIF gate fails" 1 $?
"$py" - "$tmp/hist.sarif" "$key_commit" "$src/docs/schemas/sarif-schema-2.1.0.json" <<'PY'
import json, sys, jsonschema
log = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator(json.load(open(sys.argv[3]))).validate(log)
res = [r for r in log["runs"][0]["results"] if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "old.pem"]
assert res, "no result for old.pem"
assert res[0]["partialFingerprints"]["keywardCommit/v1"] == sys.argv[2], res[0]["partialFingerprints"]
assert res[0]["properties"]["commit"] == sys.argv[2], res[0]["properties"]
PY
check "a history finding in SARIF carries its commit" 0 $?
out=$(cd "$hist" && "$kw" ci --history 2>&1)
contains "the text report names the commit" "$out" "${key_commit:0:12}"
(cd "$hist" && "$kw" ci --history --format junit -o "$tmp/hist.xml" >/dev/null 2>&1)
grep -q "$key_commit" "$tmp/hist.xml"; check "the JUnit report names the commit" 0 $?

# 15. baseline create --history, and the gate picks up .keyward-baseline.json at the root by itself.
(cd "$hist" && q "$kw" baseline create --history); check "baseline create --history" 0 $?
[[ -f "$hist/.keyward-baseline.json" ]]; check "it is written at the repository root" 0 $?
out=$(cd "$hist" && "$kw" ci --history 2>&1); check "the history baseline makes --history pass" 0 $?
contains "the summary names the baseline it picked up" "$out" "baseline .keyward-baseline.json applied"
rm -f "$hist/.keyward-baseline.json"
mkdir -p "$enc/sub"
(cd "$enc/sub" && q "$kw" baseline create); check "baseline create from a subdirectory" 0 $?
[[ -f "$enc/.keyward-baseline.json" ]]; check "the baseline lands at the repository root" 0 $?
out=$(cd "$enc/sub" && "$kw" ci 2>&1); check "a baselined key no longer fails" 0 $?
contains "the summary names the picked-up baseline" "$out" ".keyward-baseline.json"
(cd "$crt" && q "$kw" baseline create -o "$tmp/other-baseline.json")
(cd "$enc" && q "$kw" ci --baseline "$tmp/other-baseline.json"); check "an explicit --baseline wins" 1 $?

echo "ci: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
