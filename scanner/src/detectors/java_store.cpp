// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the Java-side key store readers (java_store.hpp).
#include "detectors/java_store.hpp"

#include "openssl/cert_info.hpp"
#include "openssl/key_info.hpp"

#include <openssl/x509.h>

#include <algorithm>
#include <limits>

namespace keyward::scanner::detail {

SecretBytes utf16be(std::string_view s) {
  SecretBytes out(2 * s.size());
  std::size_t n = 0;
  auto put = [&](std::uint32_t unit) {
    out.data()[n++] = static_cast<std::uint8_t>(unit >> 8);
    out.data()[n++] = static_cast<std::uint8_t>(unit);
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
      cp = b0 & 0x1fu;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      cp = b0 & 0x0fu;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      cp = b0 & 0x07u;
    }
    bool valid = len > 0 && s.size() - i >= len;
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) valid = false;
      else cp = (cp << 6) | (b & 0x3fu);
    }
    if (valid &&
        ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
      valid = false;
    if (!valid) {  // ASCII, or a byte that is not UTF-8: one char
      put(b0);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {  // a surrogate pair, as Java's String holds it
      cp -= 0x10000;
      put(0xd800 + (cp >> 10));
      put(0xdc00 + (cp & 0x3ff));
    } else {
      put(cp);
    }
    i += len;
  }
  out.resize(n);
  return out;
}

SecretBytes pkcs12_password_bytes(std::string_view s) {
  SecretBytes out = utf16be(s);
  if (!s.empty()) {
    out.push_back(0);
    out.push_back(0);
  }
  return out;
}

bool read_java_utf(Reader& r, std::string_view& out) {
  std::uint16_t len = 0;
  std::span<const std::uint8_t> b;
  if (!r.u16(len) || !r.bytes(len, b)) return false;
  out = std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
  return true;
}

Result<std::span<const std::uint8_t>> read_java_blob(Reader& r) {
  std::uint32_t len = 0;
  if (!r.u32(len)) return make_error_code(Errc::truncated);
  if (len > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
    return make_error_code(Errc::bad_structure);
  if (len > kMaxJavaBlob) return make_error_code(Errc::too_large);
  std::span<const std::uint8_t> out;
  if (!r.bytes(len, out)) return make_error_code(Errc::truncated);
  return out;
}

std::optional<CertFacts> der_certificate_facts(std::span<const std::uint8_t> der, KeyFacts* key) {
  clear_errors();
  const unsigned char* p = der.data();
  common::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    drain_errors();
    return std::nullopt;
  }
  CertFacts facts = cert_facts(cert.get());
  if (key != nullptr) fill_key_facts(X509_get0_pubkey(cert.get()), *key);
  drain_errors();
  return facts;
}

common::PkeyPtr pkcs8_key(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  common::P8InfoPtr p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  if (!p8 || p != der.data() + der.size()) return nullptr;
  return common::PkeyPtr(EVP_PKCS82PKEY(p8.get()));
}

void add_distinct(std::vector<std::string>& list, std::string_view value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.emplace_back(value);
}

void add_distinct(std::vector<Protection>& list, const Protection& p) {
  for (const auto& q : list)
    if (q.cipher == p.cipher && q.kdf == p.kdf && q.kdf_iterations == p.kdf_iterations) return;
  list.push_back(p);
}

std::string store_identity(const Finding& f, std::span<const std::uint8_t> data) {
  std::vector<std::string> spkis;
  for (const auto& e : f.entries)
    if (e.kind == Kind::private_key && e.key && !e.key->spki_sha256.empty()) spkis.push_back(e.key->spki_sha256);
  if (spkis.empty()) return "blob:" + sha256_hex(data);
  std::sort(spkis.begin(), spkis.end());
  std::string id;
  for (const auto& s : spkis) {
    if (!id.empty()) id.push_back(',');
    id.append(s);
  }
  return id;
}

bool no_key_entries(const Finding& f) {
  return std::none_of(f.entries.begin(), f.entries.end(),
                      [](const StoreEntry& e) { return e.kind == Kind::private_key; });
}

}  // namespace keyward::scanner::detail
