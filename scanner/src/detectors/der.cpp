// SPDX-License-Identifier: Apache-2.0
#include "detectors/der.hpp"

#include "detectors/binary.hpp"
#include "detectors/memo.hpp"
#include "openssl/cert_info.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <array>
#include <cctype>
#include <string>
#include <string_view>

namespace keyward::scanner::detail {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Finding make_key_finding(Format format, std::string_view rule) {
  Finding f;
  f.kind = Kind::private_key;
  f.format = format;
  f.rule = std::string(rule);
  f.key.emplace();
  return f;
}

namespace {

long length_of(Der der) { return static_cast<long>(der.size()); }

// True when OpenSSL's decoder stopped exactly at the end of the input (no trailing bytes).
bool strict_done(const unsigned char* p, Der der) { return p == der.data() + der.size(); }

// PKCS#5 v1.5 (RFC 8018 section 6.1) and PKCS#12 (RFC 7292 appendix C) password-based
// encryption schemes: the cipher they imply and the KDF that derives its key.
struct Pbes1 {
  int nid;
  std::string_view cipher;
  std::string_view kdf;
};
constexpr std::array<Pbes1, 12> kPbes1{{
    {NID_pbe_WithSHA1And128BitRC4, "rc4", "pkcs12-kdf-sha1"},
    {NID_pbe_WithSHA1And40BitRC4, "rc4-40", "pkcs12-kdf-sha1"},
    {NID_pbe_WithSHA1And3_Key_TripleDES_CBC, "des-ede3-cbc", "pkcs12-kdf-sha1"},
    {NID_pbe_WithSHA1And2_Key_TripleDES_CBC, "des-ede-cbc", "pkcs12-kdf-sha1"},
    {NID_pbe_WithSHA1And128BitRC2_CBC, "rc2-cbc", "pkcs12-kdf-sha1"},
    {NID_pbe_WithSHA1And40BitRC2_CBC, "rc2-40-cbc", "pkcs12-kdf-sha1"},
    {NID_pbeWithMD2AndDES_CBC, "des-cbc", "pbkdf1-md2"},
    {NID_pbeWithMD5AndDES_CBC, "des-cbc", "pbkdf1-md5"},
    {NID_pbeWithMD2AndRC2_CBC, "rc2-64-cbc", "pbkdf1-md2"},
    {NID_pbeWithMD5AndRC2_CBC, "rc2-64-cbc", "pbkdf1-md5"},
    {NID_pbeWithSHA1AndDES_CBC, "des-cbc", "pbkdf1-sha1"},
    {NID_pbeWithSHA1AndRC2_CBC, "rc2-64-cbc", "pbkdf1-sha1"},
}};

const Pbes1* find_pbes1(int nid) {
  for (const auto& p : kPbes1)
    if (p.nid == nid) return &p;
  return nullptr;
}

bool is_pbe(const X509_ALGOR* alg) {
  const int nid = OBJ_obj2nid(alg->algorithm);
  if (nid == NID_undef) return false;
  return nid == NID_pbes2 || find_pbes1(nid) != nullptr ||
         EVP_PBE_find(EVP_PBE_TYPE_OUTER, nid, nullptr, nullptr, nullptr) == 1;
}

std::vector<Finding> one(Finding f) {
  std::vector<Finding> v;
  v.push_back(std::move(f));
  return v;
}

// A DER (or BER, indefinite length) SEQUENCE at offset 0 whose encoded length covers the input.
bool spans_whole_input(Der der) {
  if (der.size() < 2 || der[0] != 0x30) return false;
  const unsigned char* p = der.data();
  long len = 0;
  int tag = 0;
  int cls = 0;
  const int ret = ASN1_get_object(&p, &len, &tag, &cls, length_of(der));
  if ((ret & 0x80) != 0) return false;
  if ((ret & 0x01) != 0) return true;  // indefinite length: the decoders check the end
  return len >= 0 && static_cast<std::size_t>(p - der.data()) + static_cast<std::size_t>(len) == der.size();
}

// The universal tags of the first two elements inside the outer SEQUENCE, read with OpenSSL's
// TLV reader. Only used to skip decoders that cannot match (each OpenSSL 3 key decoder costs
// hundreds of microseconds to set up); the decoders still validate everything. -1 when absent.
struct Shape {
  int first = -1;
  int second = -1;
};

Shape shape_of(Der der) {
  Shape s;
  const unsigned char* p = der.data();
  const unsigned char* const end = der.data() + der.size();
  long len = 0;
  int tag = 0;
  int cls = 0;
  if ((ASN1_get_object(&p, &len, &tag, &cls, length_of(der)) & 0x80) != 0) return s;
  for (int* out : {&s.first, &s.second}) {
    if (p >= end) break;
    const int ret = ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(end - p));
    if ((ret & 0x80) != 0 || cls != V_ASN1_UNIVERSAL) break;
    *out = tag;
    if ((ret & 0x01) != 0) break;  // indefinite length: the next element is not found by skipping
    if (len > end - p) break;
    p += len;
  }
  return s;
}

// Private-key algorithms OpenSSL 3.0 cannot load, by OID (NIST CSOR; FIPS 203, 204, 205).
struct OidName {
  std::string_view oid;
  std::string_view name;
};
constexpr std::array<OidName, 18> kPostQuantum{{
    {"2.16.840.1.101.3.4.3.17", "ml-dsa-44"},
    {"2.16.840.1.101.3.4.3.18", "ml-dsa-65"},
    {"2.16.840.1.101.3.4.3.19", "ml-dsa-87"},
    {"2.16.840.1.101.3.4.3.20", "slh-dsa-sha2-128s"},
    {"2.16.840.1.101.3.4.3.21", "slh-dsa-sha2-128f"},
    {"2.16.840.1.101.3.4.3.22", "slh-dsa-sha2-192s"},
    {"2.16.840.1.101.3.4.3.23", "slh-dsa-sha2-192f"},
    {"2.16.840.1.101.3.4.3.24", "slh-dsa-sha2-256s"},
    {"2.16.840.1.101.3.4.3.25", "slh-dsa-sha2-256f"},
    {"2.16.840.1.101.3.4.3.26", "slh-dsa-shake-128s"},
    {"2.16.840.1.101.3.4.3.27", "slh-dsa-shake-128f"},
    {"2.16.840.1.101.3.4.3.28", "slh-dsa-shake-192s"},
    {"2.16.840.1.101.3.4.3.29", "slh-dsa-shake-192f"},
    {"2.16.840.1.101.3.4.3.30", "slh-dsa-shake-256s"},
    {"2.16.840.1.101.3.4.3.31", "slh-dsa-shake-256f"},
    {"2.16.840.1.101.3.4.4.1", "ml-kem-512"},
    {"2.16.840.1.101.3.4.4.2", "ml-kem-768"},
    {"2.16.840.1.101.3.4.4.3", "ml-kem-1024"},
}};

// A PKCS#8 key OpenSSL parsed as ASN.1 but cannot load: a post-quantum key named by its
// algorithm OID (these algorithms take no parameters). Facts only: no bits, no SPKI (a v1
// PrivateKeyInfo carries no public key).
Result<Finding> pkcs8_by_oid(const PKCS8_PRIV_KEY_INFO* info, Format format) {
  const ASN1_OBJECT* oid = nullptr;
  const unsigned char* key = nullptr;
  int key_len = 0;
  const X509_ALGOR* alg = nullptr;
  if (PKCS8_pkey_get0(&oid, &key, &key_len, &alg, info) != 1 || oid == nullptr || key_len <= 0)
    return make_error_code(Errc::crypto_error);
  int param_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(nullptr, &param_type, nullptr, alg);
  if (param_type != V_ASN1_UNDEF) return make_error_code(Errc::crypto_error);
  std::array<char, 64> text{};
  const int n = OBJ_obj2txt(text.data(), static_cast<int>(text.size()), oid, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= text.size()) return make_error_code(Errc::crypto_error);
  const std::string_view dotted(text.data(), static_cast<std::size_t>(n));
  for (const auto& known : kPostQuantum) {
    if (known.oid != dotted) continue;
    Finding f = make_key_finding(format, "private-key/pkcs8");
    f.key->algorithm = std::string(known.name);
    return f;
  }
  return make_error_code(Errc::crypto_error);
}

}  // namespace

