# SPDX-License-Identifier: Apache-2.0
# Build options shared by every target: warnings, sanitizers, tests, fuzzers.
option(KEYWARD_BUILD_TESTS "Build the doctest suites and register the integration tests" ON)
option(KEYWARD_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(KEYWARD_BUILD_FUZZERS "Build libFuzzer targets (needs clang)" OFF)
option(KEYWARD_WERROR "Treat warnings as errors" OFF)
option(KEYWARD_BUILD_BENCH "Build the Google Benchmark micro benchmarks (bench/)" ON)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

add_library(keyward_warnings INTERFACE)
target_compile_options(keyward_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                       -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2)
if(KEYWARD_WERROR)
  target_compile_options(keyward_warnings INTERFACE -Werror)
endif()

if(KEYWARD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(KEYWARD_BUILD_FUZZERS)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
# clang < 17 cannot emit -fsanitize=function's prologue for C++20 coroutines (Asio/Beast in the
# collector's server and the agent's TLS client): "Cannot represent a difference across sections"
# (llvm/llvm-project#54153). Every other UBSan check stays on.
if((KEYWARD_SANITIZE OR KEYWARD_BUILD_FUZZERS) AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 17)
  add_compile_options(-fno-sanitize=function)
endif()
