// SPDX-License-Identifier: Apache-2.0
// Test key material made in memory with OpenSSL, once per process: keys as PEM text in the
// formats the detectors read, and certificates (self-signed or issued, with EKUs).
// Used by: unit tests that need a real key without running external tools.
// Never writes a key into the source tree.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace keyward::test {

using Pkey = std::shared_ptr<EVP_PKEY>;

inline Pkey generate(const char* alg, const char* param = nullptr) {
  EVP_PKEY* k = nullptr;
  if (param == nullptr) k = EVP_PKEY_Q_keygen(nullptr, nullptr, alg);
  else if (std::string(alg) == "RSA")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, alg, static_cast<size_t>(std::stoul(param)));
  else k = EVP_PKEY_Q_keygen(nullptr, nullptr, alg, param);
  if (k == nullptr) throw std::runtime_error("key generation failed");
  return Pkey(k, EVP_PKEY_free);
}

// Shared keys, generated once.
inline const Pkey& ec_p256() {
  static Pkey k = generate("EC", "P-256");
  return k;
}
inline const Pkey& rsa_2048() {
  static Pkey k = generate("RSA", "2048");
  return k;
}
inline const Pkey& ed25519() {
  static Pkey k = generate("ED25519");
  return k;
}

inline std::string bio_string(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

// PKCS#8 PEM ("PRIVATE KEY"), optionally encrypted with AES-256-CBC.
inline std::string pkcs8_pem(const Pkey& k, const char* password = nullptr) {
  BIO* b = BIO_new(BIO_s_mem());
  if (password != nullptr)
    PEM_write_bio_PKCS8PrivateKey(b, k.get(), EVP_aes_256_cbc(), password, static_cast<int>(std::strlen(password)),
                                  nullptr, nullptr);
  else PEM_write_bio_PKCS8PrivateKey(b, k.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_string(b);
}

// Traditional PEM ("RSA PRIVATE KEY" / "EC PRIVATE KEY"), optionally legacy-encrypted.
inline std::string traditional_pem(const Pkey& k, const char* password = nullptr) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey_traditional(b, k.get(), password ? EVP_aes_128_cbc() : nullptr,
                                       reinterpret_cast<const unsigned char*>(password),
                                       password ? static_cast<int>(std::strlen(password)) : 0, nullptr, nullptr);
  return bio_string(b);
}

inline std::string public_pem(const Pkey& k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, k.get());
  return bio_string(b);
}

// A certificate for `subject_key`, signed by `issuer_key` (self-signed when the same), with an
// extendedKeyUsage (e.g. "codeSigning") and validity from now+from_days to now+to_days.
inline std::string certificate_pem(const Pkey& subject_key, const Pkey& issuer_key, const char* cn,
                                   const char* eku = nullptr, long from_days = -1, long to_days = 365,
                                   bool ca = false) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
  X509_set_pubkey(x, subject_key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext != nullptr) {
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (eku != nullptr) add(NID_ext_key_usage, eku);
  const EVP_MD* md = EVP_PKEY_get_base_id(issuer_key.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  X509_sign(x, issuer_key.get(), md);
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  X509_free(x);
  return bio_string(b);
}

// The SPKI SHA-256 (lowercase hex) of a key, computed independently of the scanner.
inline std::string spki_sha256(const Pkey& k) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(k.get(), &der);
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(der, static_cast<size_t>(n), md, &len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  static const char* hexd = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hexd[md[i] >> 4];
    out += hexd[md[i] & 15];
  }
  return out;
}

// The base64 body lines of a PEM text (what must never appear in any output).
inline std::vector<std::string> body_lines(const std::string& pem) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    if (end == std::string::npos) end = pem.size();
    std::string line = pem.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() >= 40 && line.find("-----") == std::string::npos && line.find(':') == std::string::npos)
      out.push_back(line);
    start = end + 1;
  }
  return out;
}

}  // namespace keyward::test
