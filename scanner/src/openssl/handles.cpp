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

namespace {

const EVP_MD* fetched(const char* name, const EVP_MD* legacy) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md != nullptr ? md : legacy;
}

// SHA-256 into md (SHA256_DIGEST_LENGTH bytes) with the fetched implementation.
void sha256_into(std::span<const unsigned char> data, unsigned char* md) {
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, sha256(), nullptr) != 1) SHA256(data.data(), data.size(), md);
}

}  // namespace

const EVP_MD* md5() {
  static const EVP_MD* const md = fetched("MD5", EVP_md5());
  return md;
}
const EVP_MD* sha1() {
  static const EVP_MD* const md = fetched("SHA1", EVP_sha1());
  return md;
}
const EVP_MD* sha256() {
  static const EVP_MD* const md = fetched("SHA256", EVP_sha256());
  return md;
}

std::string sha256_raw(std::span<const unsigned char> data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  sha256_into(data, md);
  return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

std::string sha256_hex(std::span<const unsigned char> data) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char md[SHA256_DIGEST_LENGTH];
  sha256_into(data, md);
  std::string out;
  out.reserve(64);
  for (unsigned char c : md) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace keyward::scanner::detail
