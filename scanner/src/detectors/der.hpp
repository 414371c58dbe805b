// SPDX-License-Identifier: Apache-2.0
// DER decoding shared by the PEM detector (the body of a labelled block) and the binary DER
// detector (a whole file): private keys, encrypted PKCS#8, certificates, PKCS#7, public keys and
// CSRs, each read by OpenSSL and accepted only when it spans its input exactly.
// Used by: pem.cpp, der.cpp's parse_der, pkcs12.cpp (PBE algorithm facts).
// Never keeps or returns key bytes: facts and fingerprints only; never asks for a password.
#pragma once

#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <openssl/types.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// ASCII lower case (OpenSSL's short names are upper case: "AES-256-CBC" -> "aes-256-cbc").
std::string lower(std::string_view s);
// A private-key finding with an empty KeyFacts, ready for its facts.
Finding make_key_finding(Format format, std::string_view rule);

// DER bytes of one object.
using Der = std::span<const std::uint8_t>;

// A type-specific private key (PKCS#1 RSA, SEC1 EC, DSA) of OpenSSL type `evp_type`
// (EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_DSA). In OpenSSL 3 this also accepts PKCS#8 bodies, so
// callers that do not know the label try der_pkcs8_key first.
Result<Finding> der_traditional_key(Der der, int evp_type, Format format, std::string_view rule);

// An unencrypted PKCS#8 PrivateKeyInfo (rule private-key/pkcs8).
Result<Finding> der_pkcs8_key(Der der, Format format);

// An EncryptedPrivateKeyInfo (rule private-key/pkcs8-encrypted): encrypted, with its protection.
// `require_pbe`: the algorithm must be PBES2 or a PBE OpenSSL knows (a bare DER file, where a
// DigestInfo has the same shape); a labelled PEM block does not need this.
Result<Finding> der_encrypted_pkcs8(Der der, Format format, bool require_pbe);

// The cipher, KDF and iterations of a PKCS#8 / PKCS#12 encryption algorithm (PBES2 with PBKDF2
// or scrypt, PKCS#5 v1.5 PBES1, PKCS#12 PBE), read without the password.
Protection pkcs8_protection(const X509_ALGOR* alg);

class FindingMemo;  // memo.hpp

// An X.509 certificate (rule certificate/x509); `trusted` reads OpenSSL's TRUSTED CERTIFICATE.
// With `memo` (the scan's certificates), a certificate seen before is not decoded again.
Result<Finding> der_certificate(Der der, bool trusted, Format format, FindingMemo* memo = nullptr);

// A PKCS#7 (signed or signed-and-enveloped) bundle: one finding per certificate
// (rule certificate/pkcs7); Errc::not_private when it carries none.
Result<std::vector<Finding>> der_pkcs7_certificates(Der der, Format format);

// A SubjectPublicKeyInfo (rule public-key/spki), or with `rsa_only` a PKCS#1 RSAPublicKey.
Result<Finding> der_public_key(Der der, bool rsa_only, Format format);

// A PKCS#10 certificate request (rule public-key/csr) with the facts of its public key.
Result<Finding> der_csr(Der der, Format format);

// The length of the definite-length DER SEQUENCE at the start of `der` (header and contents),
// when it is well-formed and fits in `der`; 0 otherwise. Bytes after it are trailing bytes.
std::size_t complete_der_length(Der der);

// Sets f.identity: the key's SPKI hash, else the certificate's hash, else "blob:" + SHA-256.
void set_der_identity(Finding& f, Der der);

}  // namespace keyward::scanner::detail
