// SPDX-License-Identifier: Apache-2.0
#include <keyward/scanner/finding.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace keyward::scanner {
namespace {

constexpr std::array<std::pair<Kind, std::string_view>, 4> kKinds{{
    {Kind::private_key, "private_key"},
    {Kind::certificate, "certificate"},
    {Kind::keystore, "keystore"},
    {Kind::public_key, "public_key"},
}};

constexpr std::array<std::pair<Format, std::string_view>, 37> kFormats{{
    {Format::pem_pkcs1, "pem-pkcs1"},
    {Format::pem_sec1, "pem-sec1"},
    {Format::pem_dsa, "pem-dsa"},
    {Format::pem_pkcs8, "pem-pkcs8"},
    {Format::pem_pkcs8_encrypted, "pem-pkcs8-encrypted"},
    {Format::pem_legacy_encrypted, "pem-legacy-encrypted"},
    {Format::der_pkcs1, "der-pkcs1"},
    {Format::der_sec1, "der-sec1"},
    {Format::der_pkcs8, "der-pkcs8"},
    {Format::der_pkcs8_encrypted, "der-pkcs8-encrypted"},
    {Format::openssh, "openssh"},
    {Format::putty_ppk, "putty-ppk"},
    {Format::sshcom, "sshcom"},
    {Format::pgp, "pgp"},
    {Format::jwk, "jwk"},
    {Format::xml_rsa, "xml-rsa"},
    {Format::pkcs12, "pkcs12"},
    {Format::jks, "jks"},
    {Format::jceks, "jceks"},
    {Format::bks, "bks"},
    {Format::uber, "uber"},
    {Format::bcfks, "bcfks"},
    {Format::pvk, "pvk"},
    {Format::snk, "snk"},
    {Format::pkcs7, "pkcs7"},
    {Format::der_pkcs7, "der-pkcs7"},
    {Format::gpg_binary, "gpg-binary"},
    {Format::gpg_key_file, "gpg-key-file"},
    {Format::zip_encrypted, "zip-encrypted"},
    {Format::pem_cert, "pem-cert"},
    {Format::der_cert, "der-cert"},
    {Format::pem_public_key, "pem-public-key"},
    {Format::pem_csr, "pem-csr"},
    {Format::ssh_public_key, "ssh-public-key"},
    {Format::der_dsa, "der-dsa"},
    {Format::der_public_key, "der-public-key"},
    {Format::der_csr, "der-csr"},
}};

}  // namespace

std::string_view to_string(Kind k) noexcept {
  for (const auto& [v, s] : kKinds)
    if (v == k) return s;
  return "unknown";
}

std::string_view to_string(Format f) noexcept {
  for (const auto& [v, s] : kFormats)
    if (v == f) return s;
  return "unknown";
}

std::optional<Kind> kind_from_string(std::string_view s) noexcept {
  for (const auto& [v, n] : kKinds)
    if (n == s) return v;
  return std::nullopt;
}

std::optional<Format> format_from_string(std::string_view s) noexcept {
  for (const auto& [v, n] : kFormats)
    if (n == s) return v;
  return std::nullopt;
}

bool CertFacts::code_signing() const {
  return std::find(extended_key_usage.begin(), extended_key_usage.end(), "codeSigning") != extended_key_usage.end();
}

std::string Finding::spki() const {
  if (key && !key->spki_sha256.empty()) return key->spki_sha256;
  if (certificate && !certificate->spki_sha256.empty()) return certificate->spki_sha256;
  return {};
}

std::string Finding::key_identity() const {
  if (auto s = spki(); !s.empty()) return "spki:" + s;
  if (kind == Kind::keystore) {
    for (const auto& e : entries) {
      if (e.kind != Kind::private_key) continue;
      if (e.key && !e.key->spki_sha256.empty()) return "spki:" + e.key->spki_sha256;
      if (e.certificate && !e.certificate->spki_sha256.empty()) return "spki:" + e.certificate->spki_sha256;
    }
  }
  if (certificate && !certificate->sha256.empty()) return "cert:" + certificate->sha256;
  return "finding:" + id;
}

bool StoreFacts::contents_unknown() const {
  return std::find(contents.begin(), contents.end(), kStoreContentsEncrypted) != contents.end();
}

bool Finding::holds_private_key() const {
  if (kind == Kind::private_key) return true;
  if (kind == Kind::keystore)
    return std::any_of(entries.begin(), entries.end(), [](const StoreEntry& e) { return e.kind == Kind::private_key; });
  return false;
}

Finding::StoreCounts Finding::store_counts() const {
  StoreCounts n;
  std::size_t seen_certs = 0;
  for (const auto& e : entries) {
    if (e.secret_key()) ++n.secret_keys;
    else if (e.kind == Kind::private_key) ++n.private_keys;
    if (e.kind == Kind::certificate || e.certificate) ++seen_certs;
  }
  n.certificates = store && store->certificates != 0 ? store->certificates : seen_certs;
  return n;
}

bool Finding::holds_asymmetric_private_key() const {
  if (kind == Kind::private_key) return true;
  return std::any_of(entries.begin(), entries.end(),
                     [](const StoreEntry& e) { return e.kind == Kind::private_key && !e.secret_key(); });
}

}  // namespace keyward::scanner
