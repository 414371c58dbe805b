// SPDX-License-Identifier: Apache-2.0
#include "openssl/cert_info.hpp"

#include "encoding.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace keyward::scanner::detail {
namespace {

std::string name_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return {};
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::int64_t time_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return {};
  char* h = BN_bn2hex(bn.get());
  if (h == nullptr) return {};
  std::string out(h);
  OPENSSL_free(h);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void key_usages(X509* cert, std::vector<std::string>& out) {
  const uint32_t ku = X509_get_key_usage(cert);
  if (ku == UINT32_MAX) return;  // extension absent
  struct Bit {
    uint32_t bit;
    const char* name;
  };
  static constexpr Bit kBits[] = {
      {KU_DIGITAL_SIGNATURE, "digitalSignature"},
      {KU_NON_REPUDIATION, "nonRepudiation"},
      {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
      {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
      {KU_KEY_AGREEMENT, "keyAgreement"},
      {KU_KEY_CERT_SIGN, "keyCertSign"},
      {KU_CRL_SIGN, "cRLSign"},
      {KU_ENCIPHER_ONLY, "encipherOnly"},
      {KU_DECIPHER_ONLY, "decipherOnly"},
  };
  for (const auto& b : kBits)
    if (ku & b.bit) out.emplace_back(b.name);
}

void extended_key_usages(X509* cert, std::vector<std::string>& out) {
  auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr));
  if (eku == nullptr) return;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
    const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(eku, i);
    const int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef) {
      out.emplace_back(OBJ_nid2sn(nid));
    } else {
      char buf[128];
      const int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
      if (n > 0) out.emplace_back(buf, static_cast<size_t>(std::min<int>(n, sizeof buf - 1)));
    }
  }
  sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
}

}  // namespace

CertFacts cert_facts(X509* cert) {
  CertFacts f;
  f.subject = name_string(X509_get_subject_name(cert));
  f.issuer = name_string(X509_get_issuer_name(cert));
  f.serial = serial_hex(X509_get0_serialNumber(cert));
  f.not_before = time_of(X509_get0_notBefore(cert));
  f.not_after = time_of(X509_get0_notAfter(cert));
  f.self_signed = X509_self_signed(cert, 1) == 1;
  f.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
  key_usages(cert, f.key_usage);
  extended_key_usages(cert, f.extended_key_usage);
  const int sig_nid = X509_get_signature_nid(cert);
  if (sig_nid != NID_undef) f.signature_algorithm = OBJ_nid2ln(sig_nid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, sha256(), md, &md_len) == 1) f.sha256 = hex(std::span<const unsigned char>(md, md_len));
  if (EVP_PKEY* pub = X509_get0_pubkey(cert)) {
    KeyFacts k;
    fill_key_facts(pub, k);
    f.spki_sha256 = k.spki_sha256;
    f.key_algorithm = k.algorithm;
    f.key_bits = k.bits;
    f.key_curve = k.curve;
  }
  // The certificate itself, for the rules' chain checks (publicly-trusted).
  if (const int n = i2d_X509(cert, nullptr); n > 0) {
    f.der.resize(static_cast<std::size_t>(n));
    auto* p = reinterpret_cast<unsigned char*>(f.der.data());
    if (i2d_X509(cert, &p) != n) f.der.clear();
  }
  ERR_clear_error();
  return f;
}

}  // namespace keyward::scanner::detail
