// SPDX-License-Identifier: Apache-2.0
// The fleet at a glance for the dashboard's first page (GET /api/v1/overview, docs/dashboard.md):
// hosts, keys, open findings by severity, risk by host, keys first seen this week, certificates
// expiring in 30, 60 and 90 days, and quantum-vulnerable keys by algorithm.
// Used by: api.cpp (on the work pool: it reads every open place once). Reads the store only; the
// quantum verdict is reporters::key_algorithm(), the one every report uses.
// Must never hold a secret (the store holds none) nor a finding's comment.
#pragma once

#include <keyward/collector/store.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace keyward::collector {

// Open findings by severity band: critical, high, medium, low, info (in that order).
using SeverityCounts = std::array<std::uint64_t, 5>;

// One host's bar on the overview.
struct HostRisk {
  std::string agent_id;
  std::string hostname;
  std::uint64_t open_findings = 0;
  int max_score = 0;  // the fleet risk score of its riskiest open place; 0 when none
  std::string max_severity;  // "" when none
  SeverityCounts by_severity{};
};

// Distinct open key identities of one algorithm family (reporters::AlgorithmInfo::family).
struct AlgorithmCount {
  std::string algorithm;
  std::uint64_t keys = 0;
  bool quantum_vulnerable = true;
};

struct FleetOverview {
  std::int64_t generated_at = 0;
  std::uint64_t hosts = 0;
  std::uint64_t hosts_reported = 0;       // hosts that delivered at least one report
  std::uint64_t keys = 0;                 // distinct key identities with an open place
  std::uint64_t new_keys_7d = 0;          // of those, identities whose every open place is under 7 days old
  std::uint64_t open_findings = 0;
  SeverityCounts open_by_severity{};
  // Open certificate places (as GET /api/v1/certificates): expired, and valid but expiring
  // within 30, 60 and 90 days (each count includes the shorter windows).
  std::uint64_t certificates_expired = 0;
  std::array<std::uint64_t, 3> certificates_expiring{};  // 30, 60, 90 days
  std::vector<HostRisk> risk_by_host;                    // every host, riskiest first
  std::uint64_t quantum_vulnerable = 0, quantum_safe = 0, algorithm_unknown = 0;  // key identities
  std::vector<AlgorithmCount> by_algorithm;  // most keys first
  std::uint64_t undecodable = 0;             // stored findings that no longer decode (counted)
};

// The overview as of `now`: the hosts, every open place (pages of 1000) and three certificate counts.
FleetOverview fleet_overview(Store& store, std::int64_t now);

// Its JSON answer (docs/api/openapi.yaml, Overview).
nlohmann::json to_json(const FleetOverview& o);

}  // namespace keyward::collector
