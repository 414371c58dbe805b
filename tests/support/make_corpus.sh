#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make_corpus.sh OUTDIR: generates the key/certificate test corpus that tests/integration/check_scan.py
# scans and checks. All key material is made here, at test time; none is ever committed.
#
# Writes:
#   OUTDIR/tree/...       the files to scan (many named without a telling extension)
#   OUTDIR/manifest.tsv   one line per expected finding, TAB-separated:
#                         relpath kind format encrypted algorithm bits curve tags
#                         relpath is relative to OUTDIR/tree; "-" means "not checked" (the format
#                         hides it without the password, or it has no single agreed value, e.g. the
#                         bit size of Ed25519 or of FIDO keys). For certificates algorithm/bits/curve
#                         are those of the certified key. tags: code_signing, expired, self_signed,
#                         ca, paired (comma list, or "-").
#   OUTDIR/decoys.txt     relpaths of files that must produce no private_key finding
#   OUTDIR/secrets.txt    every base64 body line (>= 40 chars) of every private key generated, the
#                         private members of JWK/XML keys, the base64 of embedded PEMs and every
#                         passphrase: none may appear in any keyward output
#   OUTDIR/work/          intermediate files (the CA key, clean copies); not scanned
#
# Idempotent: a complete corpus made by this same version of the generator is kept as it is.
# Needs: openssl 3, ssh-keygen, puttygen, gpg, /usr/bin/python3. Runs in well under a minute on
# 2 cores: the slow keys (RSA-4096, RSA-3072, DSA) are generated once, in the background, and every
# format of them is derived from that one key.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
TOOL="$HERE/corpus_tool.py"
VERSION=$(cat "$HERE/make_corpus.sh" "$HERE/corpus_lib.sh" "$TOOL" | sha256sum | cut -c1-16)

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
T=$OUT/tree
W=$OUT/work

# One generator at a time per OUTDIR (ctest may start fixtures in parallel).
exec 9>"$OUT/.lock"
flock 9

