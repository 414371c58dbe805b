#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo: plants a small tree of keys and certificates made right now (a code-signing key
# and its CA-issued certificate, a PFX, an Android JKS with its password in gradle.properties,
# a key in a jar, SSH keys, a Kubernetes secret, an encrypted key, decoys)
# in a temp folder, scans it with keyward, and prints the report. Then the fleet on loopback:
# a keyward-collector (SQLite, a free port) and one keyward-agent that enrolls, is approved,
# scans the same tree once and delivers; `keyward-collector report` shows the inventory. Last,
# into an HSM: the fleet plan, a request by an analyst token, an approval by a second (approver)
# token, and `keyward migrate --collector` moving the approved code-signing key into a SoftHSM2
# token in a temp dir, with its verification printed.
# Nothing is kept; no token or PIN is printed or put on a command line.
set -euo pipefail
kw=${1:-build/bin/keyward}
bin=$(dirname "$kw")
demo=$(mktemp -d /tmp/keyward-demo-XXXXXX)
fleet=$(mktemp -d /tmp/keyward-fleet-XXXXXX)
collector_pid=
cleanup() {
  if [[ -n $collector_pid ]]; then kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true; fi
  rm -rf "$demo" "$fleet"
}
trap cleanup EXIT
q() { "$@" >/dev/null 2>&1; }

mkdir -p "$demo"/{app/signing,app/src,home/dev/.ssh,ops/k8s,docs,ca}
# A small CA and a code-signing certificate it issues, with the key left in the repo.
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$demo/ca/ca.key" \
  -out "$demo/ca/ca.crt" -days 3650 -subj "/O=Example Corp/CN=Example Corp Code Signing CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$demo/app/signing/release.key"
q openssl req -new -key "$demo/app/signing/release.key" -subj "/O=Example Corp/CN=Example Corp Release Signing" \
  -out "$demo/ca/release.csr"
