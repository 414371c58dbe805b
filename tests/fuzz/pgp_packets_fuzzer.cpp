// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for parse_pgp_packets (binary OpenPGP packets), declared in scanner/src/detectors/parsers.hpp.
// Build with clang -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON).
#include "detectors/parsers.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)keyward::scanner::detail::parse_pgp_packets(std::span<const std::uint8_t>(data, size));
  return 0;
}
