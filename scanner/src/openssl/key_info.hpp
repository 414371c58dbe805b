// SPDX-License-Identifier: Apache-2.0
// Facts about a public or private key held by OpenSSL: algorithm, bits, curve, SPKI SHA-256.
// Used by: the PEM/DER detectors, and the own parsers once they have built a public key.
#pragma once

#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace keyward::scanner::detail {

// Fills algorithm, bits, curve and spki_sha256 of `key` from an OpenSSL key (public part only).
void fill_key_facts(const EVP_PKEY* pkey, KeyFacts& key);

// Normalises an EC group short name to the NIST name where one exists ("prime256v1" -> "P-256").
std::string curve_display_name(std::string_view openssl_name);

// Big-endian unsigned bytes (leading zeros allowed).
using Bytes = std::span<const std::uint8_t>;

// Builds a public key from its parts and fills the key facts (algorithm, bits, curve, SPKI).
Result<void> key_facts_from_rsa(Bytes n, Bytes e, KeyFacts& key);
Result<void> key_facts_from_dsa(Bytes p, Bytes q, Bytes g, Bytes y, KeyFacts& key);
// `curve` is an OpenSSL group name ("prime256v1", "secp384r1", "secp521r1", "P-256", ...);
// `point` the encoded public point (04||X||Y or compressed).
Result<void> key_facts_from_ec(std::string_view curve, Bytes point, KeyFacts& key);
// `algorithm` is "ED25519", "ED448", "X25519" or "X448"; `raw` the raw public key.
Result<void> key_facts_from_raw(std::string_view algorithm, Bytes raw, KeyFacts& key);

}  // namespace keyward::scanner::detail
