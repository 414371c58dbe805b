// SPDX-License-Identifier: Apache-2.0
// Owned OpenSSL handles: the aliases of common::Owned the components need.
// Used by: the scanner (via scanner/src/openssl/handles.hpp), rules' example generator, the
// agent's enrollment, the collector's CA. OpenSSL types appear here because keyward::common is
// an internal, never-installed target: include it from .cpp files and private headers only,
// never from a component's public header.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <keyward/common/handle.hpp>

namespace keyward::common {

// Frees a stack of PKCS#7 contents and every element.
inline void free_pkcs7_stack(STACK_OF(PKCS7) * s) noexcept { sk_PKCS7_pop_free(s, PKCS7_free); }
// Frees a stack of PKCS#12 safe bags and every element.
inline void free_safebag_stack(STACK_OF(PKCS12_SAFEBAG) * s) noexcept {
  sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free);
}
// Frees memory OpenSSL allocated for the caller (OPENSSL_free is a macro, so not a Deleter).
inline void openssl_free(char* p) noexcept { OPENSSL_free(p); }

// SHA-256 fetched from the default provider once per process (the legacy handle if the fetch
// fails): OpenSSL 3 looks EVP_sha256()'s implementation up, under a lock, on every digest init.
const EVP_MD* sha256_md();

// A BIO chain (BIO_free_all).
using BioPtr = Owned<BIO, BIO_free_all>;
// A big number (BN_free; use BnSecretPtr for secret values).
using BnPtr = Owned<BIGNUM, BN_free>;
// A big number holding a secret (BN_clear_free wipes it).
using BnSecretPtr = Owned<BIGNUM, BN_clear_free>;
// A big-number scratch context.
using BnCtxPtr = Owned<BN_CTX, BN_CTX_free>;
// A key.
using PkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
// A key operation context.
using PkeyCtxPtr = Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
// A digest context.
using MdCtxPtr = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;
// A cipher context.
using CipherCtxPtr = Owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
// A certificate.
using X509Ptr = Owned<X509, X509_free>;
// A certificate request.
using X509ReqPtr = Owned<X509_REQ, X509_REQ_free>;
// A certificate extension.
using X509ExtPtr = Owned<X509_EXTENSION, X509_EXTENSION_free>;
// An encrypted PKCS#8 key (X509_SIG).
using X509SigPtr = Owned<X509_SIG, X509_SIG_free>;
// A set of subject alternative names.
using GeneralNamesPtr = Owned<GENERAL_NAMES, GENERAL_NAMES_free>;
// A PKCS#7 content.
using Pkcs7Ptr = Owned<PKCS7, PKCS7_free>;
// A PKCS#12 file.
using Pkcs12Ptr = Owned<PKCS12, PKCS12_free>;
// A stack of PKCS#7 contents (a PKCS#12 file's authenticated safes).
using Pkcs7StackPtr = Owned<STACK_OF(PKCS7), free_pkcs7_stack>;
// A stack of PKCS#12 safe bags.
using SafeBagStackPtr = Owned<STACK_OF(PKCS12_SAFEBAG), free_safebag_stack>;
// A string OpenSSL allocated (BN_bn2hex, PKCS12_get_friendlyname).
using OpenSslStringPtr = Owned<char, openssl_free>;
// A PKCS#8 private key info.
using P8InfoPtr = Owned<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>;
// A parameter builder.
using ParamBldPtr = Owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
// A built parameter array.
using ParamPtr = Owned<OSSL_PARAM, OSSL_PARAM_free>;

}  // namespace keyward::common
