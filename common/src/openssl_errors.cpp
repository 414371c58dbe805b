// SPDX-License-Identifier: Apache-2.0
// The OpenSSL error queue as one line (ERR_get_error, ERR_error_string_n).
#include <keyward/common/openssl_errors.hpp>

#include <openssl/err.h>

namespace keyward::common {

std::string drain_openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace keyward::common
