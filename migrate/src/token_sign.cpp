// SPDX-License-Identifier: Apache-2.0
// Signatures made inside the token, in the form OpenSSL checks, and a CSR signed by the token
// (token_keys.hpp).
#include "token_keys.hpp"

#include <keyward/common/openssl_errors.hpp>

#include <fmt/format.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include <stdexcept>

namespace keyward::migrate::keys {
namespace {

using Bytes = std::vector<std::uint8_t>;

[[noreturn]] void fail(const std::string& what) {
  const std::string ossl = common::drain_openssl_errors();
  throw std::runtime_error(ossl.empty() ? what : what + " (" + ossl + ")");
}

// The digest OpenSSL uses with the signature (none for Ed25519, which signs the message).
const EVP_MD* digest_of(Kind kind) {
  switch (kind) {
    case Kind::rsa:
    case Kind::ec_p256:
      return EVP_sha256();
    case Kind::ec_p384:
      return EVP_sha384();
    case Kind::ed25519:
      break;
  }
  return nullptr;
}

Bytes digest(Kind kind, std::span<const std::uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, digest_of(kind), nullptr) != 1) fail("cannot hash");
  out.resize(n);
  return out;
}

// PKCS#11's raw r||s to the DER ECDSA-Sig-Value OpenSSL takes.
Bytes ecdsa_der(const Bytes& raw) {
  if (raw.empty() || raw.size() % 2 != 0) throw std::runtime_error("the token's ECDSA signature has an odd length");
  const int half = static_cast<int>(raw.size() / 2);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(raw.data(), half, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, half, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    ECDSA_SIG_free(sig), BN_free(r), BN_free(s);
    fail("cannot encode the ECDSA signature");
  }
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (n <= 0) fail("cannot encode the ECDSA signature");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

int signature_nid(Kind kind) {
  switch (kind) {
    case Kind::rsa:
      return NID_sha256WithRSAEncryption;
    case Kind::ec_p256:
      return NID_ecdsa_with_SHA256;
    case Kind::ec_p384:
      return NID_ecdsa_with_SHA384;
    case Kind::ed25519:
      break;
  }
  return NID_ED25519;
}

// "CN=a, O=b" (or "CN=a,O=b", "/CN=a/O=b") into a name; false when a part does not parse.
bool parse_subject(const std::string& subject, X509_NAME* name) {
  std::string s = subject;
  const char sep = !s.empty() && s[0] == '/' ? '/' : ',';
  std::size_t start = 0;
  int added = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    std::string part = s.substr(start, end - start);
    start = end + 1;
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string::npos) return false;
    const std::string key = part.substr(0, eq), value = part.substr(eq + 1);
    if (X509_NAME_add_entry_by_txt(name, key.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) != 1)
      return false;
    ++added;
  }
  return added > 0;
}

}  // namespace

std::vector<std::uint8_t> token_sign(p11::Session& s, ck_object_handle_t priv, Kind kind,
                                     std::span<const std::uint8_t> data) {
  switch (kind) {
    case Kind::rsa:
      return s.sign(CKM_SHA256_RSA_PKCS, priv, data);
    case Kind::ed25519:
      return s.sign(CKM_EDDSA, priv, data);
    case Kind::ec_p256:
    case Kind::ec_p384:
      break;
  }
  return ecdsa_der(s.sign(CKM_ECDSA, priv, digest(kind, data)));
}

bool openssl_verify(EVP_PKEY* key, Kind kind, std::span<const std::uint8_t> data, std::span<const std::uint8_t> sig) {
  common::MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest_of(kind), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
  common::drain_openssl_errors();
  return ok;
}

common::X509ReqPtr make_csr(p11::Session& s, ck_object_handle_t priv, EVP_PKEY* pub, Kind kind,
                            const std::string& subject, const std::string& fallback_cn) {
  common::X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 || X509_REQ_set_pubkey(req.get(), pub) != 1)
    fail("cannot build the CSR");
  X509_NAME* name = X509_NAME_new();
  if (subject.empty() || !parse_subject(subject, name)) {
    X509_NAME_free(name);
    name = X509_NAME_new();
    const std::string cn = "CN=" + fallback_cn;
    if (!parse_subject(cn, name)) fail("cannot build the CSR's subject");
  }
  const int set = X509_REQ_set_subject_name(req.get(), name);
  X509_NAME_free(name);
  if (set != 1) fail("cannot set the CSR's subject");
  X509_ALGOR* alg = X509_ALGOR_new();
  X509_ALGOR_set0(alg, OBJ_nid2obj(signature_nid(kind)), kind == Kind::rsa ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr);
  const int alg_ok = X509_REQ_set1_signature_algo(req.get(), alg);
  X509_ALGOR_free(alg);
  if (alg_ok != 1) fail("cannot set the CSR's signature algorithm");
  unsigned char* tbs = nullptr;
  const int n = i2d_re_X509_REQ_tbs(req.get(), &tbs);
  if (n <= 0) fail("cannot encode the CSR");
  Bytes tbs_der(tbs, tbs + n);
  OPENSSL_free(tbs);
  const Bytes sig = token_sign(s, priv, kind, tbs_der);
  ASN1_BIT_STRING* bits = ASN1_BIT_STRING_new();
  ASN1_BIT_STRING_set(bits, const_cast<unsigned char*>(sig.data()), static_cast<int>(sig.size()));
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  X509_REQ_set0_signature(req.get(), bits);
  return req;
}

std::string csr_pem(X509_REQ* req) {
  common::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req) != 1) fail("cannot write the CSR");
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<std::size_t>(n));
}

}  // namespace keyward::migrate::keys
