// SPDX-License-Identifier: Apache-2.0
// Token secrets from the OpenSSL DRBG (ids and digests are keyward::common's).
#include "store/secrets.hpp"

#include <keyward/collector/store.hpp>

#include <keyward/common/base64.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

namespace keyward::collector::detail {

std::string new_secret(std::string_view prefix) {
  std::array<unsigned char, 32> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
    throw StoreError("the random generator failed (RAND_bytes)");
  // RFC 4648 section 5, without padding: 32 bytes -> 43 characters.
  std::string encoded = common::base64url_encode(std::span<const std::uint8_t>(b.data(), b.size()));
  std::string out = std::string(prefix) + encoded;
  OPENSSL_cleanse(encoded.data(), encoded.size());
  // Wipe the raw bytes: only the caller keeps the secret.
  OPENSSL_cleanse(b.data(), b.size());
  return out;
}

}  // namespace keyward::collector::detail