corpus_complete() {
  [[ -f $OUT/manifest.tsv && -f $OUT/decoys.txt && -f $OUT/secrets.txt && -f $OUT/.complete ]] || return 1
  [[ "$(cat "$OUT/.complete")" == "$VERSION $(wc -l <"$OUT/manifest.tsv")" ]] || return 1
  local rel
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

rm -rf "$T" "$W" "$OUT/manifest.tsv" "$OUT/decoys.txt" "$OUT/secrets.txt" "$OUT/.complete"
mkdir -p "$T" "$W/keys" "$W/ca/newcerts"
umask 022

GPGHOME=""
cleanup() {
  if [[ -n $GPGHOME && -d $GPGHOME ]]; then
    gpgconf --homedir "$GPGHOME" --kill gpg-agent >/dev/null 2>&1 || true
    rm -rf "$GPGHOME"
  fi
}
trap cleanup EXIT

die() {
  echo "make_corpus: $*" >&2
  exit 1
}

# ------------------------------------------------------------------------------------ helpers

MANIFEST=$W/manifest.tsv
DECOYS=$W/decoys.txt
SECRET_FILES=$W/secret_files.txt
SECRET_EXTRA=$W/secret_extra.txt
: >"$MANIFEST"
: >"$DECOYS"
: >"$SECRET_FILES"
: >"$SECRET_EXTRA"

# m RELPATH KIND FORMAT ENCRYPTED ALGORITHM BITS CURVE TAGS: one expected finding.
m() {
  [[ $# -eq 8 ]] || die "m: 8 fields expected, got $#: $*"
  [[ -e $T/$1 ]] || die "m: $1 does not exist"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$MANIFEST"
}

# decoy, put, write, secret_file, secret_str
# shellcheck source=tests/support/corpus_lib.sh
source "$HERE/corpus_lib.sh"

K=$W/keys
ossl() { openssl "$@" 2>>"$W/openssl.log"; }
gen_rsa() { ossl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2"; }
gen_ec() { ossl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$1" -pkeyopt ec_param_enc:named_curve -out "$2"; }
gen_ed() { ossl genpkey -algorithm ED25519 -out "$1"; }
gen_dsa() { ossl dsaparam -out "$K/dsa.params" 2048 && ossl genpkey -paramfile "$K/dsa.params" -out "$1"; }
# traditional (PKCS#1 / SEC1 / DSA) form of a key
trad() { ossl pkey -in "$1" -traditional -out "$2"; }
# PKCS#8 form of a key
p8() { ossl pkey -in "$1" -out "$2"; }
# encrypted PKCS#8 form (PBES2, AES-256-CBC)
p8enc() { ossl pkcs8 -topk8 -v2 aes-256-cbc -in "$1" -passout "pass:$3" -out "$2"; }

# Passphrases: distinctive, so that a leak is unambiguous.
PW_P8="kw-p8-Qx7vT2mZ9rLd"
PW_LEGACY="kw-legacy-Hn4sW8pB3yKe"
PW_SSH="kw-ssh-Fj6tR1cV5nXu"
PW_PPK="kw-ppk-Ld2gY7hM4qWs"
PW_SSHCOM="kw-sshcom-Tz9kP3vN6bJa"
PW_PGP="kw-pgp-Wc5xE8rU2mHo"
PW_P12="kw-p12-Gb3nQ6sK9tVy"
for pw in "$PW_P8" "$PW_LEGACY" "$PW_SSH" "$PW_PPK" "$PW_SSHCOM" "$PW_PGP" "$PW_P12"; do
  secret_str "$pw"
done

# ------------------------------------------------------------------------------------ keys
# The slow ones start first, in the background; the fast ones are made meanwhile.
gen_rsa 4096 "$K/rsa4096.pem" & pid_rsa4096=$!
gen_rsa 3072 "$K/codesign.pem" & pid_codesign=$!
gen_dsa "$K/dsa.pem" & pid_dsa=$!

gen_rsa 1024 "$K/rsa1024.pem"
gen_rsa 2048 "$K/rsa2048.pem"
gen_rsa 2048 "$K/web.pem"        # key of the key+cert bundle
gen_ec P-256 "$K/ec256.pem"
gen_ec P-384 "$K/ec384.pem"
gen_ec P-384 "$K/ca.pem"         # CA key: never in the tree
gen_ec P-256 "$K/expired.pem"    # key of the expired certificate: not in the tree
gen_ec P-256 "$K/p12.pem"        # key of the PKCS#12 export
gen_ec P-256 "$K/k8s.pem"        # key of the Kubernetes TLS secret
gen_ec P-256 "$K/sk-ecdsa.pem"   # public point of the FIDO ECDSA key
gen_ed "$K/ed25519.pem"
gen_ed "$K/sk-ed25519.pem"       # public key of the FIDO Ed25519 key

# OpenSSH keys (ssh-keygen makes its own), plain and passphrase-protected copies of each.
sshgen() { ssh-keygen -q -t "$1" "${@:3}" -N '' -C "$2@build-host" -f "$K/ssh-$2"; }
sshgen rsa rsa -b 2048
sshgen ecdsa ecdsa256 -b 256
sshgen ecdsa ecdsa384 -b 384
sshgen ed25519 ed25519
SSH_DSA=yes
sshgen dsa dsa 2>/dev/null || SSH_DSA=no
for k in rsa ecdsa256 ecdsa384 ed25519 $([[ $SSH_DSA == yes ]] && echo dsa); do
  cp "$K/ssh-$k" "$K/ssh-$k-enc"
  ssh-keygen -q -p -P '' -N "$PW_SSH" -f "$K/ssh-$k-enc" >/dev/null
  secret_file "$K/ssh-$k"
  secret_file "$K/ssh-$k-enc"
done

# Derived PEM forms of the fast keys.
trad "$K/rsa1024.pem" "$K/rsa1024.pkcs1"
trad "$K/rsa2048.pem" "$K/rsa2048.pkcs1"
trad "$K/web.pem" "$K/web.pkcs1"
trad "$K/ec256.pem" "$K/ec256.sec1"
trad "$K/ec384.pem" "$K/ec384.sec1"
p8enc "$K/ec256.pem" "$K/ec256.p8enc" "$PW_P8"
p8enc "$K/ed25519.pem" "$K/ed25519.p8enc" "$PW_P8"
ossl rsa -in "$K/rsa2048.pem" -aes128 -traditional -passout "pass:$PW_LEGACY" -out "$K/rsa2048.legacy"
ossl ec -in "$K/ec256.pem" -aes128 -passout "pass:$PW_LEGACY" -out "$K/ec256.legacy"

# ------------------------------------------------------------------------------------ PEM keys
put "$K/rsa1024.pkcs1" pem/blob1 0644
m pem/blob1 private_key pem-pkcs1 false rsa 1024 - -
put "$K/rsa2048.pem" pem/config.bin 0640
m pem/config.bin private_key pem-pkcs8 false rsa 2048 - -
put "$K/ec256.sec1" pem/ec.pem 0600
m pem/ec.pem private_key pem-sec1 false ec 256 P-256 -
put "$K/ec384.sec1" pem/cache.db 0600
m pem/cache.db private_key pem-sec1 false ec 384 P-384 -
put "$K/ec256.pem" pem/session 0600
m pem/session private_key pem-pkcs8 false ec 256 P-256 -
put "$K/ec384.pem" pem/ec384-p8.txt 0644
m pem/ec384-p8.txt private_key pem-pkcs8 false ec 384 P-384 -
put "$K/ed25519.pem" pem/ed25519 0600
m pem/ed25519 private_key pem-pkcs8 false ed25519 - - -
put "$K/ec256.p8enc" pem/enc/token.bin 0600
m pem/enc/token.bin private_key pem-pkcs8-encrypted true - - - -
put "$K/ed25519.p8enc" pem/enc/ed25519-p8enc 0600
m pem/enc/ed25519-p8enc private_key pem-pkcs8-encrypted true - - - -
put "$K/rsa2048.legacy" pem/enc/server.key 0600
m pem/enc/server.key private_key pem-legacy-encrypted true rsa - - -
put "$K/ec256.legacy" pem/enc/ecdsa.old 0640
m pem/enc/ecdsa.old private_key pem-legacy-encrypted true ec - - -

# CRLF line ends (a key edited on Windows).
sed 's/$/\r/' "$K/rsa2048.pkcs1" | write pem/crlf/windows.txt 0644
m pem/crlf/windows.txt private_key pem-pkcs1 false rsa 2048 - -
# UTF-8 byte-order mark before the PEM.
{ printf '\xef\xbb\xbf'; cat "$K/ec256.pem"; } | write pem/bom-key 0644
m pem/bom-key private_key pem-pkcs8 false ec 256 P-256 -

for f in rsa1024.pem rsa2048.pem ec256.pem ec384.pem ed25519.pem rsa1024.pkcs1 rsa2048.pkcs1 \
  ec256.sec1 ec384.sec1 ec256.p8enc ed25519.p8enc rsa2048.legacy ec256.legacy web.pem web.pkcs1 \
  ca.pem expired.pem p12.pem k8s.pem sk-ecdsa.pem sk-ed25519.pem; do
  secret_file "$K/$f"
done

# ------------------------------------------------------------------------------------ OpenSSH
put "$K/ssh-rsa" ssh/id_rsa 0600
m ssh/id_rsa private_key openssh false rsa 2048 - -
ssh-keygen -y -f "$K/ssh-rsa" | write ssh/id_rsa.pub 0644
decoy ssh/id_rsa.pub
put "$K/ssh-rsa-enc" ssh/deploy 0600
m ssh/deploy private_key openssh true rsa 2048 - -
put "$K/ssh-ecdsa256" ssh/id_ecdsa 0600
m ssh/id_ecdsa private_key openssh false ec 256 P-256 -
put "$K/ssh-ecdsa256-enc" ssh/backup/ecdsa-enc 0600
m ssh/backup/ecdsa-enc private_key openssh true ec 256 P-256 -
put "$K/ssh-ecdsa384" ssh/host_key 0640
m ssh/host_key private_key openssh false ec 384 P-384 -
put "$K/ssh-ecdsa384-enc" ssh/backup/ecdsa384-enc 0600
m ssh/backup/ecdsa384-enc private_key openssh true ec 384 P-384 -
put "$K/ssh-ed25519" ssh/id_ed25519 0600
m ssh/id_ed25519 private_key openssh false ed25519 - - -
put "$K/ssh-ed25519-enc" ssh/git-signing 0600
m ssh/git-signing private_key openssh true ed25519 - - -
if [[ $SSH_DSA == yes ]]; then
  put "$K/ssh-dsa" ssh/id_dsa 0600
  m ssh/id_dsa private_key openssh false dsa 1024 - -
  put "$K/ssh-dsa-enc" ssh/legacy/dsa-enc 0600
  m ssh/legacy/dsa-enc private_key openssh true dsa 1024 - -
fi

# FIDO (security key) keys: no tool writes them without hardware, corpus_tool builds them.
$PY "$TOOL" sk-openssh --type ed25519 --key "$K/sk-ed25519.pem" --comment yubikey@laptop \
  --out "$K/ssh-sk-ed25519"
$PY "$TOOL" sk-openssh --type ecdsa --key "$K/sk-ecdsa.pem" --comment token@laptop \
  --out "$K/ssh-sk-ecdsa"
ssh-keygen -l -f "$K/ssh-sk-ed25519" >/dev/null || die "ssh-keygen cannot read the sk-ed25519 key"
ssh-keygen -l -f "$K/ssh-sk-ecdsa" >/dev/null || die "ssh-keygen cannot read the sk-ecdsa key"
secret_file "$K/ssh-sk-ed25519"
secret_file "$K/ssh-sk-ecdsa"
put "$K/ssh-sk-ed25519" ssh/id_ed25519_sk 0600
m ssh/id_ed25519_sk private_key openssh false sk-ed25519 - - -
put "$K/ssh-sk-ecdsa" ssh/token 0600
m ssh/token private_key openssh false sk-ecdsa - P-256 -

# ------------------------------------------------------------------------------------ PuTTY, SSH.com
printf '%s\n' "$PW_PPK" >"$W/ppk.pass"
printf '%s\n' "$PW_SSHCOM" >"$W/sshcom.pass"
mkdir -p "$T/putty"
puttygen "$K/ssh-rsa" -O private -o "$T/putty/server.ppk"
m putty/server.ppk private_key putty-ppk false rsa 2048 - -
puttygen "$K/ssh-ed25519" -O private --new-passphrase "$W/ppk.pass" -o "$T/putty/laptop"
m putty/laptop private_key putty-ppk true ed25519 - - -
puttygen "$K/ssh-ecdsa256" -O private --ppk-param version=2 -o "$T/putty/v2-ecdsa.ppk"
m putty/v2-ecdsa.ppk private_key putty-ppk false ec 256 P-256 -
puttygen "$K/ssh-rsa" -O private --ppk-param version=2 --new-passphrase "$W/ppk.pass" \
  -o "$T/putty/old-key.dat"
m putty/old-key.dat private_key putty-ppk true rsa 2048 - -
puttygen "$K/ssh-rsa" -O private-sshcom -o "$T/putty/sshcom-rsa"
m putty/sshcom-rsa private_key sshcom false rsa 2048 - -
if [[ $SSH_DSA == yes ]]; then
  puttygen "$K/ssh-dsa" -O private-sshcom --new-passphrase "$W/sshcom.pass" -o "$T/putty/tectia.key"
  m putty/tectia.key private_key sshcom true dsa - - -
else
  puttygen "$K/ssh-rsa" -O private-sshcom --new-passphrase "$W/sshcom.pass" -o "$T/putty/tectia.key"
  m putty/tectia.key private_key sshcom true rsa - - -
fi
chmod 0600 "$T/putty/laptop" "$T/putty/old-key.dat"
for f in server.ppk laptop v2-ecdsa.ppk old-key.dat sshcom-rsa tectia.key; do
  secret_file "$T/putty/$f"
done

# ------------------------------------------------------------------------------------ OpenPGP
GPGHOME=$(mktemp -d /tmp/kwgpg.XXXXXX)   # short path: the agent's socket lives here
printf 's2k-count 65536\n' >"$GPGHOME/gpg-agent.conf"   # fast export protection
g() { gpg --homedir "$GPGHOME" --batch --quiet --pinentry-mode loopback "$@" 2>>"$W/gpg.log"; }
g --passphrase '' --quick-gen-key 'Keyward Test <plain@example.org>' rsa2048 default never
g --passphrase "$PW_PGP" --quick-gen-key 'Keyward Signer <signer@example.org>' ed25519 sign never
mkdir -p "$T/pgp"
g --armor --export-secret-keys plain@example.org >"$T/pgp/secring.asc"
g --passphrase "$PW_PGP" --armor --export-secret-keys signer@example.org >"$T/pgp/release-signer"
chmod 0600 "$T/pgp/release-signer"
grep -q 'BEGIN PGP PRIVATE KEY BLOCK' "$T/pgp/secring.asc" || die "gpg export failed"
grep -q 'BEGIN PGP PRIVATE KEY BLOCK' "$T/pgp/release-signer" || die "gpg export failed"
m pgp/secring.asc private_key pgp false rsa 2048 - -
m pgp/release-signer private_key pgp true ed25519 - - -
secret_file "$T/pgp/secring.asc"
secret_file "$T/pgp/release-signer"
cleanup
GPGHOME=""

# ------------------------------------------------------------------------------------ JWK, XML
$PY "$TOOL" jwk "$K/rsa2048.pem" --kid api-signing | write jwk/signing.json 0640
m jwk/signing.json private_key jwk false rsa 2048 - -
$PY "$TOOL" jwk "$K/ec256.pem" --kid es256 | write jwk/es256 0600
m jwk/es256 private_key jwk false ec 256 P-256 -
$PY "$TOOL" jwks --private "$K/ec384.pem" --public "$K/rsa2048.pem" | write jwk/jwks.json 0644
m jwk/jwks.json private_key jwk false ec 384 P-384 -
m jwk/jwks.json public_key jwk - rsa 2048 - -
$PY "$TOOL" xml-rsa "$K/rsa2048.pem" | write xml/license-key.xml 0644
m xml/license-key.xml private_key xml-rsa false rsa 2048 - -
$PY "$TOOL" xml-rsa --public "$K/rsa2048.pem" | write xml/public-key.xml 0644
decoy xml/public-key.xml
for f in jwk/signing.json jwk/es256 jwk/jwks.json xml/license-key.xml; do
  secret_file "$T/$f"
done

# ------------------------------------------------------------------------------------ certificates
cat >"$W/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[codesign]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:billing.example.org
[ca]
default_ca = CA_default
[CA_default]
dir = $W/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
organizationName = optional
EOF
: >"$W/ca/index.txt"
echo 1000 >"$W/ca/serial"
CNF=$W/openssl.cnf

ossl req -x509 -new -config "$CNF" -extensions v3_ca -key "$K/ca.pem" -sha256 -days 3650 \
  -subj '/O=Keyward Test/CN=Keyward Test Root CA' -out "$W/ca.crt"

# issue NAME KEY SUBJECT EXTENSIONS: a certificate from the test CA, valid now.
issue() {
  ossl req -new -config "$CNF" -key "$2" -subj "$3" -out "$W/$1.csr"
  ossl x509 -req -in "$W/$1.csr" -CA "$W/ca.crt" -CAkey "$K/ca.pem" \
    -set_serial "0x$(openssl rand -hex 12)" -days 730 -sha256 -extfile "$CNF" -extensions "$4" \
    -out "$W/$1.crt"
}

issue web "$K/web.pem" '/O=Keyward Test/CN=web.example.org' server
issue p12 "$K/p12.pem" '/O=Keyward Test/CN=billing.example.org' server
issue k8s "$K/k8s.pem" '/O=Keyward Test/CN=ingress.example.org' server

# Expired: openssl ca takes explicit start and end dates.
ossl req -new -config "$CNF" -key "$K/expired.pem" -subj '/O=Keyward Test/CN=old.example.org' \
  -out "$W/expired.csr"
ossl ca -config "$CNF" -batch -notext -cert "$W/ca.crt" -keyfile "$K/ca.pem" -extensions server \
  -startdate 20200101000000Z -enddate 20210101000000Z -in "$W/expired.csr" -out "$W/expired.crt"

wait "$pid_codesign" || die "RSA-3072 generation failed"
issue codesign "$K/codesign.pem" '/O=Keyward Test/CN=Keyward Release Signing' codesign
secret_file "$K/codesign.pem"

put "$W/ca.crt" certs/ca.crt 0644
m certs/ca.crt certificate pem-cert - ec 384 P-384 self_signed,ca
put "$W/codesign.crt" certs/release/signing.crt 0644
m certs/release/signing.crt certificate pem-cert - rsa 3072 - code_signing,paired
# Its key, far away and misleadingly named.
put "$K/codesign.pem" assets/img/logo-large.dat 0644
m assets/img/logo-large.dat private_key pem-pkcs8 false rsa 3072 - paired
put "$W/expired.crt" certs/old-server.pem 0644
m certs/old-server.pem certificate pem-cert - ec 256 P-256 expired
cat "$W/ca.crt" "$W/codesign.crt" "$W/expired.crt" | write certs/chain.pem 0644
m certs/chain.pem certificate pem-cert - ec 384 P-384 self_signed,ca
m certs/chain.pem certificate pem-cert - rsa 3072 - code_signing
m certs/chain.pem certificate pem-cert - ec 256 P-256 expired
ossl crl2pkcs7 -nocrl -certfile "$W/ca.crt" -certfile "$W/codesign.crt" -out "$W/chain.p7b"
put "$W/chain.p7b" certs/bundle.p7b 0644
m certs/bundle.p7b certificate pkcs7 - ec 384 P-384 self_signed,ca
m certs/bundle.p7b certificate pkcs7 - rsa 3072 - code_signing
for f in certs/ca.crt certs/release/signing.crt certs/old-server.pem certs/chain.pem certs/bundle.p7b; do
  decoy "$f"
done

# Key + certificate in one file.
cat "$K/web.pkcs1" "$W/web.crt" | write pem/server-bundle.pem 0600
m pem/server-bundle.pem private_key pem-pkcs1 false rsa 2048 - paired
m pem/server-bundle.pem certificate pem-cert - rsa 2048 - paired

# PKCS#12 export read back with -nodes: "Bag Attributes" preambles before each block.
ossl pkcs12 -export -inkey "$K/p12.pem" -in "$W/p12.crt" -certfile "$W/ca.crt" -name billing \
  -passout "pass:$PW_P12" -out "$W/billing.p12"
ossl pkcs12 -in "$W/billing.p12" -nodes -passin "pass:$PW_P12" | write pem/exported.txt 0640
grep -q 'Bag Attributes' "$T/pem/exported.txt" || die "pkcs12 -nodes output has no Bag Attributes"
m pem/exported.txt private_key pem-pkcs8 false ec 256 P-256 paired
m pem/exported.txt certificate pem-cert - ec 256 P-256 paired
m pem/exported.txt certificate pem-cert - ec 384 P-384 self_signed,ca

# ------------------------------------------------------------------------------------ slow keys
wait "$pid_rsa4096" || die "RSA-4096 generation failed"
trad "$K/rsa4096.pem" "$K/rsa4096.pkcs1"
p8enc "$K/rsa4096.pem" "$K/rsa4096.p8enc" "$PW_P8"
secret_file "$K/rsa4096.pem"
secret_file "$K/rsa4096.pkcs1"
secret_file "$K/rsa4096.p8enc"
put "$K/rsa4096.pkcs1" pem/rsa4096.key 0600
m pem/rsa4096.key private_key pem-pkcs1 false rsa 4096 - -
put "$K/rsa4096.pem" pem/data/r4096 0644
m pem/data/r4096 private_key pem-pkcs8 false rsa 4096 - -
put "$K/rsa4096.p8enc" pem/enc/backup.enc 0600
m pem/enc/backup.enc private_key pem-pkcs8-encrypted true - - - -

wait "$pid_dsa" || die "DSA generation failed"
trad "$K/dsa.pem" "$K/dsa.trad"
ossl dsa -in "$K/dsa.pem" -aes128 -passout "pass:$PW_LEGACY" -out "$K/dsa.legacy"
for f in dsa.pem dsa.trad dsa.legacy; do secret_file "$K/$f"; done
put "$K/dsa.trad" pem/dsa-trad 0600
m pem/dsa-trad private_key pem-dsa false dsa 2048 - -
put "$K/dsa.pem" pem/dsa.p8 0640
m pem/dsa.p8 private_key pem-pkcs8 false dsa 2048 - -
put "$K/dsa.legacy" pem/enc/dsa-legacy 0600
m pem/enc/dsa-legacy private_key pem-legacy-encrypted true dsa - - -

# ------------------------------------------------------------------------------------ embedded
# JSON string with \n escapes.
$PY "$TOOL" embed --style json --name private_key "$K/ec384.sec1" | write embedded/appsettings.json 0644
m embedded/appsettings.json private_key pem-sec1 false ec 384 P-384 -
# Java string concatenation, one "...\n" + per PEM line.
p8 "$K/rsa1024.pem" "$K/rsa1024.p8"
secret_file "$K/rsa1024.p8"
$PY "$TOOL" embed --style java --name SIGNING_KEY "$K/rsa1024.p8" | write embedded/src/KeyHolder.java 0644
m embedded/src/KeyHolder.java private_key pem-pkcs8 false rsa 1024 - -
# YAML block scalar.
$PY "$TOOL" embed --style yaml --name key "$K/rsa2048.pkcs1" | write embedded/values.yaml 0644
m embedded/values.yaml private_key pem-pkcs1 false rsa 2048 - -
# .env value with \n escapes.
$PY "$TOOL" embed --style env --name TLS_PRIVATE_KEY "$K/ec256.sec1" | write embedded/.env 0600
m embedded/.env private_key pem-sec1 false ec 256 P-256 -
# Kubernetes Secret: base64 of the whole PEM on one line.
K8S_KEY_B64=$($PY "$TOOL" embed --style base64 "$K/k8s.pem")
K8S_CRT_B64=$($PY "$TOOL" embed --style base64 "$W/k8s.crt")
secret_str "$K8S_KEY_B64"
write embedded/k8s/ingress-tls.yaml 0644 <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: ingress-tls
  namespace: web
type: kubernetes.io/tls
data:
  tls.crt: $K8S_CRT_B64
  tls.key: $K8S_KEY_B64
EOF
m embedded/k8s/ingress-tls.yaml private_key pem-pkcs8 false ec 256 P-256 paired
m embedded/k8s/ingress-tls.yaml certificate pem-cert - ec 256 P-256 paired
# A PEM key inside a binary: an ELF with random bytes before and after.
{
  cat /usr/bin/true
  head -c 3000 /dev/urandom
  cat "$K/dsa.trad"
  head -c 2000 /dev/urandom
} | write embedded/bin/agent 0755
m embedded/bin/agent private_key pem-dsa false dsa 2048 - -

# ------------------------------------------------------------------------------------ decoys
mkdir -p "$T/decoys/docs"
ossl pkey -in "$K/rsa2048.pem" -pubout | write decoys/public.pem 0644
m decoys/public.pem public_key pem-public-key - rsa 2048 - -
decoy decoys/public.pem
ossl req -new -config "$CNF" -key "$K/ec256.pem" -subj '/O=Keyward Test/CN=csr.example.org' \
  | write decoys/request.csr 0644
m decoys/request.csr public_key pem-csr - ec 256 P-256 -
decoy decoys/request.csr

printf -- '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n' \
  | write decoys/placeholder.pem 0644
decoy decoys/placeholder.pem

write decoys/README.md 0644 <<'EOF'
# Deploy keys

Never commit a file that starts with `-----BEGIN RSA PRIVATE KEY-----` or
-----BEGIN OPENSSH PRIVATE KEY----- to this repository. Keys go to the vault; the
line -----BEGIN PRIVATE KEY----- in a diff means someone made a mistake.
-----BEGIN EC PRIVATE KEY----- is the SEC1 header, for reference.
EOF
decoy decoys/README.md

# Truncated: the first half of a real key's lines, then END.
n=$(wc -l <"$K/rsa4096.pkcs1")
{ head -n $((n / 2)) "$K/rsa4096.pkcs1"; echo '-----END RSA PRIVATE KEY-----'; } \
  | write decoys/truncated.pem 0644
decoy decoys/truncated.pem

# Garbled: valid base64 of random bytes between real labels.
{
  echo '-----BEGIN RSA PRIVATE KEY-----'
  head -c 1190 /dev/urandom | base64 -w 64
  echo '-----END RSA PRIVATE KEY-----'
} | write decoys/garbled.pem 0644
decoy decoys/garbled.pem

# No END line.
grep -v -- '-----END' "$K/rsa1024.pkcs1" | write decoys/noend.pem 0644
decoy decoys/noend.pem

# A binary with only the bare label.
{
  head -c 4096 /dev/urandom
  printf -- '-----BEGIN RSA PRIVATE KEY-----'
  head -c 4096 /dev/urandom
} | write decoys/label.bin 0644
decoy decoys/label.bin

write decoys/docs/ssh-setup.md 0644 <<'EOF'
# SSH setup

Paste your key into `~/.ssh/id_ed25519`:

```
-----BEGIN OPENSSH PRIVATE KEY-----
<your key here>
-----END OPENSSH PRIVATE KEY-----
```
EOF
decoy decoys/docs/ssh-setup.md

# ------------------------------------------------------------------------------------ finish
# Every private-key file in the tree is a secret source too (covers anything missed above).
while IFS=$'\t' read -r rel kind _; do
  if [[ $kind == private_key ]]; then secret_file "$T/$rel"; fi
done <"$MANIFEST"
{
  sort -u "$SECRET_FILES" | xargs -d '\n' "$PY" "$TOOL" secrets
  cat "$SECRET_EXTRA"
} | awk 'length($0) > 0 && !seen[$0]++' >"$W/secrets.txt"
[[ $(wc -l <"$W/secrets.txt") -gt 100 ]] || die "too few secrets collected"

# Sanity checks with the real tools: each file is what its manifest line says it is.
ossl pkey -in "$T/pem/blob1" -noout
ossl pkey -in "$T/pem/crlf/windows.txt" -noout
ossl pkey -in "$T/pem/enc/backup.enc" -passin "pass:$PW_P8" -noout
ossl pkey -in "$T/pem/enc/server.key" -passin "pass:$PW_LEGACY" -noout
ssh-keygen -y -P "$PW_SSH" -f "$T/ssh/deploy" >/dev/null
puttygen "$T/putty/laptop" --old-passphrase "$W/ppk.pass" -l >/dev/null
ossl verify -CAfile "$W/ca.crt" "$W/codesign.crt" >/dev/null
ossl x509 -in "$T/certs/old-server.pem" -noout -checkend 0 >/dev/null && die "expired cert is not expired"
[[ $(ossl pkcs7 -in "$T/certs/bundle.p7b" -print_certs | grep -c 'BEGIN CERTIFICATE') == 2 ]] \
  || die "PKCS#7 bundle does not hold 2 certificates"

mv "$W/manifest.tsv" "$OUT/manifest.tsv"
mv "$W/decoys.txt" "$OUT/decoys.txt"
mv "$W/secrets.txt" "$OUT/secrets.txt"
echo "$VERSION $(wc -l <"$OUT/manifest.tsv")" >"$OUT/.complete"
