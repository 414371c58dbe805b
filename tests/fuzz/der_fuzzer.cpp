// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for parse_der (whole-input DER keys, certificates, PKCS#7, public keys, CSRs),
// declared in scanner/src/detectors/binary.hpp.
// Build with clang -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON).
#include "detectors/binary.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)keyward::scanner::detail::parse_der(std::span<const std::uint8_t>(data, size));
  return 0;
}
