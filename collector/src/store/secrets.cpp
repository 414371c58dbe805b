// Random ids, token secrets and SHA-256 digests (OpenSSL).
#include "store/secrets.hpp"

#include <keyward/collector/store.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

namespace keyward::collector::detail {
namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 0xf];
  }
  return out;
}

void random_bytes(unsigned char* p, std::size_t n) {
  if (RAND_bytes(p, static_cast<int>(n)) != 1) throw StoreError("the random generator failed (RAND_bytes)");
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw StoreError("SHA-256 failed");
  return hex(md.data(), len);
}

std::string random_hex(std::size_t n) {
  std::string buf(n, '\0');
  random_bytes(reinterpret_cast<unsigned char*>(buf.data()), n);
  return hex(reinterpret_cast<const unsigned char*>(buf.data()), n);
}

std::string new_secret(std::string_view prefix) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<unsigned char, 32> b{};
  random_bytes(b.data(), b.size());
  std::string out(prefix);
  // RFC 4648 section 5, without padding: 32 bytes -> 43 characters.
  std::size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const unsigned v = (unsigned{b[i]} << 16) | (unsigned{b[i + 1]} << 8) | b[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = b.size() - i;  // 2 for 32 bytes
  if (rest == 2) {
    const unsigned v = (unsigned{b[i]} << 16) | (unsigned{b[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  } else if (rest == 1) {
    const unsigned v = unsigned{b[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  }
  // Wipe the raw bytes: only the caller keeps the secret.
  OPENSSL_cleanse(b.data(), b.size());
  return out;
}

}  // namespace keyward::collector::detail
