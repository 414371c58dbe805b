// SPDX-License-Identifier: Apache-2.0
// A report's findings as places of one agent: the rules engine's risk and every column the
// places table keeps, made before the store is locked (issue 12: the lock covers database work
// only, not scoring and JSON), then written by the ingest in bounded chunks.
// Used by: sql_ingest.cpp (live reports) and sql_agents.cpp (held reports at approval).
// Pure: reads the report and the rule set, touches no database.
#pragma once

#include <keyward/protocol/protocol.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/scanner/finding.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace keyward::collector::detail {

// One finding as a place of one agent.
struct PlacedFinding {
  std::string place_id;  // sha256(agent_id NUL finding_id)
  std::string finding_id;
  std::string identity;  // fleet_risk.hpp identity_of
  std::string kind, rule, path, member, algorithm;
  std::optional<std::uint32_t> bits;
  bool holds_key = false;
  std::int64_t not_after = 0;  // earliest certificate expiry in it; 0: none
  std::string base_risk;       // the rules engine's risk (JSON text), with the agent's package-owned
  bool package_owned = false;  // an installed package owns the file on the agent's host
  int score = 0;
  std::string severity;
  std::string finding_json;  // the finding with the engine's risk
  nlohmann::json event;      // rule, kind and location for its "new" event
};

// One place per distinct finding id (the first wins), in report order.
struct PlacedReport {
  std::string report_id;
  bool complete = false;
  std::uint64_t findings = 0;  // in the report, duplicates included
  std::vector<PlacedFinding> places;
  std::unordered_set<std::string> place_ids;
  std::string digest;  // ScoredReport::digest
};

// A report's findings scored by the collector's rules, before its places are made: an unchanged
// snapshot is recognised from its digest without the JSON of its places.
struct ScoredReport {
  std::string agent_id;
  std::string report_id;
  bool complete = false;
  std::uint64_t findings = 0;            // in the report, duplicates included
  std::vector<scanner::Finding> scored;  // one per distinct finding id (the first wins), in report order
  // SHA-256 hex over the complete flag and every scored finding (its id and JSON), in id order:
  // equal for two snapshots that would leave the host's places the same.
  std::string digest;
};

// Copies a finding JSON's path and member (path_b64 and member_b64 when the name is not UTF-8)
// into an event's detail: raw bytes would make json::dump throw.
void put_location(nlohmann::json& detail, const nlohmann::json& finding);

// Scores the report's findings (paths are absolute on the agent's host: the default context at
// `now`, without this machine's package database) and digests them.
ScoredReport score_report(const std::string& agent_id, const protocol::Report& report, const rules::RuleSet& rules,
                          std::int64_t now);
// Makes the places of a scored report.
PlacedReport place_report(ScoredReport scored);
// Both.
PlacedReport place_report(const std::string& agent_id, const protocol::Report& report, const rules::RuleSet& rules,
                          std::int64_t now);

}  // namespace keyward::collector::detail
