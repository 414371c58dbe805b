// SPDX-License-Identifier: Apache-2.0
// What the reports say about an algorithm (docs/reports.md, "Quantum safety"): its CycloneDX
// name, primitive, parameter set and curve, and its NIST quantum security level. One function
// for every report, so the CBOM, the HTML charts and the CSV never disagree.
// RSA, DSA, ECDSA, EdDSA, X25519/X448 and ElGamal are quantum-vulnerable (level 0); ML-DSA,
// SLH-DSA and ML-KEM keys are named as such with the level of their parameter set.
// Used by: reporters (cbom, html, csv). Pure (OpenSSL is asked for OIDs only).
#pragma once

#include <keyward/scanner/finding.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace keyward::reporters {

struct AlgorithmInfo {
  std::string name;            // e.g. "RSA-2048", "ECDSA-P-256", "Ed25519", "ML-DSA-65", "SLH-DSA-SHA2-128s"
  std::string family;          // e.g. "RSA", "ECDSA", "EdDSA", "ML-DSA" (groups a chart)
  std::string primitive;       // CycloneDX cryptoProperties.algorithmProperties.primitive: signature, kem, pke, ...
  std::string parameter_set;   // e.g. "2048", "65", "SHA2-128s"; "" when none
  std::string curve;           // e.g. "P-256", "Ed25519"; "" when none
  int nist_quantum_level = 0;  // 0 for quantum-vulnerable algorithms
  bool quantum_vulnerable = true;
  std::string oid;  // dotted object identifier when OpenSSL knows the algorithm; "" otherwise
};

// The algorithm of a key's facts (a private or public key, a store entry's key, a certificate's
// key); nullopt when it is unknown (an encrypted key whose algorithm needs the password) or a
// symmetric secret key.
std::optional<AlgorithmInfo> algorithm_of(const scanner::KeyFacts& key);
std::optional<AlgorithmInfo> algorithm_of(const scanner::CertFacts& cert);  // the certified key's

// The key algorithm of a finding: its key, else a store's first private-key entry, else its
// certificate's key.
std::optional<AlgorithmInfo> key_algorithm(const scanner::Finding& f);

// The algorithm of a migration plan item (migrate::algorithm_name's spelling: "rsa-2048",
// "ec-p256", "ed25519", "ml-dsa-65"), for a key the plan knows and no file holds any more.
std::optional<AlgorithmInfo> plan_algorithm(std::string_view plan_name);

// A certificate's signature algorithm by OpenSSL's long name (e.g. "sha256WithRSAEncryption",
// "ecdsa-with-SHA384", "ED25519"); nullopt when unknown. Named as CycloneDX's examples name
// them: "SHA256withRSA", "SHA384withECDSA", "RSASSA-PSS", "Ed25519".
std::optional<AlgorithmInfo> signature_algorithm(std::string_view openssl_name);

}  // namespace keyward::reporters
