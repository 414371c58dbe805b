#!/usr/bin/env bash
# Installs the Debian 12 packages keyward needs to build and test, if any is missing.
# Idempotent and quiet when everything is there. Needs root (or sudo) only when installing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git openssl ca-certificates
  libssl-dev libboost1.81-dev libboost-filesystem1.81-dev libboost-url1.81-dev libfmt-dev nlohmann-json3-dev
  doctest-dev libcli11-dev libyaml-cpp-dev libarchive-dev libdeflate-dev libvectorscan-dev libgit2-dev
  libssh-dev openssh-client openssh-server putty-tools gnupg zip unzip zstd xz-utils bzip2 default-jdk-headless libbcprov-java
  python3 python3-jsonschema python3-yaml python3-cryptography clang libfuzzer-14-dev libclang-rt-14-dev
  libbenchmark-dev ripgrep libsqlite3-dev zlib1g-dev sqlite3 universal-ctags
  libpq-dev postgresql  # the PostgreSQL store; its tests start a throw-away cluster
  libp11-kit-dev softhsm2 opensc curl
  cpio rpm  # tests: cpio archives and .rpm packages (rpmbuild) are made at test time
  chromium  # browser tests (HTML report, dashboard), driven by playwright-core from npm
)
# npm for the browser tests' packages (tests/browser/package-lock.json). A node that already
# brings its own npm (e.g. another vendor's nodejs package) is kept: Debian's npm would conflict.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "keyward: installing missing packages: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "keyward: run as root or install sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
