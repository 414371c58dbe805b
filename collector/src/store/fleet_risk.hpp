// SPDX-License-Identifier: Apache-2.0
// Fleet risk: the rules engine's risk of a place plus the fleet factors of rules/factors.yaml
// (fleet-spread, build-host, keyward-managed), and the key identity a finding is grouped by.
// Used by: sql_ingest.cpp (identities) and sql_scoring.cpp (whenever an identity's fleet
// facts change).
// Reads facts only.
#pragma once

#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/scanner/finding.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace keyward::collector::detail {

inline constexpr std::string_view kFleetSpread = "fleet-spread";
inline constexpr std::string_view kBuildHost = "build-host";
inline constexpr std::string_view kKeywardManaged = "keyward-managed";
// Provenance (issue 13; the ids are rules::factor_ids'): a place with package-owned,
// vendored-dependency or known-public-key is at most low. The fleet adds known-public-key to the
// places of a key some host reports package-owned (a key an installed package ships is public
// everywhere).
using rules::factor_ids::kKnownPublicKey;
using rules::factor_ids::kPackageOwned;
using rules::factor_ids::kVendored;

// What the fleet knows about one place beyond its finding.
struct FleetFacts {
  bool holds_key = false;       // the place holds a private key (spread and build host apply)
  std::uint64_t key_hosts = 0;  // distinct hosts where the identity's private key is present
  bool build_host = false;      // the place's host is tagged "build"
  bool managed = false;         // keyward's own key
  std::string managed_what;
  std::uint64_t package_hosts = 0;  // hosts that reported the identity package-owned
  bool marks = false;               // counts in why texts as the marks below (a stored risk)
};

// What a stored risk's why texts hold in place of the fleet's counts: they change with every
// host that reports a key, and with marks a place's stored risk changes only when its score or
// factors can (issue 19). Reads put the identity's counts in (fill_fleet_counts).
inline constexpr std::string_view kKeyHostsMark = "{key_hosts}";
inline constexpr std::string_view kPackageHostsMark = "{package_hosts}";
// Replaces the marks in every factor's why of a risk JSON (risk_to_json's shape).
void fill_fleet_counts(nlohmann::json& risk, std::uint64_t key_hosts, std::uint64_t package_hosts);

// base (the engine's risk) + fleet factors; raw is the sum of their points, score that sum
// clipped to 0..100; severity is the band of
// the score, kept within a policy rule's floor or cap when the engine's severity shows one; a
// place with a provenance factor (its own, or known-public-key learnt from another host's
// package-owned place) is at most low, its score clipped into the low band; a managed identity
// is info.
scanner::RiskFacts fleet_risk(const scanner::RiskFacts& base, const FleetFacts& facts, const rules::RuleSet& rules);

// Whether a risk has a factor.
bool has_factor(const scanner::RiskFacts& r, std::string_view id);

// Risk as the finding JSON writes it, and back.
nlohmann::json risk_to_json(const scanner::RiskFacts& r);
scanner::RiskFacts risk_from_json(const nlohmann::json& j);

// 0 info .. 4 critical; -1 when unknown.
int severity_rank(std::string_view severity);

}  // namespace keyward::collector::detail
