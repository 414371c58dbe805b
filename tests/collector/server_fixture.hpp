// SPDX-License-Identifier: Apache-2.0
// Test helpers for the collector server: CSRs made in process with OpenSSL, gzip, file modes.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <zlib.h>

#include <stdexcept>
#include <string>

namespace keyward::test {

// A PEM CSR signed by key; subject CN as given.
inline std::string make_csr_for(EVP_PKEY* key, const std::string& cn = "someone-else") {
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, key);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_sign(req, key, EVP_sha256());
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(b, req);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  X509_REQ_free(req);
  return out;
}

// A PEM CSR for a fresh key: "ec" (P-256) or "rsa1024"/"rsa2048"; subject CN as given.
inline std::string make_csr(const std::string& type, const std::string& cn = "someone-else") {
  EVP_PKEY* key = type == "ec" ? EVP_EC_gen("P-256") : EVP_RSA_gen(type == "rsa1024" ? 1024 : 2048);
  std::string out = make_csr_for(key, cn);
  EVP_PKEY_free(key);
  return out;
}

// The DER SubjectPublicKeyInfo of a key (what its SPKI SHA-256 is computed over).
inline std::string spki_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) throw std::runtime_error("i2d_PUBKEY");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// gzip of data (one member).
inline std::string gzip(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib");
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline unsigned file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

}  // namespace keyward::test
