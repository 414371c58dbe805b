// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for parse_gpg_key_file (GnuPG private-keys-v1.d key files, canonical and
// extended format), declared in scanner/src/detectors/binary.hpp.
// Build with clang -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON).
#include "detectors/binary.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)keyward::scanner::detail::parse_gpg_key_file(std::span<const std::uint8_t>(data, size));
  return 0;
}
