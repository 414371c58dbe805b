#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# install-deps.sh [--print] [ROLE...]: installs the Debian packages a job needs, if any is missing.
#
# Roles (CONTRIBUTING.md, "Build"):
#   run      the programs the demo and `keyward` call at run time (openssl, git, ssh-keygen, zip,
#            curl, SoftHSM2)
#   build    compilers, CMake and the -dev libraries (what `make build` and `make demo` need)
#   test     build + run + every tool the suite starts for real: sshd, PostgreSQL, SoftHSM2, a JDK,
#            chromium and npm, gpg, putty, and the packaging tools of the package test
#   fuzz     build + clang with libFuzzer and its sanitizer runtimes
#   package  build + what CPack's Debian generator needs (dpkg-shlibdeps, file)
# With no role: build and test.  --print lists the packages resolved for this release and exits.
#
# Package names differ between Debian releases (Boost 1.81 on Debian 12 and 1.83 on Debian 13,
# clang 14 and 19, ...). They are resolved by asking apt what this machine can install, never from
# a table of release names: Boost is the release's default when it has Boost.URL (else the newest
# version with it, >= 1.81: Debian 12's default 1.74 has none) and the libFuzzer
# runtime is the one of the version `clang` depends on. One already installed is kept.
# Idempotent and quiet when everything is there. Needs root (or sudo) only when installing.
set -euo pipefail

print_only=0
roles=()
for arg in "$@"; do
  case "$arg" in
    --print) print_only=1 ;;
    run | build | test | fuzz | package) roles+=("$arg") ;;
    -h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown role '$arg' (roles: run build test fuzz package)" >&2; exit 2 ;;
  esac
done
((${#roles[@]})) || roles=(build test)

sudo=""
as_root() {
  if [[ $(id -u) -ne 0 && -z $sudo ]]; then
    command -v sudo >/dev/null || { echo "install-deps.sh: run as root or install sudo to install: $*" >&2; exit 2; }
    sudo="sudo"
  fi
  $sudo "$@"
}
installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]; }
# An apt that has never been updated (a fresh root) knows no package: update it once.
lists_updated=0
update_lists() {
  ((lists_updated)) && return 0
  as_root apt-get update -qq
  lists_updated=1
}
available() { [[ -n $(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)') ]]; }

# The Boost version: the installed one with Boost.URL, else the newest apt offers at 1.81 or later.
boost_version() {
  local v
  v=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'libboost-url1.*-dev' 2>/dev/null |
      sed -n 's/^ii  *libboost-url\(1\.[0-9]*\)-dev$/\1/p' | sort -V | tail -1)
  # The release's default Boost (what libboost-url-dev points at), else the newest offered.
  [[ -n $v ]] || v=$(apt-cache depends libboost-url-dev 2>/dev/null |
                     sed -n 's/^ *Depends: libboost-url\(1\.[0-9]*\)-dev$/\1/p' | head -1)
  if [[ -z $v ]]; then
    v=$(apt-cache pkgnames libboost-url1. 2>/dev/null | sed -n 's/^libboost-url\(1\.[0-9]*\)-dev$/\1/p' |
        sort -V | tail -1)
  fi
  [[ -n $v && $(printf '%s\n' 1.81 "$v" | sort -V | head -1) == 1.81 ]] && echo "$v"
}
# The clang major version that the `clang` package of this release depends on.
clang_version() {
  apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -1
}

resolve() {
  boost=$(boost_version || true)
  clang_major=$(clang_version || true)
}
resolve
if [[ -z $boost || -z $clang_major ]]; then
  update_lists
  resolve
fi
[[ -n $boost ]] || { echo "install-deps.sh: apt offers no libboost-url1.NN-dev at 1.81 or later" >&2; exit 2; }

run=(openssl ca-certificates git openssh-client zip unzip curl softhsm2)  # demo.sh: curl for the API, SoftHSM2 for the migration
build=(
  build-essential cmake ninja-build pkg-config
  libssl-dev "libboost$boost-dev" "libboost-filesystem$boost-dev" "libboost-url$boost-dev" libfmt-dev
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libarchive-dev libdeflate-dev libvectorscan-dev libgit2-dev
  libssh-dev libsqlite3-dev libpq-dev zlib1g-dev libp11-kit-dev
  doctest-dev libbenchmark-dev python3  # the default build also compiles the suite and the benchmarks
)
package=(dpkg-dev file)
test=(
  openssh-server putty-tools gnupg zstd xz-utils bzip2 default-jdk-headless libbcprov-java
  python3-jsonschema python3-yaml python3-cryptography ripgrep sqlite3 universal-ctags
  postgresql  # the PostgreSQL store; its tests start a throw-away cluster
  softhsm2 opensc curl
  cpio rpm    # cpio archives and .rpm packages (rpmbuild) are made at test time
  chromium    # browser tests (HTML report, dashboard), driven by playwright-core from npm
  man-db bash-completion  # the package test reads the man pages and loads the completion
  zsh         # the zsh completion scripts are parsed and driven by a TAB (docs.completion.zsh)
)
# npm for the browser tests' packages (tests/browser/package-lock.json). A node that already
# brings its own npm (e.g. another vendor's nodejs package) is kept: Debian's npm would conflict.
command -v npm >/dev/null || test+=(nodejs npm)

packages=()
for role in "${roles[@]}"; do
  case "$role" in
    run) packages+=("${run[@]}") ;;
    build) packages+=("${build[@]}") ;;
    package) packages+=("${build[@]}" "${package[@]}") ;;
    test) packages+=("${build[@]}" "${run[@]}" "${package[@]}" "${test[@]}") ;;
    fuzz)
      [[ -n $clang_major ]] || { echo "install-deps.sh: apt offers no clang package" >&2; exit 2; }
      packages+=("${build[@]}" clang "libfuzzer-$clang_major-dev" "libclang-rt-$clang_major-dev") ;;
  esac
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | awk '!seen[$0]++')
if ((print_only)); then printf '%s\n' "${packages[@]}"; exit 0; fi

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
((${#missing[@]} == 0)) && exit 0

echo "keyward: installing missing packages for ${roles[*]}: ${missing[*]}"
update_lists
unknown=()
for p in "${missing[@]}"; do available "$p" || unknown+=("$p"); done
if ((${#unknown[@]})); then
  echo "install-deps.sh: this release's apt has no candidate for: ${unknown[*]}" >&2
  echo "install-deps.sh: check /etc/apt/sources.list* (the main component is needed)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
