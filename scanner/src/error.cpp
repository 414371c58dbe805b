// SPDX-License-Identifier: Apache-2.0
#include <keyward/scanner/error.hpp>

#include <string>

namespace keyward::scanner {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"  // boost's category has a protected non-virtual dtor
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "keyward.scanner"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok:
        return "ok";
      case Errc::truncated:
        return "truncated";
      case Errc::bad_magic:
        return "bad magic";
      case Errc::bad_encoding:
        return "bad encoding";
      case Errc::bad_structure:
        return "bad structure";
      case Errc::unsupported:
        return "unsupported";
      case Errc::not_private:
        return "not a private key";
      case Errc::too_large:
        return "too large";
      case Errc::crypto_error:
        return "rejected by OpenSSL";
    }
    return "unknown";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& scanner_category() noexcept {
  static const Category c;
  return c;
}

}  // namespace keyward::scanner
