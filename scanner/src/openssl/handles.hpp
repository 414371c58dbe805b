// SPDX-License-Identifier: Apache-2.0
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

#include <keyward/common/hex.hpp>
#include <keyward/common/openssl_handles.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace keyward::scanner::detail {

// One deleter template and its aliases for every component: keyward::common.
using common::BioPtr;
using common::BnPtr;
using common::Deleter;
using common::MdCtxPtr;
using common::P8InfoPtr;
using common::ParamBldPtr;
using common::ParamPtr;
using common::Pkcs12Ptr;
using common::Pkcs7Ptr;
using common::Pkcs7StackPtr;
using common::PkeyCtxPtr;
using common::PkeyPtr;
using common::SafeBagStackPtr;
using common::X509Ptr;
using common::X509ReqPtr;
using common::X509SigPtr;

// A read-only memory BIO over bytes (no copy).
inline BioPtr mem_bio(std::span<const unsigned char> data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}
inline BioPtr mem_bio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Clears the thread's OpenSSL error queue before a parse attempt, so an error read after it is
// this attempt's.
inline void clear_errors() noexcept { ERR_clear_error(); }

// Drains the thread's OpenSSL error queue into one line (reason strings only, never data).
std::string drain_errors();

// A password callback that never prompts and never supplies a password.
int no_password_cb(char* buf, int size, int rwflag, void* u);

// MD5, SHA-1 and SHA-256 fetched from the default provider once per process. OpenSSL 3 looks the
// implementation of EVP_md5()/EVP_sha1()/EVP_sha256() up, under a lock, on every init: in a loop
// (a JCEKS key's 400,000 MD5 rounds) that cost more than the hashing. Fall back to the legacy
// handles if a fetch fails.
const EVP_MD* md5();
const EVP_MD* sha1();
const EVP_MD* sha256();

// Lowercase hex and raw SHA-256 of bytes: keyward::common's.
using common::sha256_hex;
using common::sha256_raw;

}  // namespace keyward::scanner::detail
