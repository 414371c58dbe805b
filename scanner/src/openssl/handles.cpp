#include "openssl/handles.hpp"

#include <openssl/sha.h>

namespace keyward::scanner::detail {

std::string drain_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : "unknown OpenSSL error";
  }
  return out;
}

int no_password_cb(char*, int, int, void*) { return -1; }

std::string sha256_raw(std::span<const unsigned char> data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

std::string sha256_hex(std::span<const unsigned char> data) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), md);
  std::string out;
  out.reserve(64);
  for (unsigned char c : md) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace keyward::scanner::detail