q openssl x509 -req -in "$demo/ca/release.csr" -CA "$demo/ca/ca.crt" -CAkey "$demo/ca/ca.key" -CAcreateserial \
  -days 365 -out "$demo/app/signing/release.crt" \
  -extfile <(printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n')
rm -f "$demo/ca/release.csr" "$demo/ca/ca.srl"
chmod 644 "$demo/app/signing/release.key"
# A developer's SSH keys: one with a passphrase, one without.
q ssh-keygen -t ed25519 -N '' -C dev@laptop -f "$demo/home/dev/.ssh/id_ed25519"
q ssh-keygen -t rsa -b 3072 -N 'demo passphrase' -C deploy@ci -f "$demo/home/dev/.ssh/deploy_rsa"
# A TLS key base64-wrapped in a Kubernetes Secret, and a key inside a JSON config string.
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$demo/ops/tls.key" \
  -out "$demo/ops/tls.crt" -days 30 -subj "/CN=api.example.internal"
{
  echo "apiVersion: v1"; echo "kind: Secret"; echo "metadata: {name: api-tls}"; echo "type: kubernetes.io/tls"; echo "data:"
  echo "  tls.crt: $(base64 -w0 < "$demo/ops/tls.crt")"
  echo "  tls.key: $(base64 -w0 < "$demo/ops/tls.key")"
} > "$demo/ops/k8s/secret.yaml"
rm -f "$demo/ops/tls.key" "$demo/ops/tls.crt"
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$demo/ca/svc.key"
printf '{"service": "billing", "signing_key": "%s"}\n' "$(awk '{printf "%s\\n", $0}' "$demo/ca/svc.key")" \
  > "$demo/app/src/config.json"
rm -f "$demo/ca/svc.key"
# An encrypted PKCS#8 key, and decoys that are not keys.
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -pass pass:demo-only \
  -out "$demo/app/signing/backup.p8"
# Binary stores: the release key and certificate exported to a PFX with a common password, an
# Android-style JKS whose password sits in gradle.properties, and a key inside a jar.
q openssl pkcs12 -export -inkey "$demo/app/signing/release.key" -in "$demo/app/signing/release.crt" \
  -certfile "$demo/ca/ca.crt" -name release -passout pass:changeit -out "$demo/app/signing/release.pfx"
if command -v keytool >/dev/null; then
  mkdir -p "$demo/android/app"
  storepass="demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  q keytool -genkeypair -keystore "$demo/android/app/upload.jks" -storetype JKS -storepass "$storepass" \
    -keypass "$storepass" -alias upload -keyalg RSA -keysize 2048 -validity 365 -dname "CN=Example Android Upload"
  printf 'storeFile=app/upload.jks\nstorePassword=%s\nkeyAlias=upload\nkeyPassword=%s\n' "$storepass" "$storepass" \
    > "$demo/android/gradle.properties"
else
  echo "keyward demo: no keytool here, so no JKS store is planted (apt-get install default-jdk-headless adds one)"
fi
mkdir -p "$demo/jar/META-INF/keys"
q openssl genpkey -algorithm ED25519 -out "$demo/jar/META-INF/keys/plugin-signing.pem"
(cd "$demo/jar" && q zip -qr ../app/plugin.jar META-INF)
rm -rf "$demo/jar"
cp "$demo/home/dev/.ssh/id_ed25519.pub" "$demo/docs/"
printf 'Paste your key between -----BEGIN RSA PRIVATE KEY----- and the END line.\n' > "$demo/docs/README.md"
printf -- '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n' > "$demo/docs/example.pem"

echo "keyward demo: scanning a tree planted in $demo"
echo
set +e
"$kw" scan "$demo"
rc=$?
set -e
echo
echo "exit status $rc (1 = private keys found; 0 = none; 2 = error)"

# The fleet. Each step's own output goes to $log, shown only when a step fails.
log="$fleet/fleet.log"
cfg="$fleet/collector/collector.yaml"
fail() {
  echo "demo: $1 failed; the fleet log follows" >&2
  cat "$log" >&2
  exit 2
}
echo
echo "keyward demo: the fleet on this machine (keyward-collector + keyward-agent, docs/fleet.md)"
# init prints the first admin token on stdout: it is not needed here and must not be shown.
"$bin/keyward-collector" init --dir "$fleet/collector" --listen 127.0.0.1:0 >/dev/null 2>>"$log" ||
  fail "keyward-collector init"
echo "  1. collector init: CA, server certificate, config and SQLite database in $fleet/collector"
"$bin/keyward-collector" serve --config "$cfg" >>"$log" 2>&1 &
collector_pid=$!
url=
for _ in $(seq 100); do  # its first log line names the port it took
  url=$(sed -n 's/.*listening on \(https:[^ ]*\).*/\1/p' "$log" | head -n1)
  [[ -n $url ]] && break
  kill -0 "$collector_pid" 2>/dev/null || fail "keyward-collector serve"
  sleep 0.05
done
[[ -n $url ]] || fail "keyward-collector serve (no 'listening on' line)"
echo "  2. collector serve: listening on $url"
enroll_token=$("$bin/keyward-collector" token create --config "$cfg" --enrollment --ttl 1h 2>>"$log") ||
  fail "keyward-collector token create --enrollment"
echo "  3. collector token create --enrollment: a one-time token (kept in a variable, not shown)"
enrolled=$(KEYWARD_ENROLL_TOKEN=$enroll_token "$bin/keyward-agent" enroll --collector "$url" \
  --ca "$fleet/collector/pki/ca.pem" --state-dir "$fleet/agent" --root "$demo" \
  --config-out "$fleet/agent/agent.yaml" 2>>"$log") || fail "keyward-agent enroll"
unset enroll_token
echo "$enrolled" >>"$log"
agent_id=$(sed -n 's/^agent id: *//p' <<<"$enrolled")
[[ -n $agent_id ]] || fail "keyward-agent enroll (no agent id)"
echo "  4. agent enroll: agent $agent_id made its key on this host; pending approval"
"$bin/keyward-collector" agents approve --config "$cfg" "$agent_id" >>"$log" 2>&1 ||
  fail "keyward-collector agents approve"
echo "  5. collector agents approve $agent_id"
"$bin/keyward-agent" --config "$fleet/agent/agent.yaml" --once >>"$log" 2>&1 || fail "keyward-agent --once"
echo "  6. agent --once: scanned $demo and delivered the report over mutual TLS"
echo "  7. collector report:"
echo
"$bin/keyward-collector" report --config "$cfg" 2>>"$log" || fail "keyward-collector report"

# Into an HSM (docs/migration.md): the fleet plan, a request by an analyst, an approval by a
# second person (an approver), then the approved item runs on this host into a SoftHSM2 token in
# a temp dir. Tokens and PINs stay in variables: curl reads the bearer header from stdin
# (printf is a shell builtin), keyward reads the PIN from the environment; none is on a command line.
echo
echo "keyward demo: into an HSM (docs/migration.md)"
echo "  8. collector plan: the fleet's migration plan"
echo
"$bin/keyward-collector" plan --config "$cfg" 2>>"$log" || fail "keyward-collector plan"
ca="$fleet/collector/pki/ca.pem"
api() {  # api TOKEN METHOD PATH [JSON]: the answer's body on stdout
  printf 'header = "Authorization: Bearer %s"\n' "$1" |
    curl -sS --fail-with-body --cacert "$ca" -K - -X "$2" -H 'Content-Type: application/json' \
      ${4:+--data "$4"} "$url$3" 2>>"$log"
}
analyst=$("$bin/keyward-collector" token create --config "$cfg" --role analyst --name "ana (analyst)" \
  --principal ana 2>>"$log") || fail "keyward-collector token create --role analyst"
approver=$("$bin/keyward-collector" token create --config "$cfg" --role approver --name "bo (approver)" \
  --principal bo 2>>"$log") || fail "keyward-collector token create --role approver"
# The code-signing key: always regenerate (its key must be made in hardware).
item=$(api "$analyst" GET "/api/v1/plan?format=json" | python3 -c '
import json, sys
plan = json.load(sys.stdin)
for it in plan["items"]:
    if not it.get("blockers") and any(p["path"].endswith("app/signing/release.key") for p in it["places"]):
        print(it["id"]); break
') || fail "GET /api/v1/plan"
[[ -n $item ]] || fail "the plan (no item for app/signing/release.key)"
api "$analyst" POST "/api/v1/plan/items/$item/request" '{"reason": "demo: move the release key into the HSM"}' \
  >>"$log" || fail "request of item $item"
echo
echo "  9. ana (analyst) requests item $item; bo (approver, a second person) approves it"
api "$approver" POST "/api/v1/plan/items/$item/approve" '{}' >>"$log" || fail "approval of item $item"
unset analyst approver
hsm="$fleet/softhsm"
module=/usr/lib/softhsm/libsofthsm2.so
export KW_HSM_PIN="pin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
SOFTHSM2_CONF=$(KW_PIN=$KW_HSM_PIN KW_SO_PIN="so-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
  python3 "$(dirname "$0")/../scripts/softhsm-token.py" --dir "$hsm" --label codesign --module "$module" 2>>"$log") ||
  fail "a SoftHSM2 token"
export SOFTHSM2_CONF
echo " 10. a SoftHSM2 token \"codesign\" in $hsm (its PIN in a variable, not shown)"
echo " 11. keyward migrate --collector: the approved item runs on this host, verified inside the token"
echo
"$kw" migrate --collector "$url" --agent-config "$fleet/agent/agent.yaml" --module "$module" --token codesign \
  --pin-source env:KW_HSM_PIN 2>>"$log" || fail "keyward migrate --collector"
unset KW_HSM_PIN
echo
echo " 12. the collector's plan now: item $item"
"$bin/keyward-collector" plan --config "$cfg" 2>>"$log" | grep "item $item" || true
[[ $rc -le 1 ]]