Result<Finding> der_traditional_key(Der der, int evp_type, Format format, std::string_view rule) {
  clear_errors();
  const unsigned char* p = der.data();
  PkeyPtr pkey(d2i_PrivateKey(evp_type, nullptr, &p, length_of(der)));
  if (!pkey || !strict_done(p, der)) return make_error_code(Errc::crypto_error);
  Finding f = make_key_finding(format, rule);
  fill_key_facts(pkey.get(), *f.key);
  return f;
}

Result<Finding> der_pkcs8_key(Der der, Format format) {
  clear_errors();
  const unsigned char* p = der.data();
  P8InfoPtr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, length_of(der)));
  if (!info || !strict_done(p, der)) return make_error_code(Errc::crypto_error);
  PkeyPtr pkey(EVP_PKCS82PKEY(info.get()));
  if (!pkey) return pkcs8_by_oid(info.get(), format);
  Finding f = make_key_finding(format, "private-key/pkcs8");
  fill_key_facts(pkey.get(), *f.key);
  return f;
}

Protection pkcs8_protection(const X509_ALGOR* alg) {
  Protection pr;
  if (alg == nullptr) return pr;
  const int nid = OBJ_obj2nid(alg->algorithm);
  if (nid == NID_pbes2) {
    auto* pbe2 = static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
    if (pbe2 != nullptr) {
      const int cnid = OBJ_obj2nid(pbe2->encryption->algorithm);
      pr.cipher = cnid != NID_undef ? lower(OBJ_nid2sn(cnid)) : "unknown";
      const int knid = OBJ_obj2nid(pbe2->keyfunc->algorithm);
      if (knid == NID_id_pbkdf2) {
        pr.kdf = "pbkdf2";
        auto* kdf =
            static_cast<PBKDF2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter));
        if (kdf != nullptr) {
          const long iter = ASN1_INTEGER_get(kdf->iter);
          if (iter > 0) pr.kdf_iterations = static_cast<std::uint64_t>(iter);
          PBKDF2PARAM_free(kdf);
        }
      } else if (knid == NID_id_scrypt) {
        pr.kdf = "scrypt";
      } else {
        pr.kdf = knid != NID_undef ? lower(OBJ_nid2sn(knid)) : "unknown";
      }
      PBE2PARAM_free(pbe2);
    }
    return pr;
  }
  if (const Pbes1* known = find_pbes1(nid)) {
    pr.cipher = std::string(known->cipher);
    pr.kdf = std::string(known->kdf);
  } else {
    pr.cipher = nid != NID_undef ? lower(OBJ_nid2sn(nid)) : "unknown";
    pr.kdf = "pbes1";
  }
  auto* pbe = static_cast<PBEPARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter));
  if (pbe != nullptr) {
    const long iter = ASN1_INTEGER_get(pbe->iter);
    if (iter > 0) pr.kdf_iterations = static_cast<std::uint64_t>(iter);
    PBEPARAM_free(pbe);
  }
  return pr;
}

