// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for parse_pkcs12 (PKCS#12 / PFX), declared in scanner/src/detectors/binary.hpp.
// Tries the empty password and one word, so the MAC check and the decryption paths both run.
// Build with clang -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON).
#include "detectors/binary.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::scanner::detail;
  static const PasswordSet passwords = [] {
    PasswordSet set;
    set.candidates.push_back({keyward::common::SecretBytes(), ""});
    set.candidates.push_back({keyward::common::SecretBytes::copy_of("changeit"), ""});
    return set;
  }();
  (void)parse_pkcs12(std::span<const std::uint8_t>(data, size), passwords);
  return 0;
}
