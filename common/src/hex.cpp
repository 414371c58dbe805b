// SPDX-License-Identifier: Apache-2.0
// Hex and SHA-256 (OpenSSL EVP, with the SHA-256 implementation fetched once: sha256_md).
#include <keyward/common/hex.hpp>
#include <keyward/common/openssl_handles.hpp>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace keyward::common {
namespace {

void sha256_into(std::span<const std::uint8_t> data, unsigned char* md) {
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, sha256_md(), nullptr) != 1 || len != SHA256_DIGEST_LENGTH)
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

const EVP_MD* sha256_md() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

std::string to_hex(std::span<const std::uint8_t> data, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out(data.size() * 2, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

std::string to_hex(std::string_view data, bool upper) { return to_hex(bytes_of(data), upper); }

std::string sha256_hex(std::span<const std::uint8_t> data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  sha256_into(data, md);
  return to_hex(std::span<const std::uint8_t>(md, sizeof md));
}

std::string sha256_hex(std::string_view data) { return sha256_hex(bytes_of(data)); }

std::string sha256_raw(std::span<const std::uint8_t> data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  sha256_into(data, md);
  return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

}  // namespace keyward::common