Result<Finding> der_encrypted_pkcs8(Der der, Format format, bool require_pbe) {
  clear_errors();
  const unsigned char* p = der.data();
  X509SigPtr sig(d2i_X509_SIG(nullptr, &p, length_of(der)));
  if (!sig || !strict_done(p, der)) return make_error_code(Errc::crypto_error);
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* data = nullptr;
  X509_SIG_get0(sig.get(), &alg, &data);
  if (alg == nullptr || data == nullptr || ASN1_STRING_length(data) < 16) return make_error_code(Errc::bad_structure);
  if (require_pbe && !is_pbe(alg)) return make_error_code(Errc::unsupported);
  Finding f = make_key_finding(format, "private-key/pkcs8-encrypted");
  f.key->encrypted = true;
  f.key->protection = pkcs8_protection(alg);
  return f;
}

Result<Finding> der_certificate(Der der, bool trusted, Format format, FindingMemo* memo) {
  auto decode = [&]() -> Result<Finding> {
    clear_errors();
    const unsigned char* p = der.data();
    X509Ptr cert(trusted ? d2i_X509_AUX(nullptr, &p, length_of(der)) : d2i_X509(nullptr, &p, length_of(der)));
    if (!cert || !strict_done(p, der)) return make_error_code(Errc::crypto_error);
    Finding f;
    f.kind = Kind::certificate;
    f.format = format;
    f.rule = "certificate/x509";
    f.certificate = cert_facts(cert.get());
    return f;
  };
  if (memo == nullptr) return decode();
  // The facts are of the certificate alone (where it sits is filled later).
  std::string key = sha256_raw(der);
  key.push_back(trusted ? 't' : 'u');
  key.push_back(static_cast<char>(format));
  return memo->get(std::move(key), decode);
}

