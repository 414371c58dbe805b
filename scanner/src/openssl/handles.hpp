// Owned OpenSSL handles (unique_ptr with the right free function) and error-queue helpers.
// Used by: every file under scanner/src that calls OpenSSL. Private to the scanner.
// Never put an OpenSSL type in a public header.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace keyward::scanner::detail {

template <auto Fn>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept { Fn(p); }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using X509SigPtr = std::unique_ptr<X509_SIG, Deleter<X509_SIG_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7_free>>;
using P8InfoPtr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;

// A read-only memory BIO over bytes (no copy).
inline BioPtr mem_bio(std::span<const unsigned char> data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}
inline BioPtr mem_bio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Clears the thread's OpenSSL error queue before a parse attempt (docs/architecture.md, "Errors" 4).
inline void clear_errors() noexcept { ERR_clear_error(); }

// Drains the thread's OpenSSL error queue into one line (reason strings only, never data).
std::string drain_errors();

// A password callback that never prompts and never supplies a password.
int no_password_cb(char* buf, int size, int rwflag, void* u);

// Lowercase hex SHA-256 of bytes.
// MD5, SHA-1 and SHA-256 fetched from the default provider once per process. OpenSSL 3 looks the
// implementation of EVP_md5()/EVP_sha1()/EVP_sha256() and of the one-shot SHA256() up, under a
// lock, on every init: in a loop (a JCEKS key's 400,000 MD5 rounds) that cost more than the
// hashing. Fall back to the legacy handles if a fetch fails.
const EVP_MD* md5();
const EVP_MD* sha1();
const EVP_MD* sha256();

std::string sha256_hex(std::span<const unsigned char> data);
inline std::string sha256_hex(std::string_view data) {
  return sha256_hex(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(data.data()), data.size()));
}
// Raw SHA-256 of bytes (32 bytes).
std::string sha256_raw(std::span<const unsigned char> data);

}  // namespace keyward::scanner::detail
