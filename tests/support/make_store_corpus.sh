#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make_store_corpus.sh OUTDIR: generates the binary key-store, archive and container-image test
# corpus that tests/integration/check_store_scan.py scans and checks. The second generator next to
# make_corpus.sh (text formats): both may share one OUTDIR and run separately or in parallel.
# All key material is made here, at test time; none is ever committed.
#
# Writes:
#   OUTDIR/stores/tree/...       the files to scan (most named without a telling extension)
#   OUTDIR/stores/manifest.tsv   one line per expected finding, TAB-separated:
#                                relpath member kind format encrypted algorithm bits curve tags
#     relpath  relative to OUTDIR/stores/tree
#     member   the archive member chain, '!'-separated ("-": the file itself)
#     encrypted/algorithm/bits/curve: as in make_corpus.sh ("-": not checked). For a keystore
#              they describe its private-key entry (checked only where given).
#     tags     comma list or "-". Certificates: self_signed, ca (as in make_corpus.sh).
#              Keystores:
#                opened            store.opened is true (a password verified or decrypted it)
#                unopened          store.opened is not true (a strong password nobody exposed)
#                weak_password     store.weak_password is true (empty or common password);
#                                  absent: it must not be true (unless inventory)
#                password_exposed=RELPATH  store.password_exposed_in ends with RELPATH; absent: empty
#                truststore        store.truststore is true and no entry is a private key;
#                                  absent: store.truststore must not be true
#                inventory         a system trust store (JDK cacerts): truststore, its certificate
#                                  entries trust_store: true, risk (when scored) info or low;
#                                  weak_password, weaknesses and exposure not checked
#                legacy            store.weaknesses has rc2-40 or 3des, and sha1-mac
#                modern            store.weaknesses is empty
#                has_key           an entry of kind private_key
#                paired            a private_key entry whose certificate.spki_sha256 equals its
#                                  key.spki_sha256, or the finding has paired_with
#                chain             a private_key entry with chain_length >= 2, or a CA certificate entry
#                entry=NAME        an entry whose alias ends with NAME (encrypted zip: member names)
#   OUTDIR/stores/decoys.txt     relpaths that must yield no private_key finding and no keystore
#                                finding with a private-key entry
#   OUTDIR/stores/limits.tsv     relpath-of-directory TAB what: trees the checker scans alone,
#                                each within 60 s and with a scan.stats.skipped "archive_*" key
#   OUTDIR/stores/secrets.txt    every password used, every base64 body line (>= 40 chars) of the
#                                private-key PEMs made or used, and the base64 lines (64 wide) of
#                                the binary key and store files: none may appear in any output
#   OUTDIR/stores/work/          intermediate files; not scanned
#
# Idempotent: a complete corpus made by this same version of the generator is kept as it is.
# Needs: openssl 3, keytool (JDK 17), gpg 2.2, zip, tar, gzip, xz, bzip2, zstd (optional: the
# tar.zst member is skipped without it), /usr/bin/python3. About 10-20 s on 2 cores: keytool runs
# in two background chains while openssl works; the 1 GiB zip bomb is built in milliseconds by
# repeating one deflate block (tests/support/store_corpus_tool.py).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
TOOL="$HERE/store_corpus_tool.py"
VERSION=$(cat "$HERE/make_store_corpus.sh" "$HERE/corpus_lib.sh" "$TOOL" "$HERE/corpus_tool.py" | sha256sum | cut -c1-16)
NEST_DEPTH=13          # the file itself + 12 zips nested inside it
BOMB_SIZE=$((1 << 30)) # 1 GiB of zeros, about 1 MiB compressed

mkdir -p "$1/stores"
OUT=$(cd "$1/stores" && pwd)
T=$OUT/tree
W=$OUT/work

exec 9>"$OUT/.lock"
flock 9

corpus_complete() {
  local f rel
  for f in manifest.tsv decoys.txt limits.tsv secrets.txt .complete; do
    [[ -f $OUT/$f ]] || return 1
  done
  [[ "$(cat "$OUT/.complete")" == "$VERSION $(wc -l <"$OUT/manifest.tsv")" ]] || return 1
  while IFS=$'\t' read -r rel _; do
    [[ -e $T/$rel ]] || return 1
  done <"$OUT/manifest.tsv"
  while IFS= read -r rel; do
    [[ -e $T/$rel ]] || return 1
  done <"$OUT/decoys.txt"
}

if corpus_complete; then
  exit 0
fi

rm -rf "$T" "$W" "$OUT/manifest.tsv" "$OUT/decoys.txt" "$OUT/limits.tsv" "$OUT/secrets.txt" "$OUT/.complete"
mkdir -p "$T" "$W/keys" "$W/stage" "$W/kt"
umask 022

GPGHOMES=()
BG_PIDS=()
gpg_cleanup() {
  local h
  for h in "${GPGHOMES[@]}"; do
    gpgconf --homedir "$h" --kill gpg-agent >/dev/null 2>&1 || true
    rm -rf "$h"
  done
  GPGHOMES=()
}
cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  gpg_cleanup
}
trap cleanup EXIT

die() {
  echo "make_store_corpus: $*" >&2
  exit 1
}

# ------------------------------------------------------------------------------------ helpers

MANIFEST=$W/manifest.tsv
DECOYS=$W/decoys.txt
LIMITS=$W/limits.tsv
SECRET_FILES=$W/secret_files.txt     # text files: their private-key PEM body lines
SECRET_BINARY=$W/secret_binary.txt   # binary files: their base64, 64 wide
SECRET_EXTRA=$W/secret_extra.txt     # passwords
NOTES=$W/notes.txt                   # what could not be generated here
: >"$MANIFEST"
: >"$DECOYS"
: >"$LIMITS"
: >"$SECRET_FILES"
: >"$SECRET_BINARY"
: >"$SECRET_EXTRA"
: >"$NOTES"