Result<std::vector<Finding>> der_pkcs7_certificates(Der der, Format format) {
  clear_errors();
  const unsigned char* p = der.data();
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, length_of(der)));
  if (!p7 || !strict_done(p, der)) return make_error_code(Errc::crypto_error);
  STACK_OF(X509)* certs = nullptr;
  const int type = OBJ_obj2nid(p7->type);
  if (type == NID_pkcs7_signed && p7->d.sign != nullptr) certs = p7->d.sign->cert;
  else if (type == NID_pkcs7_signedAndEnveloped && p7->d.signed_and_enveloped != nullptr)
    certs = p7->d.signed_and_enveloped->cert;
  std::vector<Finding> out;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
    Finding f;
    f.kind = Kind::certificate;
    f.format = format;
    f.rule = "certificate/pkcs7";
    f.certificate = cert_facts(sk_X509_value(certs, i));
    f.identity = f.certificate->sha256;
    out.push_back(std::move(f));
  }
  if (out.empty()) return make_error_code(Errc::not_private);
  return out;
}

Result<Finding> der_public_key(Der der, bool rsa_only, Format format) {
  clear_errors();
  const unsigned char* p = der.data();
  PkeyPtr pkey(rsa_only ? d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, length_of(der))
                        : d2i_PUBKEY(nullptr, &p, length_of(der)));
  if (!pkey || !strict_done(p, der)) return make_error_code(Errc::crypto_error);
  Finding f;
  f.kind = Kind::public_key;
  f.format = format;
  f.rule = "public-key/spki";
  f.key.emplace();
  fill_key_facts(pkey.get(), *f.key);
  return f;
}

Result<Finding> der_csr(Der der, Format format) {
  clear_errors();
  const unsigned char* p = der.data();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, length_of(der)));
  if (!req || !strict_done(p, der)) return make_error_code(Errc::crypto_error);
  Finding f;
  f.kind = Kind::public_key;
  f.format = format;
  f.rule = "public-key/csr";
  f.key.emplace();
  if (EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get())) fill_key_facts(pub, *f.key);
  return f;
}

std::size_t complete_der_length(Der der) {
  if (der.size() < 2 || der[0] != 0x30) return 0;
  const unsigned char* p = der.data();
  long len = 0;
  int tag = 0;
  int cls = 0;
  const int ret = ASN1_get_object(&p, &len, &tag, &cls, length_of(der));
  clear_errors();
  if ((ret & 0x80) != 0 || (ret & 0x01) != 0 || len < 0) return 0;  // malformed, or indefinite length
  const auto header = static_cast<std::size_t>(p - der.data());
  if (static_cast<std::size_t>(len) > der.size() - header) return 0;
  return header + static_cast<std::size_t>(len);
}

