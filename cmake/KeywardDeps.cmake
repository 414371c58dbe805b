# SPDX-License-Identifier: Apache-2.0
# Every third-party dependency, found once. A missing one stops the configure step with the
# Debian package that provides it: nothing is dropped silently (CONTRIBUTING.md, "Build").
# `bash scripts/install-deps.sh` (or `make deps`) installs them all.

# keyward_find_package(<Name> <debian-package> [find_package arguments...])
macro(keyward_find_package name debian)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "keyward needs ${name}: install the Debian package(s) ${debian} "
                        "(`sudo apt-get install ${debian}`, or `make deps` for everything)")
  endif()
endmacro()

# keyward_pkg_check(<PREFIX> <pkg-config module> <debian-package>): an IMPORTED PkgConfig::<PREFIX>.
macro(keyward_pkg_check prefix module debian)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "keyward needs ${module} (pkg-config): install the Debian package(s) ${debian} "
                        "(`sudo apt-get install ${debian}`, or `make deps` for everything)")
  endif()
endmacro()

keyward_find_package(PkgConfig pkg-config)
keyward_find_package(Threads libc6-dev)
keyward_find_package(OpenSSL libssl-dev 3)
keyward_find_package(Boost "libboost1.NN-dev libboost-filesystem1.NN-dev libboost-url1.NN-dev (NN >= 81)" 1.81 COMPONENTS filesystem url)
keyward_find_package(fmt libfmt-dev)
keyward_find_package(nlohmann_json nlohmann-json3-dev)
keyward_find_package(CLI11 libcli11-dev)
keyward_find_package(yaml-cpp libyaml-cpp-dev)
keyward_find_package(LibArchive libarchive-dev)
keyward_find_package(SQLite3 libsqlite3-dev)
keyward_find_package(PostgreSQL libpq-dev)
keyward_find_package(ZLIB zlib1g-dev)
keyward_pkg_check(HS libhs libvectorscan-dev)
keyward_pkg_check(DEFLATE libdeflate libdeflate-dev)
keyward_pkg_check(GIT2 libgit2 libgit2-dev)
keyward_find_package(libssh libssh-dev CONFIG)
if(KEYWARD_BUILD_TESTS)
  keyward_find_package(doctest doctest-dev)
  keyward_find_package(Python3 python3 COMPONENTS Interpreter)
endif()
if(KEYWARD_BUILD_BENCH AND NOT KEYWARD_SANITIZE AND NOT KEYWARD_BUILD_FUZZERS)
  keyward_find_package(benchmark libbenchmark-dev)
endif()
