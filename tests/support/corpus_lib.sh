# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the corpus generators (make_corpus.sh, make_store_corpus.sh): sourced, not
# run. Each generator sets T (the tree), DECOYS, SECRET_FILES and SECRET_EXTRA, and its own m()
# (the manifest columns differ) before using these.

# decoy RELPATH: a file that must yield no private_key finding.
decoy() {
  [[ -e $T/$1 ]] || die "decoy: $1 does not exist"
  printf '%s\n' "$1" >>"$DECOYS"
}

# put SRC RELPATH MODE: copies a file into the tree with a deliberate mode.
put() {
  mkdir -p "$(dirname "$T/$2")"
  cp "$1" "$T/$2"
  chmod "$3" "$T/$2"
}

# write RELPATH MODE < content: writes stdin into the tree.
write() {
  mkdir -p "$(dirname "$T/$1")"
  cat >"$T/$1"
  chmod "$2" "$T/$1"
}

# secret_file PATH...: files whose private-key body lines go to secrets.txt.
secret_file() { printf '%s\n' "$@" >>"$SECRET_FILES"; }
# secret_str STRING: a passphrase or other string for secrets.txt.
secret_str() { printf '%s\n' "$1" >>"$SECRET_EXTRA"; }
