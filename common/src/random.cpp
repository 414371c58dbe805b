// SPDX-License-Identifier: Apache-2.0
// Random hex ids from RAND_bytes.
#include <keyward/common/random.hpp>

#include <keyward/common/hex.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <climits>
#include <stdexcept>
#include <vector>

namespace keyward::common {

std::string random_hex(std::size_t n_bytes) {
  if (n_bytes > static_cast<std::size_t>(INT_MAX)) throw std::runtime_error("random_hex: too many bytes asked");
  std::vector<std::uint8_t> raw(n_bytes);
  if (n_bytes != 0 && RAND_bytes(raw.data(), static_cast<int>(n_bytes)) != 1)
    throw std::runtime_error("the OpenSSL random generator failed (RAND_bytes)");
  std::string out = to_hex(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

}  // namespace keyward::common
