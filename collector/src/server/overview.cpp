// SPDX-License-Identifier: Apache-2.0
// GET /api/v1/overview: one pass over the open places, plus the hosts and three certificate counts.
#include "server/overview.hpp"

#include "server/config.hpp"
#include "store/fleet_findings.hpp"

#include <keyward/reporters/crypto_algorithms.hpp>
#include <keyward/rules/severity.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace keyward::collector {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kWindows[] = {30, 60, 90};  // days, as FleetOverview::certificates_expiring

// The index of a band in SeverityCounts (critical first).
std::size_t band_index(rules::Severity s) { return 4 - static_cast<std::size_t>(s); }

// What one pass over the open places gathers per key identity.
struct IdentityFacts {
  std::int64_t first_seen = 0;  // the earliest of its open places
  std::optional<reporters::AlgorithmInfo> algorithm;
};

struct Tally {
  std::map<std::string, HostRisk, std::less<>> hosts;  // by agent id
  std::unordered_map<std::string, IdentityFacts> identities;
};

// Counts one open place into its host's bar, the severity totals and its identity's facts.
void count_place(const FindingRow& row, const scanner::Finding& f, FleetOverview& o, Tally& t) {
  const int score = f.risk ? f.risk->score : 0;
  const auto band = f.risk ? rules::parse_severity(f.risk->severity) : std::nullopt;
  const std::size_t i = band_index(band.value_or(rules::severity_for_score(score)));
  ++o.open_findings;
  ++o.open_by_severity[i];
  HostRisk& h = t.hosts[row.agent_id];
  ++h.open_findings;
  ++h.by_severity[i];
  h.max_score = std::max(h.max_score, score);
  auto [it, fresh] = t.identities.try_emplace(row.identity, IdentityFacts{row.first_seen, std::nullopt});
  IdentityFacts& id = it->second;
  if (!fresh) id.first_seen = std::min(id.first_seen, row.first_seen);
  if (!id.algorithm) id.algorithm = reporters::key_algorithm(f);
}

// Key identities by algorithm family and quantum verdict.
void count_algorithms(const Tally& t, std::int64_t now, FleetOverview& o) {
  std::map<std::string, AlgorithmCount> families;
  for (const auto& [identity, facts] : t.identities) {
    ++o.keys;
    if (facts.first_seen >= now - 7 * kDay) ++o.new_keys_7d;
    if (!facts.algorithm) {
      ++o.algorithm_unknown;
      continue;
    }
    ++(facts.algorithm->quantum_vulnerable ? o.quantum_vulnerable : o.quantum_safe);
    AlgorithmCount& c = families[facts.algorithm->family];
    c.algorithm = facts.algorithm->family;
    c.quantum_vulnerable = facts.algorithm->quantum_vulnerable;
    ++c.keys;
  }
  for (auto& [name, c] : families) o.by_algorithm.push_back(std::move(c));
  std::stable_sort(o.by_algorithm.begin(), o.by_algorithm.end(),
                   [](const AlgorithmCount& a, const AlgorithmCount& b) { return a.keys > b.keys; });
}

// Every host, with the bar its open places made (none for a host without open places).
void host_bars(Store& store, Tally& t, FleetOverview& o) {
  for (const HostRow& h : store.hosts()) {
    ++o.hosts;
    if (h.last_report_at != 0) ++o.hosts_reported;
    HostRisk bar = t.hosts.count(h.agent_id) ? t.hosts[h.agent_id] : HostRisk{};
    bar.agent_id = h.agent_id;
    bar.hostname = h.hostname;
    bar.max_severity = h.max_severity;  // the store's, as GET /api/v1/hosts says it
    o.risk_by_host.push_back(std::move(bar));
  }
  std::stable_sort(o.risk_by_host.begin(), o.risk_by_host.end(), [](const HostRisk& a, const HostRisk& b) {
    return std::tie(b.max_score, b.open_findings) < std::tie(a.max_score, a.open_findings);
  });
}

json severity_json(const SeverityCounts& c) {
  return json{{"critical", c[0]}, {"high", c[1]}, {"medium", c[2]}, {"low", c[3]}, {"info", c[4]}};
}

}  // namespace

FleetOverview fleet_overview(Store& store, std::int64_t now) {
  FleetOverview o;
  o.generated_at = now;
  Tally t;
  o.undecodable = for_each_place(store, "open", [&o, &t](const FindingRow& row, scanner::Finding& f) {
    count_place(row, f, o, t);
  });
  count_algorithms(t, now, o);
  host_bars(store, t, o);
  o.certificates_expired = store.expiring_certificates(0, now, 1, 0).total;
  for (std::size_t i = 0; i < o.certificates_expiring.size(); ++i)
    o.certificates_expiring[i] = store.expiring_certificates(kWindows[i] * kDay, now, 1, 0).total - o.certificates_expired;
  return o;
}

json to_json(const FleetOverview& o) {
  json hosts = json::array();
  for (const HostRisk& h : o.risk_by_host)
    hosts.push_back(json{{"agent_id", h.agent_id},
                         {"hostname", h.hostname},
                         {"open_findings", h.open_findings},
                         {"max_score", h.max_score},
                         {"max_severity", h.max_severity.empty() ? json(nullptr) : json(h.max_severity)},
                         {"by_severity", severity_json(h.by_severity)}});
  json algorithms = json::array();
  for (const AlgorithmCount& a : o.by_algorithm)
    algorithms.push_back(json{{"algorithm", a.algorithm}, {"keys", a.keys}, {"quantum_vulnerable", a.quantum_vulnerable}});
  return json{{"generated_at", rfc3339(o.generated_at)},
              {"hosts", o.hosts},
              {"hosts_reported", o.hosts_reported},
              {"keys", o.keys},
              {"new_keys_7d", o.new_keys_7d},
              {"open_findings", o.open_findings},
              {"open_by_severity", severity_json(o.open_by_severity)},
              {"certificates", {{"expired", o.certificates_expired},
                                {"expiring_30d", o.certificates_expiring[0]},
                                {"expiring_60d", o.certificates_expiring[1]},
                                {"expiring_90d", o.certificates_expiring[2]}}},
              {"risk_by_host", std::move(hosts)},
              {"quantum", {{"vulnerable", o.quantum_vulnerable},
                           {"safe", o.quantum_safe},
                           {"unknown", o.algorithm_unknown},
                           {"by_algorithm", std::move(algorithms)}}},
              {"undecodable", o.undecodable}};
}

}  // namespace keyward::collector
