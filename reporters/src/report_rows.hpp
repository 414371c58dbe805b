// SPDX-License-Identifier: Apache-2.0
// What the CSV and HTML reports say about one finding, shared so both say the same thing
// (docs/formats/csv.md, docs/formats/html.md): the ranked order, the host, text from a scanned
// machine made valid UTF-8, the key's algorithm facts, the certificate shown, and the finding's
// plan item. Private to keyward::reporters (csv.cpp, html.cpp).
// Never returns key bytes, passwords or key comments (KeyFacts::comment is never read here).
#pragma once

#include <keyward/migrate/plan.hpp>
#include <keyward/scanner/finding.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyward::reporters::detail {

// Bytes from a scanned machine as UTF-8 text: valid UTF-8 as it is, every other byte as the
// four characters \xNN (lowercase hex), so a non-UTF-8 file name stays distinguishable.
std::string utf8_text(std::string_view bytes);

// The findings in the order a user acts on them (keyward::rules::ranks_before).
std::vector<const scanner::Finding*> ranked(const scanner::ScanResult& result);

// The host a finding was found on: its location's host (a fleet, a remote scan), else the
// scanning machine's name.
std::string finding_host(const scanner::Finding& f, const scanner::ScanResult& result);

// The key facts of a finding: its key, else a store's first private-key entry's key.
const scanner::KeyFacts* finding_key(const scanner::Finding& f);
// The certificate of a finding: its own, else a store's first entry that has one.
const scanner::CertFacts* finding_certificate(const scanner::Finding& f);

// A key's algorithm as the reports show it (crypto_algorithms.hpp names, e.g. "RSA-2048"); the
// scanner's name when the table does not know it; quantum_vulnerable unset when unknown.
struct KeyAlgorithm {
  std::string name;
  std::optional<std::uint32_t> bits;
  std::string curve;
  std::optional<bool> quantum_vulnerable;
};
KeyAlgorithm finding_algorithm(const scanner::Finding& f);

// The SPKI SHA-256 of the finding's key identity ("" when the identity is not an SPKI).
std::string identity_spki(const scanner::Finding& f);

// Plan items by key identity (migrate::PlanItem::identity == Finding::key_identity()).
class PlanIndex {
 public:
  explicit PlanIndex(const migrate::Plan* plan);
  // The finding's plan item, or nullptr.
  const migrate::PlanItem* find(const scanner::Finding& f) const;

 private:
  std::unordered_map<std::string, const migrate::PlanItem*> items_;
};

// The item's step of kind migrate, or nullptr.
const migrate::Step* migrate_step(const migrate::PlanItem& item);

}  // namespace keyward::reporters::detail
