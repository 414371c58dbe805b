// SPDX-License-Identifier: Apache-2.0
// The CBOM's inventory (docs/formats/cbom.md): the findings of a ReportInput folded into one
// asset per key identity (scanner::Finding::key_identity, a store entry's SPKI) and one per
// certificate (by SHA-256), each with every place it was found; the algorithms they name.
// Private to keyward::reporters (cbom.cpp renders it). Never copies a key comment, a password,
// a suppression's justification or key bytes: facts, fingerprints and places only.
#pragma once

#include <keyward/reporters/crypto_algorithms.hpp>
#include <keyward/reporters/report_input.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace keyward::reporters::cbom {

// CycloneDX relatedCryptoMaterialProperties.type of a key asset.
enum class Material { private_key, public_key, secret_key, unknown };
// "private-key", "public-key", "secret-key", "unknown".
std::string_view to_string(Material m) noexcept;

// CycloneDX properties (name, value): names may repeat; a set keeps them sorted and unique.
using Properties = std::set<std::pair<std::string, std::string>>;

// One place of an asset: a file (and member) on a host.
struct Place {
  std::string host;      // the finding's host, else the scanning machine's name
  std::string location;  // the path, "!member" appended inside an archive
  std::uint64_t line = 0;
  std::uint64_t offset = 0;
  std::string format;      // keyward's format name, e.g. "pem-pkcs8", "pkcs12"
  std::string entry;       // a key store entry's alias; "" otherwise
  bool key = false;        // the place holds key material (encrypted is meaningful)
  bool encrypted = false;  // the key at this place is password-protected
  std::string suppressed;  // the suppression kind ("allowlist", ...); "" when not suppressed
  int score = -1;          // the finding's risk score; -1 when rules did not run
  std::string severity;
  auto operator<=>(const Place&) const = default;
};

struct KeyAsset {
  std::string identity;  // "spki:<hex>", "finding:<id>", "finding:<id>#<entry>"
  Material material = Material::unknown;
  std::optional<AlgorithmInfo> algorithm;
  std::optional<std::uint32_t> bits;
  std::string spki;  // lowercase hex SHA-256 of the SubjectPublicKeyInfo; "" when unknown
  std::string ssh_fingerprint;
  std::string pgp_fingerprint;
  std::set<std::string> certificates;  // refs of certificates a store holds with this key
  Properties store_facts;              // facts of the key stores that hold it
  std::set<Place> places;
};

struct CertAsset {
  scanner::CertFacts facts;  // of the first place (without the DER)
  std::set<Place> places;
};

struct Inventory {
  std::map<std::string, KeyAsset> keys;             // by bom-ref
  std::map<std::string, CertAsset> certificates;    // by bom-ref
  std::map<std::string, AlgorithmInfo> algorithms;  // by bom-ref
};

// bom-refs: "key:<identity>" (private or unknown), "public-key:<identity>",
// "secret-key:<identity>", "cert:<sha256>", "algorithm:<name>".
std::string key_ref(Material m, std::string_view identity);
std::string cert_ref(const scanner::CertFacts& c, std::string_view finding_id);
std::string algorithm_ref(const AlgorithmInfo& a);

// Every finding of the input folded into assets; algorithms of keys and certificates included.
Inventory collect(const ReportInput& input);

}  // namespace keyward::reporters::cbom