# m RELPATH MEMBER KIND FORMAT ENCRYPTED ALGORITHM BITS CURVE TAGS: one expected finding.
m() {
  [[ $# -eq 9 ]] || die "m: 9 fields expected, got $#: $*"
  [[ -e $T/$1 ]] || die "m: $1 does not exist"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$MANIFEST"
}
# decoy, put, write, secret_file, secret_str
# shellcheck source=tests/support/corpus_lib.sh
source "$HERE/corpus_lib.sh"
secret_binary() { printf '%s\n' "$@" >>"$SECRET_BINARY"; }
note() { printf '%s\n' "$*" >>"$NOTES"; echo "make_store_corpus: note: $*" >&2; }

K=$W/keys
S=$W/stage
ossl() { openssl "$@" 2>>"$W/openssl.log"; }
gen_rsa() { ossl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2"; }
gen_ec() { ossl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$1" -pkeyopt ec_param_enc:named_curve -out "$2"; }
gen_ed() { ossl genpkey -algorithm ED25519 -out "$1"; }
# keytool with a JVM that starts fast (no C2 compiler, serial GC, class-data sharing)
kt() { keytool -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -J-Xshare:auto "$@" >>"$W/kt/keytool.log" 2>&1; }
# stage_zip OUT DIR [zip options]: zips everything under DIR (member names relative to DIR).
stage_zip() {
  local out=$1 dir=$2
  shift 2
  rm -f "$out" "$out.tmp.zip"
  # zip appends .zip to a name without an extension: write a .zip, then rename it
  (cd "$dir" && zip -q -r -X "$@" "$out.tmp.zip" .) || die "zip $out failed"
  mv "$out.tmp.zip" "$out"
}
# stage_tar OUT DIR COMPRESSOR...: a tar of DIR's contents (no "./" prefix) through a compressor.
stage_tar() {
  local out=$1 dir=$2
  shift 2
  (cd "$dir" && tar --owner=0 --group=0 --numeric-owner --sort=name -cf - -- *) | "$@" >"$out" \
    || die "tar $out failed"
}
# fresh DIR: an empty staging directory
fresh() { rm -rf "${S:?}/$1"; mkdir -p "$S/$1"; echo "$S/$1"; }

# Passwords. Weak: in rules/data/common-passwords.txt (changeit) or empty. Strong: random, made
# now, distinctive ("kw-...") so that a leak is unambiguous.
WEAK=changeit
grep -qx "$WEAK" "$HERE/../../rules/data/common-passwords.txt" 2>/dev/null \
  || note "rules/data/common-passwords.txt does not list $WEAK"
strong() { printf 'kw-%s-%s' "$1" "$(openssl rand -hex 10)"; }
PW_P12=$(strong p12)
PW_P12_LEGACY=$(strong p12legacy)
PW_JKS=$(strong jks)
PW_JCEKS=$(strong jceks)
PW_KT_P12=$(strong ktp12)
PW_GRADLE_STORE=$(strong gradle-store)
PW_GRADLE_KEY=$(strong gradle-key)
PW_SPRING=$(strong spring)
PW_TOMCAT=$(strong tomcat)
PW_ZIP=$(strong zip)
PW_P8=$(strong p8der)
PW_PVK=$(strong pvk)
PW_PGP=$(strong pgp)
for pw in "$WEAK" "$PW_P12" "$PW_P12_LEGACY" "$PW_JKS" "$PW_JCEKS" "$PW_KT_P12" "$PW_GRADLE_STORE" \
  "$PW_GRADLE_KEY" "$PW_SPRING" "$PW_TOMCAT" "$PW_ZIP" "$PW_P8" "$PW_PVK" "$PW_PGP"; do
  secret_str "$pw"
done

# ------------------------------------------------------------------------------------ CA and keys
gen_ec P-256 "$K/ca.pem"
cat >"$W/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[self]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
subjectKeyIdentifier = hash
EOF
CNF=$W/openssl.cnf
ossl req -x509 -new -config "$CNF" -extensions v3_ca -key "$K/ca.pem" -sha256 -days 3650 \
  -subj '/O=Keyward Test/CN=Keyward Store Test Root CA' -out "$W/ca.crt"

# ------------------------------------------------------------------------------------ keytool
# Two chains of keytool runs in the background (each JVM ~0.3 s) while openssl works below.
# kt_store TYPE FILE STOREPASS ALG ALIAS CN [KEYPASS]: a key entry (self-signed) + the CA as a
# trusted-certificate entry.
kt_store() {
  local type=$1 file=$2 pass=$3 alg=$4 alias=$5 cn=$6 keypass=${7:-$3}
  local algopts=(-keyalg RSA -keysize 2048)
  [[ $alg == ec ]] && algopts=(-keyalg EC -groupname secp256r1)
  kt -genkeypair -storetype "$type" -keystore "$file" -storepass "$pass" -keypass "$keypass" \
    -alias "$alias" "${algopts[@]}" -sigalg "$([[ $alg == ec ]] && echo SHA256withECDSA || echo SHA256withRSA)" \
    -dname "CN=$cn,O=Keyward Test" -validity 730
  if [[ -n ${8:-} ]]; then
    kt -importcert -noprompt -storetype "$type" -keystore "$file" -storepass "$pass" \
      -alias corp-root -file "$W/ca.crt"
  fi
}
KT=$W/kt
(
  kt_store JKS "$KT/jks-weak" "$WEAK" rsa server app.example.org "$WEAK" trust
  kt_store JCEKS "$KT/jceks-weak" "$WEAK" ec client client.example.org "$WEAK" trust
  kt_store PKCS12 "$KT/ktp12-weak" "$WEAK" rsa identity id.example.org "$WEAK" trust
  kt_store JKS "$KT/gradle.jks" "$PW_GRADLE_STORE" rsa upload "Android Upload" "$PW_GRADLE_KEY"
) &
pid_kt1=$!
BG_PIDS+=("$pid_kt1")
(
  kt_store JKS "$KT/jks-strong" "$PW_JKS" ec signing signing.example.org "$PW_JKS" trust
  kt_store JCEKS "$KT/jceks-strong" "$PW_JCEKS" rsa partner partner.example.org "$PW_JCEKS" trust
  kt_store PKCS12 "$KT/ktp12-strong" "$PW_KT_P12" ec prod prod.example.org "$PW_KT_P12" trust
  kt_store JKS "$KT/tomcat.jks" "$PW_TOMCAT" rsa tomcat shop.example.org "$PW_TOMCAT"
) &
pid_kt2=$!
BG_PIDS+=("$pid_kt2")

gen_rsa 2048 "$K/rsa2048.pem"      # DER PKCS#1, legacy PKCS#12, PVK, archives
gen_rsa 2048 "$K/image.pem"        # the key in the container image layers
gen_rsa 1024 "$K/snk.pem"          # .NET strong-name key (sn -k makes 1024-bit keys)
gen_ec P-256 "$K/ec256.pem"        # DER SEC1, archives
gen_ec P-384 "$K/ec384.pem"        # DER PKCS#8
gen_ec P-256 "$K/leaf.pem"         # CA-issued leaf: PKCS#12 with chain, DER cert, PKCS#7
gen_ec P-256 "$K/spring.pem"       # Spring Boot keystore.p12
gen_ed "$K/ed25519.pem"            # DER PKCS#8, archives

ossl pkey -in "$K/rsa2048.pem" -traditional -out "$K/rsa2048.pkcs1"
ossl pkey -in "$K/image.pem" -traditional -out "$K/image.pkcs1"
ossl pkey -in "$K/ec256.pem" -traditional -out "$K/ec256.sec1"
ossl pkey -in "$K/snk.pem" -traditional -out "$K/snk.pkcs1"

issue() {  # issue NAME KEY SUBJECT EXT: a certificate from the test CA
  ossl req -new -config "$CNF" -key "$2" -subj "$3" -out "$W/$1.csr"
  ossl x509 -req -in "$W/$1.csr" -CA "$W/ca.crt" -CAkey "$K/ca.pem" \
    -set_serial "0x$(openssl rand -hex 12)" -days 730 -sha256 -extfile "$CNF" -extensions "$4" \
    -out "$W/$1.crt"
}
selfsign() {  # selfsign NAME KEY SUBJECT
  ossl req -x509 -new -config "$CNF" -extensions self -key "$2" -sha256 -days 730 -subj "$3" -out "$W/$1.crt"
}
issue leaf "$K/leaf.pem" '/O=Keyward Test/CN=pay.example.org' server
issue spring "$K/spring.pem" '/O=Keyward Test/CN=shop.example.org' server
selfsign rsa2048 "$K/rsa2048.pem" '/O=Keyward Test/CN=legacy-client'
selfsign ec256 "$K/ec256.pem" '/O=Keyward Test/CN=device-42'

for f in rsa2048.pem rsa2048.pkcs1 image.pem image.pkcs1 snk.pem snk.pkcs1 ec256.pem ec256.sec1 \
  ec384.pem leaf.pem spring.pem ed25519.pem ca.pem; do
  secret_file "$K/$f"
done

# ------------------------------------------------------------------------------------ PKCS#12 (openssl)
p12() {  # p12 OUT PASS KEY CERT [more openssl pkcs12 options]
  local out=$1 pass=$2 key=$3 cert=$4
  shift 4
  ossl pkcs12 -export -inkey "$key" -in "$cert" -passout "pass:$pass" -out "$out" "$@"
}
p12 "$W/p12-empty" "" "$K/ec256.pem" "$W/ec256.crt" -name device
p12 "$W/p12-chain" "$WEAK" "$K/leaf.pem" "$W/leaf.crt" -certfile "$W/ca.crt" -name pay
p12 "$W/p12-strong" "$PW_P12" "$K/leaf.pem" "$W/leaf.crt" -certfile "$W/ca.crt" -name pay-prod
p12 "$W/p12-legacy-weak" "$WEAK" "$K/rsa2048.pem" "$W/rsa2048.crt" -legacy -name legacy-client
p12 "$W/p12-legacy-strong" "$PW_P12_LEGACY" "$K/rsa2048.pem" "$W/rsa2048.crt" -legacy -name legacy-prod
ossl pkcs12 -export -nokeys -in "$W/ca.crt" -passout "pass:$WEAK" -name corp-root -out "$W/p12-trust"
p12 "$W/spring.p12" "$PW_SPRING" "$K/spring.pem" "$W/spring.crt" -certfile "$W/ca.crt" -name tomcat

put "$W/p12-empty" p12/device-identity 0600
m p12/device-identity - keystore pkcs12 - ec 256 P-256 opened,weak_password,modern,has_key,paired
put "$W/p12-chain" p12/tls/pay-gateway 0640
m p12/tls/pay-gateway - keystore pkcs12 - ec 256 P-256 opened,weak_password,modern,has_key,paired,chain
put "$W/p12-strong" p12/tls/pay-prod.pfx 0600
m p12/tls/pay-prod.pfx - keystore pkcs12 - - - - unopened,modern,has_key
put "$W/p12-legacy-weak" p12/legacy/winexport 0644
m p12/legacy/winexport - keystore pkcs12 - rsa 2048 - opened,weak_password,legacy,has_key,paired
put "$W/p12-legacy-strong" p12/legacy/archive.bin 0600
m p12/legacy/archive.bin - keystore pkcs12 - - - - unopened,legacy,has_key
put "$W/p12-trust" p12/trust/roots 0644
m p12/trust/roots - keystore pkcs12 - - - - opened,weak_password,modern,truststore
decoy p12/trust/roots
secret_binary "$W/p12-empty" "$W/p12-chain" "$W/p12-strong" "$W/p12-legacy-weak" "$W/p12-legacy-strong" \
  "$W/spring.p12"

# ------------------------------------------------------------------------------------ DER
ossl rsa -in "$K/rsa2048.pem" -outform DER -traditional -out "$W/rsa2048.pkcs1.der"
ossl ec -in "$K/ec256.pem" -outform DER -out "$W/ec256.sec1.der"
ossl pkcs8 -topk8 -nocrypt -in "$K/ec384.pem" -outform DER -out "$W/ec384.p8.der"
ossl pkcs8 -topk8 -nocrypt -in "$K/ed25519.pem" -outform DER -out "$W/ed25519.p8.der"
ossl pkcs8 -topk8 -v2 aes-256-cbc -in "$K/rsa2048.pem" -passout "pass:$PW_P8" -outform DER \
  -out "$W/rsa2048.p8enc.der"
ossl x509 -in "$W/leaf.crt" -outform DER -out "$W/leaf.der"
ossl crl2pkcs7 -nocrl -certfile "$W/ca.crt" -certfile "$W/leaf.crt" -outform DER -out "$W/chain.p7b.der"

put "$W/rsa2048.pkcs1.der" der/keys/blob-1 0600
m der/keys/blob-1 - private_key der-pkcs1 false rsa 2048 - -
put "$W/ec256.sec1.der" der/keys/device 0600
m der/keys/device - private_key der-sec1 false ec 256 P-256 -
put "$W/ec384.p8.der" der/keys/state.bin 0640
m der/keys/state.bin - private_key der-pkcs8 false ec 384 P-384 -
put "$W/ed25519.p8.der" der/keys/ed 0600
m der/keys/ed - private_key der-pkcs8 false ed25519 - - -
put "$W/rsa2048.p8enc.der" der/keys/sealed 0600
m der/keys/sealed - private_key der-pkcs8-encrypted true - - - -
put "$W/leaf.der" der/certs/pay-gateway 0644
m der/certs/pay-gateway - certificate der-cert - ec 256 P-256 -
put "$W/chain.p7b.der" der/certs/chain-bundle 0644
m der/certs/chain-bundle - certificate der-pkcs7 - ec 256 P-256 self_signed,ca
m der/certs/chain-bundle - certificate der-pkcs7 - ec 256 P-256 -
decoy der/certs/pay-gateway
decoy der/certs/chain-bundle
secret_binary "$W/rsa2048.pkcs1.der" "$W/ec256.sec1.der" "$W/ec384.p8.der" "$W/ed25519.p8.der" \
  "$W/rsa2048.p8enc.der"

# Decoys: random bytes with a DER SEQUENCE head whose length matches the file; a truncated key.
mkdir -p "$T/der/decoys"
$PY "$TOOL" der-decoy --length 1190 --out "$T/der/decoys/random-seq"
decoy der/decoys/random-seq
n=$(stat -c %s "$W/rsa2048.pkcs1.der")
head -c $((n / 2)) "$W/rsa2048.pkcs1.der" | write der/decoys/truncated-key 0600
decoy der/decoys/truncated-key

# ------------------------------------------------------------------------------------ PVK, SNK
ossl rsa -in "$K/rsa2048.pem" -outform PVK -pvk-none -out "$W/plain.pvk"
ossl rsa -in "$K/rsa2048.pem" -outform PVK -pvk-strong -passout "pass:$PW_PVK" \
  -provider legacy -provider default -out "$W/strong.pvk"
ossl rsa -in "$K/snk.pem" -outform MSBLOB -out "$W/key.snk"
ossl rsa -in "$K/snk.pem" -pubout -outform MSBLOB -out "$W/pub.snk"
put "$W/plain.pvk" pvk/authenticode 0600
m pvk/authenticode - private_key pvk false rsa 2048 - -
put "$W/strong.pvk" pvk/codesign-protected 0600
m pvk/codesign-protected - private_key pvk true rsa - - -
put "$W/key.snk" snk/StrongName 0644
m snk/StrongName - private_key snk false rsa 1024 - -
put "$W/pub.snk" snk/PublicKeyOnly 0644
m snk/PublicKeyOnly - public_key snk - rsa 1024 - -
decoy snk/PublicKeyOnly
secret_binary "$W/plain.pvk" "$W/strong.pvk" "$W/key.snk"
{ printf '\x1e\xf1\xb5\xb0'; head -c 1500 /dev/urandom; } | write pvk/decoys/noise 0644
decoy pvk/decoys/noise

# ------------------------------------------------------------------------------------ GnuPG
# Two homes: the plain RSA key in gpg 2.2's default (canonical S-expression) key file, the
# protected Ed25519 key in the extended ("Key:") format.
gpg_home() {
  local h
  h=$(mktemp -d /tmp/kwsgpg.XXXXXX)   # short path: the agent's socket lives here
  GPGHOMES+=("$h")
  printf 's2k-count 65536\n%s' "${1:-}" >"$h/gpg-agent.conf"
  GPGHOME=$h
}
g() { gpg --homedir "$1" --batch --quiet --pinentry-mode loopback "${@:2}" 2>>"$W/gpg.log"; }
gpg_home $'disable-extended-key-format\n'
G1=$GPGHOME
gpg_home $'enable-extended-key-format\n'
G2=$GPGHOME
g "$G1" --passphrase '' --quick-gen-key 'Keyward Store Test <plain@example.org>' rsa2048 default never
g "$G2" --passphrase "$PW_PGP" --quick-gen-key 'Keyward Store Signer <signer@example.org>' ed25519 sign never
g "$G1" --export-secret-keys plain@example.org >"$W/plain.gpg"
g "$G2" --passphrase "$PW_PGP" --export-secret-keys signer@example.org >"$W/signer.gpg"
[[ -s $W/plain.gpg && -s $W/signer.gpg ]] || die "gpg --export-secret-keys wrote nothing"
cat "$W/plain.gpg" "$W/signer.gpg" | write gpg/secring.gpg 0600
m gpg/secring.gpg - private_key gpg-binary false rsa 2048 - -
m gpg/secring.gpg - private_key gpg-binary true ed25519 - - -
grip() {  # grip HOME: keygrip of the primary key
  g "$1" --with-colons --with-keygrip -K | awk -F: '$1=="sec"{s=1} s&&$1=="grp"{print $10; exit}'
}
GRIP1=$(grip "$G1")
GRIP2=$(grip "$G2")
[[ -f $G1/private-keys-v1.d/$GRIP1.key && -f $G2/private-keys-v1.d/$GRIP2.key ]] || die "no gpg key files"
# GnuPG 2.3 and later (Debian 13) always write the extended format: the canonical S-expression
# file is then made by Debian 12's gpg only (and by the gpg_key_file fuzzer's seeds).
head -c 1 "$G1/private-keys-v1.d/$GRIP1.key" | grep -q '(' ||
  grep -q '^Key: (private-key' "$G1/private-keys-v1.d/$GRIP1.key" || die "gpg key file is neither format"
grep -q '^Key: (protected-private-key' "$G2/private-keys-v1.d/$GRIP2.key" || die "gpg key file not extended format"
KEYDIR=gpg/home/.gnupg/private-keys-v1.d
put "$G1/private-keys-v1.d/$GRIP1.key" "$KEYDIR/$GRIP1.key" 0600
m "$KEYDIR/$GRIP1.key" - private_key gpg-key-file false rsa 2048 - -
put "$G2/private-keys-v1.d/$GRIP2.key" "$KEYDIR/$GRIP2.key" 0600
m "$KEYDIR/$GRIP2.key" - private_key gpg-key-file true ed25519 - - -
secret_binary "$W/plain.gpg" "$W/signer.gpg" "$T/$KEYDIR/$GRIP1.key" "$T/$KEYDIR/$GRIP2.key"
gpg_cleanup

# ------------------------------------------------------------------------------------ archives
# A PEM key in a jar (zip).
d=$(fresh jar)
mkdir -p "$d/META-INF" "$d/com/example/plugin" "$d/config"
printf 'Manifest-Version: 1.0\r\nCreated-By: 17 (Debian)\r\nMain-Class: com.example.plugin.Main\r\n\r\n' \
  >"$d/META-INF/MANIFEST.MF"
{ printf '\xca\xfe\xba\xbe\x00\x00\x00\x3d'; head -c 900 /dev/urandom; } >"$d/com/example/plugin/Main.class"
cp "$K/ec256.sec1" "$d/config/signing.pem"
mkdir -p "$T/archives/lib"
stage_zip "$T/archives/lib/plugin-1.2.jar" "$d"
m archives/lib/plugin-1.2.jar config/signing.pem private_key pem-sec1 false ec 256 P-256 -

# A jar inside a zip.
d=$(fresh inner)
mkdir -p "$d/META-INF/keys" "$d/com/example"
printf 'Manifest-Version: 1.0\r\n\r\n' >"$d/META-INF/MANIFEST.MF"
cp "$K/rsa2048.pkcs1" "$d/META-INF/keys/sign.pem"
{ printf '\xca\xfe\xba\xbe'; head -c 500 /dev/urandom; } >"$d/com/example/Signer.class"
o=$(fresh outer)
stage_zip "$o/inner.jar" "$d"
printf 'release bundle\n' >"$o/README.txt"
mkdir -p "$T/archives/dist"
stage_zip "$T/archives/dist/release-bundle" "$o"
m archives/dist/release-bundle 'inner.jar!META-INF/keys/sign.pem' private_key pem-pkcs1 false rsa 2048 - -

# Compressed tars, one key each.
mkdir -p "$T/archives/backups"
d=$(fresh tgz)
mkdir -p "$d/etc/ssl/private" && cp "$K/ed25519.pem" "$d/etc/ssl/private/mail.key" && echo mail >"$d/etc/hostname"
stage_tar "$T/archives/backups/etc-backup" "$d" gzip -9n
m archives/backups/etc-backup etc/ssl/private/mail.key private_key pem-pkcs8 false ed25519 - - -
d=$(fresh txz)
mkdir -p "$d/home/deploy/certs" && cp "$K/ec384.pem" "$d/home/deploy/certs/client.key"
stage_tar "$T/archives/backups/home.txz" "$d" xz -6
m archives/backups/home.txz home/deploy/certs/client.key private_key pem-pkcs8 false ec 384 P-384 -
d=$(fresh tbz)
mkdir -p "$d/srv/app/secrets" && cp "$K/rsa2048.pem" "$d/srv/app/secrets/jwt-signing"
stage_tar "$T/archives/backups/srv-2024.tbz" "$d" bzip2 -9
m archives/backups/srv-2024.tbz srv/app/secrets/jwt-signing private_key pem-pkcs8 false rsa 2048 - -
if command -v zstd >/dev/null; then
  d=$(fresh tzst)
  mkdir -p "$d/opt/app/tls" && cp "$K/ec256.pem" "$d/opt/app/tls/key.pem"
  stage_tar "$T/archives/backups/snapshot" "$d" zstd -q -19
  m archives/backups/snapshot opt/app/tls/key.pem private_key pem-pkcs8 false ec 256 P-256 -
else
  note "zstd is not installed: no tar.zst archive"
fi

# A Python wheel and a NuGet package (zips).
d=$(fresh whl)
mkdir -p "$d/shop_utils/data" "$d/shop_utils-1.0.dist-info"
printf '__version__ = "1.0"\n' >"$d/shop_utils/__init__.py"
cp "$K/ec256.sec1" "$d/shop_utils/data/dev.key"
printf 'Metadata-Version: 2.1\nName: shop-utils\nVersion: 1.0\n' >"$d/shop_utils-1.0.dist-info/METADATA"
printf 'Wheel-Version: 1.0\nGenerator: bdist_wheel (0.41.2)\nRoot-Is-Purelib: true\nTag: py3-none-any\n' \
  >"$d/shop_utils-1.0.dist-info/WHEEL"
: >"$d/shop_utils-1.0.dist-info/RECORD"
mkdir -p "$T/archives/python"
stage_zip "$T/archives/python/shop_utils-1.0-py3-none-any.whl" "$d"
m archives/python/shop_utils-1.0-py3-none-any.whl shop_utils/data/dev.key private_key pem-sec1 false ec 256 P-256 -
d=$(fresh nupkg)
mkdir -p "$d/lib/net6.0" "$d/content/keys"
printf '<?xml version="1.0" encoding="utf-8"?><Types><Default Extension="dll" ContentType="application/octet"/></Types>\n' \
  >"$d/[Content_Types].xml"
printf '<?xml version="1.0"?><package><metadata><id>Shop.Signing</id><version>1.0.0</version></metadata></package>\n' \
  >"$d/Shop.Signing.nuspec"
{ printf 'MZ\x90\x00'; head -c 2000 /dev/urandom; } >"$d/lib/net6.0/Shop.Signing.dll"
cp "$K/rsa2048.pkcs1" "$d/content/keys/signing.key"
mkdir -p "$T/archives/nuget"
stage_zip "$T/archives/nuget/Shop.Signing.1.0.0.nupkg" "$d"
m archives/nuget/Shop.Signing.1.0.0.nupkg content/keys/signing.key private_key pem-pkcs1 false rsa 2048 - -

# Password-protected zips: a common password (opened), a strong one (only the names are visible).
d=$(fresh zipweak)
mkdir -p "$d/keys" && cp "$K/rsa2048.pkcs1" "$d/keys/id_rsa" && printf 'ops handover\n' >"$d/NOTES.txt"
mkdir -p "$T/archives/secure"
stage_zip "$T/archives/secure/handover.zip" "$d" -P "$WEAK"
m archives/secure/handover.zip - keystore zip-encrypted - - - - opened,weak_password
m archives/secure/handover.zip keys/id_rsa private_key pem-pkcs1 false rsa 2048 - -
d=$(fresh zipstrong)
mkdir -p "$d/ssh" && cp "$K/ec256.sec1" "$d/ssh/deploy.key" && printf 'vault export\n' >"$d/README"
stage_zip "$T/archives/secure/vault-export" "$d" -P "$PW_ZIP"
m archives/secure/vault-export - keystore zip-encrypted - - - - unopened,entry=ssh/deploy.key
secret_binary "$T/archives/secure/handover.zip" "$T/archives/secure/vault-export"

# Decoy archives: certificates and public keys only.
d=$(fresh zipdecoy)
cp "$W/ca.crt" "$d/ca.crt"
ossl pkey -in "$K/rsa2048.pem" -pubout -out "$d/signing-public.pem"
printf '# docs\nKeys are in the vault.\n' >"$d/README.md"
mkdir -p "$T/archives/decoys"
stage_zip "$T/archives/decoys/docs.zip" "$d"
decoy archives/decoys/docs.zip
stage_tar "$T/archives/decoys/certs.tar.gz" "$d" gzip -9n
decoy archives/decoys/certs.tar.gz

# ------------------------------------------------------------------------------------ limits
# Nested zips: the key at level 2 must be found; the bottom is deeper than any sane limit.
mkdir -p "$T/limits/nested" "$T/limits/bomb"
chain=$($PY "$TOOL" nested-zip --depth "$NEST_DEPTH" --key "$K/ec256.sec1" --key-level 2 \
  --key-member keys/shallow.pem --out "$T/limits/nested/matryoshka.zip")
m limits/nested/matryoshka.zip "$chain" private_key pem-sec1 false ec 256 P-256 -
printf 'limits/nested\tnested %d levels deep\n' "$NEST_DEPTH" >>"$LIMITS"
# Zip and tar.gz bombs: 1 GiB of zeros each, about 1 MiB on disk, never written out in full.
$PY "$TOOL" bomb-zip --size "$BOMB_SIZE" --member zeros.bin --out "$T/limits/bomb/zeros.zip"
$PY "$TOOL" bomb-targz --size "$BOMB_SIZE" --member var/log/huge.log --out "$T/limits/bomb/logs.tar.gz"
printf 'limits/bomb\t1 GiB of zeros in a zip and a tar.gz\n' >>"$LIMITS"
decoy limits/bomb/zeros.zip
decoy limits/bomb/logs.tar.gz

# ------------------------------------------------------------------------------------ images
# `docker save` tarball (OCI layout inside) and an unpacked OCI layout directory: layer 1 adds
# etc/ssl/private/server.key, layer 2 deletes it with a whiteout. The key is still in the image.
mkdir -p "$T/images/oci/shop-web"
img=$($PY "$TOOL" image --key "$K/image.pkcs1" --path etc/ssl/private/server.key --tag shop/web:1.4.2 \
  --tar "$T/images/shop-web.tar" --dir "$T/images/oci/shop-web")
L_TAR=$(awk '$1=="tar"{print $2}' <<<"$img")
L_DIR=$(awk '$1=="dir"{print $2}' <<<"$img")
[[ ${#L_TAR} == 64 && ${#L_DIR} == 64 ]] || die "image: no layer digests"
m images/shop-web.tar "sha256:$L_TAR!etc/ssl/private/server.key" private_key pem-pkcs1 false rsa 2048 - -
m "images/oci/shop-web/blobs/sha256/$L_DIR" etc/ssl/private/server.key private_key pem-pkcs1 false rsa 2048 - -

# ------------------------------------------------------------------------------------ keytool stores
wait "$pid_kt1" || die "keytool (chain 1) failed: see $W/kt/"
wait "$pid_kt2" || die "keytool (chain 2) failed: see $W/kt/"
BG_PIDS=()
put "$KT/jks-weak" java/keystores/server-store 0640
m java/keystores/server-store - keystore jks - rsa 2048 - opened,weak_password,has_key,paired
put "$KT/jceks-weak" java/keystores/cipher-store 0640
m java/keystores/cipher-store - keystore jceks - ec 256 P-256 opened,weak_password,has_key,paired
put "$KT/ktp12-weak" java/keystores/identity 0640
m java/keystores/identity - keystore pkcs12 - rsa 2048 - opened,weak_password,modern,has_key,paired
put "$KT/jks-strong" java/secure/signing 0600
m java/secure/signing - keystore jks - - - - unopened,has_key
put "$KT/jceks-strong" java/secure/partner 0600
m java/secure/partner - keystore jceks - - - - unopened,has_key
put "$KT/ktp12-strong" java/secure/identity-prod 0600
m java/secure/identity-prod - keystore pkcs12 - - - - unopened,modern,has_key
secret_binary "$KT/jks-weak" "$KT/jceks-weak" "$KT/ktp12-weak" "$KT/jks-strong" "$KT/jceks-strong" \
  "$KT/ktp12-strong" "$KT/gradle.jks" "$KT/tomcat.jks"

# The JDK's trust store: inventory, not an exposure.
if [[ -f /etc/ssl/certs/java/cacerts ]]; then
  put /etc/ssl/certs/java/cacerts opt/jdk/lib/security/cacerts 0644
else
  note "no /etc/ssl/certs/java/cacerts: cacerts built from a few CA certificates"
  for i in 1 2 3; do
    gen_ec P-256 "$K/root$i.pem"
    ossl req -x509 -new -config "$CNF" -extensions v3_ca -key "$K/root$i.pem" -days 3650 \
      -subj "/O=Keyward Test/CN=Keyward Public Root $i" -out "$W/root$i.crt"
    kt -importcert -noprompt -storetype JKS -keystore "$W/cacerts" -storepass "$WEAK" -alias "root$i" \
      -file "$W/root$i.crt"
  done
  put "$W/cacerts" opt/jdk/lib/security/cacerts 0644
fi
m opt/jdk/lib/security/cacerts - keystore jks - - - - truststore,inventory
decoy opt/jdk/lib/security/cacerts

# An apk-like zip with a JKS inside.
d=$(fresh apk)
mkdir -p "$d/assets/signing" "$d/META-INF" "$d/res/raw"
{ printf '\x03\x00\x08\x00'; head -c 1200 /dev/urandom; } >"$d/AndroidManifest.xml"
{ printf 'dex\n035\x00'; head -c 3000 /dev/urandom; } >"$d/classes.dex"
printf 'Manifest-Version: 1.0\r\n\r\n' >"$d/META-INF/MANIFEST.MF"
cp "$KT/jks-weak" "$d/assets/signing/release.keystore"
mkdir -p "$T/archives/mobile"
stage_zip "$T/archives/mobile/shop-release.apk" "$d"
m archives/mobile/shop-release.apk assets/signing/release.keystore keystore jks - rsa 2048 - \
  opened,weak_password,has_key,paired

# ------------------------------------------------------------------------------------ projects
# Android/Gradle: the JKS in app/, its passwords in gradle.properties at the project root.
put "$KT/gradle.jks" projects/android/app/release.jks 0644
write projects/android/gradle.properties 0644 <<EOF
org.gradle.jvmargs=-Xmx2048m -Dfile.encoding=UTF-8
android.useAndroidX=true
storeFile=release.jks
storePassword=$PW_GRADLE_STORE
keyAlias=upload
keyPassword=$PW_GRADLE_KEY
EOF
write projects/android/settings.gradle 0644 <<'EOF'
rootProject.name = "shop"
include ':app'
EOF
write projects/android/app/build.gradle 0644 <<'EOF'
android {
    signingConfigs {
        release {
            storeFile file(project.property('storeFile'))
            storePassword project.property('storePassword')
            keyAlias project.property('keyAlias')
            keyPassword project.property('keyPassword')
        }
    }
}
EOF
m projects/android/app/release.jks - keystore jks - rsa 2048 - \
  opened,password_exposed=projects/android/gradle.properties,has_key,paired

# Spring Boot: keystore.p12 and application.properties side by side.
put "$W/spring.p12" projects/spring-shop/src/main/resources/keystore.p12 0644
write projects/spring-shop/src/main/resources/application.properties 0644 <<EOF
spring.application.name=shop
server.port=8443
server.ssl.enabled=true
server.ssl.key-store=classpath:keystore.p12
server.ssl.key-store-type=PKCS12
server.ssl.key-store-password=$PW_SPRING
server.ssl.key-alias=tomcat
EOF
m projects/spring-shop/src/main/resources/keystore.p12 - keystore pkcs12 - ec 256 P-256 \
  opened,password_exposed=projects/spring-shop/src/main/resources/application.properties,modern,has_key,paired,chain

# Tomcat: server.xml next to the JKS.
put "$KT/tomcat.jks" projects/tomcat/conf/tomcat.jks 0640
write projects/tomcat/conf/server.xml 0640 <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8443" protocol="org.apache.coyote.http11.Http11NioProtocol"
               SSLEnabled="true" scheme="https" secure="true"
               keystoreFile="conf/tomcat.jks" keystorePass="$PW_TOMCAT"
               keyAlias="tomcat" clientAuth="false" sslProtocol="TLS"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps"/>
    </Engine>
  </Service>
</Server>
EOF
m projects/tomcat/conf/tomcat.jks - keystore jks - rsa 2048 - \
  opened,password_exposed=projects/tomcat/conf/server.xml,has_key,paired

# A file with the JKS magic and nothing of a store after it.
{ printf '\xfe\xed\xfe\xed'; head -c 2000 /dev/urandom; } | write java/decoys/not-a-store 0644
decoy java/decoys/not-a-store

# ------------------------------------------------------------------------------------ checks
# Each file is what its manifest line says, checked with the real tools (or, for JKS/JCEKS, the
# integrity digest keytool writes: keytool -list would cost a JVM per store).
p12ok() {  # p12ok FILE PASS [-legacy]
  ossl pkcs12 -in "$1" -passin "pass:$2" -info -noout "${@:3}" || die "openssl cannot open $1"
}
p12ok "$T/p12/device-identity" ""
p12ok "$T/p12/tls/pay-gateway" "$WEAK"
p12ok "$T/p12/tls/pay-prod.pfx" "$PW_P12"
p12ok "$T/p12/legacy/winexport" "$WEAK" -legacy
p12ok "$T/p12/legacy/archive.bin" "$PW_P12_LEGACY" -legacy
p12ok "$T/p12/trust/roots" "$WEAK"
p12ok "$T/java/keystores/identity" "$WEAK"
p12ok "$T/java/secure/identity-prod" "$PW_KT_P12"
p12ok "$T/projects/spring-shop/src/main/resources/keystore.p12" "$PW_SPRING"
openssl pkcs12 -in "$T/p12/legacy/winexport" -passin "pass:$WEAK" -info -noout -legacy 2>&1 \
  | grep -q 'pbeWithSHA1And40BitRC2' || die "the legacy PKCS#12 does not use RC2-40"
[[ $(ossl pkcs12 -in "$T/p12/trust/roots" -passin "pass:$WEAK" -nokeys | grep -c 'BEGIN CERTIFICATE') == 1 ]] \
  || die "the PKCS#12 truststore does not hold one certificate"
[[ $(ossl pkcs12 -in "$T/p12/tls/pay-gateway" -passin "pass:$WEAK" -nokeys | grep -c 'BEGIN CERTIFICATE') == 2 ]] \
  || die "the PKCS#12 with chain does not hold two certificates"
jks() {  # jks FILE PASS EXPECTED
  local got
  got=$($PY "$TOOL" jks-info "$T/$1" "$2") || die "$1 does not open with its password"
  [[ $got == "$3" ]] || die "$1: $got, expected $3"
}
jks java/keystores/server-store "$WEAK" "jks keys=1 certs=1"
jks java/keystores/cipher-store "$WEAK" "jceks keys=1 certs=1"
jks java/secure/signing "$PW_JKS" "jks keys=1 certs=1"
jks java/secure/partner "$PW_JCEKS" "jceks keys=1 certs=1"
jks projects/android/app/release.jks "$PW_GRADLE_STORE" "jks keys=1 certs=0"
jks projects/tomcat/conf/tomcat.jks "$PW_TOMCAT" "jks keys=1 certs=0"
$PY "$TOOL" jks-info "$T/opt/jdk/lib/security/cacerts" "$WEAK" | grep -q ' keys=0 ' || die "cacerts has a key"
for f in der/keys/blob-1 der/keys/device der/keys/state.bin der/keys/ed; do
  ossl pkey -inform DER -in "$T/$f" -noout || die "openssl cannot read $f"
done
ossl pkey -inform DER -in "$T/der/keys/sealed" -passin "pass:$PW_P8" -noout || die "der/keys/sealed"
ossl pkey -inform DER -in "$T/der/decoys/truncated-key" -noout 2>/dev/null && die "the truncated key reads"
ossl x509 -inform DER -in "$T/der/certs/pay-gateway" -noout || die "der/certs/pay-gateway"
[[ $(ossl pkcs7 -inform DER -in "$T/der/certs/chain-bundle" -print_certs | grep -c 'BEGIN CERTIFICATE') == 2 ]] \
  || die "the DER PKCS#7 does not hold two certificates"
ossl rsa -inform PVK -in "$T/pvk/authenticode" -noout || die "pvk/authenticode"
ossl rsa -inform PVK -in "$T/pvk/codesign-protected" -passin "pass:$PW_PVK" -noout \
  -provider legacy -provider default || die "pvk/codesign-protected"
ossl rsa -inform MSBLOB -in "$T/snk/StrongName" -noout || die "snk/StrongName"
ossl rsa -pubin -inform MSBLOB -in "$T/snk/PublicKeyOnly" -noout || die "snk/PublicKeyOnly"
[[ $(gpg --list-packets "$T/gpg/secring.gpg" 2>/dev/null | grep -c '^:secret key packet:') == 2 ]] \
  || die "secring.gpg does not hold two secret primary keys"
$PY "$TOOL" check-members --tree "$T" --manifest "$MANIFEST" --password "$WEAK" \
  || die "a manifest member chain does not hold what it says"
[[ $(unzip -Z1 "$T/archives/secure/vault-export") == *ssh/deploy.key* ]] || die "vault-export lacks its entry"
unzip -P "$WEAK" -tq "$T/archives/secure/vault-export" >/dev/null 2>&1 && die "vault-export opens with $WEAK"
[[ $(unzip -Zv "$T/limits/bomb/zeros.zip" | awk '/uncompressed size:/{print $3}') == "$BOMB_SIZE" ]] \
  || die "the zip bomb does not declare $BOMB_SIZE bytes"

# ------------------------------------------------------------------------------------ finish
while IFS=$'\t' read -r rel member kind _; do
  if [[ $kind == private_key && $member == - ]] && grep -q -- '-----BEGIN' "$T/$rel" 2>/dev/null; then
    secret_file "$T/$rel"
  fi
done <"$MANIFEST"
{
  sort -u "$SECRET_FILES" | xargs -d '\n' "$PY" "$TOOL" secrets
  sort -u "$SECRET_BINARY" | xargs -d '\n' "$PY" "$TOOL" der-secrets
  cat "$SECRET_EXTRA"
} | awk 'length($0) > 0 && !seen[$0]++' >"$W/secrets.txt"
[[ $(wc -l <"$W/secrets.txt") -gt 100 ]] || die "too few secrets collected"

mv "$W/manifest.tsv" "$OUT/manifest.tsv"
mv "$W/decoys.txt" "$OUT/decoys.txt"
mv "$W/limits.tsv" "$OUT/limits.tsv"
mv "$W/secrets.txt" "$OUT/secrets.txt"
echo "$VERSION $(wc -l <"$OUT/manifest.tsv")" >"$OUT/.complete"
