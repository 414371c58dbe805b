// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for parse_jks (JKS/JCEKS), declared in scanner/src/detectors/binary.hpp, with
// one short password so the integrity check and the key decryption paths run too.
// Build with clang -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON).
#include "detectors/binary.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const keyward::scanner::detail::PasswordSet passwords = [] {
    keyward::scanner::detail::PasswordSet set;
    set.candidates.push_back({keyward::common::SecretBytes::copy_of("changeit"), ""});
    set.max_time = std::chrono::milliseconds(20);
    return set;
  }();
  (void)keyward::scanner::detail::parse_jks(std::span<const std::uint8_t>(data, size), passwords);
  return 0;
}
