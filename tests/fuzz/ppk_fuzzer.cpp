// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for parse_ppk (PuTTY PPK v2/v3 text), declared in scanner/src/detectors/parsers.hpp.
// Build with clang -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON).
#include "detectors/parsers.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)keyward::scanner::detail::parse_ppk(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
