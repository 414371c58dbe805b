// SPDX-License-Identifier: Apache-2.0
#include "openssl/handles.hpp"

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

}  // namespace

const EVP_MD* md5() {
  static const EVP_MD* const md = fetched("MD5", EVP_md5());
  return md;
}
const EVP_MD* sha1() {
  static const EVP_MD* const md = fetched("SHA1", EVP_sha1());
  return md;
}
const EVP_MD* sha256() { return common::sha256_md(); }

}  // namespace keyward::scanner::detail
