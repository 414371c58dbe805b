// SPDX-License-Identifier: Apache-2.0
// Keys between OpenSSL and a PKCS#11 token for the executor (docs/migration.md): reading the
// source key (PEM, DER, PKCS#8 encrypted or not, PKCS#12), the key's parts as a PKCS#11 template
// (held in SecretBytes, wiped), the public key read back from the token, signatures made inside
// the token in the form OpenSSL verifies, and a CSR whose signature the token makes.
// Algorithms: RSA 2048/3072/4096, EC P-256/P-384, Ed25519.
// Never logs key bytes; private parts live only in SecretBytes and OpenSSL objects freed here.
#pragma once

#include "pkcs11.hpp"

#include <keyward/common/openssl_handles.hpp>
#include <keyward/common/secret.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keyward::migrate::keys {

enum class Kind { rsa, ec_p256, ec_p384, ed25519 };

// The kind of an OpenSSL key; throws std::runtime_error for another algorithm or curve.
Kind kind_of(EVP_PKEY* key);
// The kind and size a plan's algorithm_name() names ("rsa-2048", "ec-p256", "ed25519", ...);
// throws std::runtime_error for one the executor does not support.
struct Spec {
  Kind kind = Kind::rsa;
  unsigned long bits = 0;  // RSA only
};
Spec spec_of(const std::string& algorithm);
// The PKCS#11 signing mechanism's name, for results ("CKM_SHA256_RSA_PKCS", "CKM_ECDSA", "CKM_EDDSA").
std::string mechanism_name(Kind kind);

// The key (and certificates) in a file. Throws std::runtime_error naming the path, never the
// password, when it cannot be read or opened.
struct SourceKey {
  common::PkeyPtr key;
  std::vector<common::X509Ptr> certificates;  // in the same file (PEM bundle, PKCS#12)
};
SourceKey read_key_file(const std::string& path, const std::optional<common::SecretBytes>& password);
// Certificates in a PEM or DER file (empty when it holds none or cannot be read).
std::vector<common::X509Ptr> read_certificates(const std::string& path);

// SubjectPublicKeyInfo DER of a key (public part only), and its SHA-256 (the key's identity).
std::vector<std::uint8_t> spki_der(EVP_PKEY* key);
std::string spki_sha256_hex(EVP_PKEY* key);

// A private key template's values (wiped on destruction) and the attributes pointing at them.
struct PrivateTemplate {
  std::vector<common::SecretBytes> values;
  std::vector<ck_attribute> attrs;
};
// CKA_KEY_TYPE and the key parts (RSA's eight numbers, EC's scalar, Ed25519's seed).
PrivateTemplate private_parts(EVP_PKEY* key, Kind kind);
// The public parts (CKA_KEY_TYPE, CKA_MODULUS/CKA_PUBLIC_EXPONENT or CKA_EC_PARAMS/CKA_EC_POINT);
// `store` keeps the bytes the attributes point at.
std::vector<ck_attribute> public_parts(EVP_PKEY* key, Kind kind, std::vector<std::vector<std::uint8_t>>& store);
// The generation template's key-specific part (CKA_MODULUS_BITS/CKA_PUBLIC_EXPONENT or CKA_EC_PARAMS).
std::vector<ck_attribute> generation_parts(const Spec& spec);
ck_mechanism_type_t generation_mechanism(Kind kind);
ck_key_type_t key_type(Kind kind);

// The public key of a token's public key object, as an OpenSSL key.
common::PkeyPtr token_public_key(p11::Session& s, ck_object_handle_t pub, Kind kind);

// Signs `data` with the token's private key: RSA PKCS#1 v1.5 with SHA-256, ECDSA over SHA-256
// (P-256) or SHA-384 (P-384) with the raw r||s turned into DER, Ed25519 (pure). The result is
// what EVP_DigestVerify takes with digest_of(kind).
std::vector<std::uint8_t> token_sign(p11::Session& s, ck_object_handle_t priv, Kind kind,
                                     std::span<const std::uint8_t> data);
// OpenSSL's check of such a signature with `key`.
bool openssl_verify(EVP_PKEY* key, Kind kind, std::span<const std::uint8_t> data, std::span<const std::uint8_t> sig);

// A CSR for `pub` with `subject` ("CN=x, O=y"; CN=fallback_cn when empty or unparsable), its
// to-be-signed DER signed in the token. Returns the request (verified by the caller).
common::X509ReqPtr make_csr(p11::Session& s, ck_object_handle_t priv, EVP_PKEY* pub, Kind kind,
                            const std::string& subject, const std::string& fallback_cn);
std::string csr_pem(X509_REQ* req);

}  // namespace keyward::migrate::keys