void set_der_identity(Finding& f, Der der) {
  if (f.key && !f.key->spki_sha256.empty()) f.identity = f.key->spki_sha256;
  else if (f.certificate && !f.certificate->sha256.empty()) f.identity = f.certificate->sha256;
  else f.identity = "blob:" + sha256_hex(std::span<const unsigned char>(der.data(), der.size()));
}

Result<std::vector<Finding>> parse_der(std::span<const std::uint8_t> data, FindingMemo* certificates) {
  if (!spans_whole_input(data)) {
    clear_errors();
    return make_error_code(data.size() < 2 ? Errc::truncated : Errc::bad_structure);
  }
  // Route on the shape of the first two elements, then let OpenSSL decode strictly:
  //   SEQUENCE, SEQUENCE    certificate or CSR         SEQUENCE, OCTET STRING  EncryptedPrivateKeyInfo
  //   SEQUENCE, BIT STRING  SubjectPublicKeyInfo       INTEGER, SEQUENCE       PKCS#8 PrivateKeyInfo
  //   INTEGER, INTEGER      PKCS#1 RSA or DSA          INTEGER, OCTET STRING   SEC1 ECPrivateKey
  //   OBJECT                PKCS#7 ContentInfo
  const Shape shape = shape_of(data);
  std::vector<Finding> out;
  if (shape.first == V_ASN1_SEQUENCE && shape.second == V_ASN1_SEQUENCE) {
    if (auto cert = der_certificate(data, false, Format::der_cert, certificates)) out = one(std::move(*cert));
    else if (auto req = der_csr(data, Format::der_csr)) out = one(std::move(*req));
  } else if (shape.first == V_ASN1_SEQUENCE && shape.second == V_ASN1_OCTET_STRING) {
    if (auto e8 = der_encrypted_pkcs8(data, Format::der_pkcs8_encrypted, true)) out = one(std::move(*e8));
  } else if (shape.first == V_ASN1_SEQUENCE && shape.second == V_ASN1_BIT_STRING) {
    if (auto pub = der_public_key(data, false, Format::der_public_key)) out = one(std::move(*pub));
  } else if (shape.first == V_ASN1_INTEGER && shape.second == V_ASN1_SEQUENCE) {
    if (auto k8 = der_pkcs8_key(data, Format::der_pkcs8)) out = one(std::move(*k8));
  } else if (shape.first == V_ASN1_INTEGER && shape.second == V_ASN1_INTEGER) {
    // OpenSSL 3's type-specific decoders also take PKCS#8; the shape has ruled that out.
    if (auto rsa = der_traditional_key(data, EVP_PKEY_RSA, Format::der_pkcs1, "private-key/pkcs1"))
      out = one(std::move(*rsa));
    else if (auto dsa = der_traditional_key(data, EVP_PKEY_DSA, Format::der_dsa, "private-key/dsa"))
      out = one(std::move(*dsa));
  } else if (shape.first == V_ASN1_INTEGER && shape.second == V_ASN1_OCTET_STRING) {
    if (auto ec = der_traditional_key(data, EVP_PKEY_EC, Format::der_sec1, "private-key/sec1"))
      out = one(std::move(*ec));
  } else if (shape.first == V_ASN1_OBJECT) {
    if (auto p7 = der_pkcs7_certificates(data, Format::der_pkcs7)) out = std::move(*p7);
  }
  clear_errors();
  if (out.empty()) return make_error_code(Errc::unsupported);
  for (auto& f : out)
    if (f.identity.empty()) set_der_identity(f, data);
  return out;
}

}  // namespace keyward::scanner::detail
