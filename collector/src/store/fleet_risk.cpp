// SPDX-License-Identifier: Apache-2.0
// Fleet factors on top of the rules engine's risk; key identities.
#include "store/fleet_risk.hpp"

#include <keyward/rules/factor.hpp>
#include <keyward/rules/severity.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace keyward::collector::detail {
namespace {

void add(scanner::RiskFacts& r, const rules::RuleSet& rules, std::string_view id,
         const std::map<std::string, std::string>& vars) {
  const rules::FactorDef* def = rules.factor(id);
  if (def == nullptr) return;  // a rule set without the fleet factors scores without them
  if (has_factor(r, id)) return;
  r.factors.push_back({def->id, def->points, rules::fill_why(def->why, vars)});
}

bool has_provenance(const scanner::RiskFacts& r) {
  return has_factor(r, kPackageOwned) || has_factor(r, kVendored) || has_factor(r, kKnownPublicKey);
}

// The highest score whose band is at most `band` (severity.hpp's bands).
int top_score_of(rules::Severity band) {
  int score = 100;
  while (score > 0 && rules::severity_for_score(score) > band) --score;
  return score;
}

}  // namespace

bool has_factor(const scanner::RiskFacts& r, std::string_view id) {
  return std::any_of(r.factors.begin(), r.factors.end(), [&](const scanner::RiskFactor& f) { return f.id == id; });
}

int severity_rank(std::string_view severity) {
  auto s = rules::parse_severity(severity);
  return s ? static_cast<int>(*s) : -1;
}

scanner::RiskFacts fleet_risk(const scanner::RiskFacts& base, const FleetFacts& facts, const rules::RuleSet& rules) {
  scanner::RiskFacts r = base;
  const auto count = [&](std::uint64_t n, std::string_view mark) {
    return facts.marks ? std::string(mark) : std::to_string(n);
  };
  if (facts.holds_key && facts.key_hosts >= 2)
    add(r, rules, kFleetSpread, {{"count", count(facts.key_hosts, kKeyHostsMark)}});
  if (facts.holds_key && facts.build_host) add(r, rules, kBuildHost, {});
  if (facts.managed) add(r, rules, kKeywardManaged, {{"name", facts.managed_what}});
  if (facts.package_hosts > 0 && !has_factor(r, kPackageOwned))
    add(r, rules, kKnownPublicKey,
        {{"name", fmt::format("installed by a package on {} host(s) of the fleet, package-owned there",
                              count(facts.package_hosts, kPackageHostsMark))}});

  r.raw = 0;
  for (const auto& f : r.factors) r.raw += f.points;
  r.score = std::clamp(r.raw, 0, 100);
  rules::Severity sev = rules::severity_for_score(r.score);
  if (has_provenance(r)) {  // reported and counted, ranked down: at most low (raw keeps the sum)
    r.score = std::min(r.score, top_score_of(rules::Severity::low));
    sev = std::min(sev, rules::Severity::low);
  }
  // A policy rule may have raised or capped the engine's severity: keep that bound.
  const rules::Severity base_band = rules::severity_for_score(std::clamp(base.score, 0, 100));
  if (auto b = rules::parse_severity(base.severity)) {
    if (*b > base_band) sev = std::max(sev, *b);
    if (*b < base_band) sev = std::min(sev, *b);
  }
  if (facts.managed) sev = rules::Severity::info;
  r.severity = std::string(rules::to_string(sev));
  return r;
}

void fill_fleet_counts(nlohmann::json& risk, std::uint64_t key_hosts, std::uint64_t package_hosts) {
  auto factors = risk.find("factors");
  if (factors == risk.end() || !factors->is_array()) return;
  const std::pair<std::string_view, std::string> marks[] = {{kKeyHostsMark, std::to_string(key_hosts)},
                                                            {kPackageHostsMark, std::to_string(package_hosts)}};
  for (auto& f : *factors) {
    auto why = f.find("why");
    if (why == f.end() || !why->is_string()) continue;
    std::string text = why->get<std::string>();
    for (const auto& [mark, value] : marks)
      for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at + value.size()))
        text.replace(at, mark.size(), value);
    *why = std::move(text);
  }
}

nlohmann::json risk_to_json(const scanner::RiskFacts& r) {
  nlohmann::json factors = nlohmann::json::array();
  for (const auto& x : r.factors) factors.push_back({{"id", x.id}, {"points", x.points}, {"why", x.why}});
  nlohmann::json j = {{"score", r.score}, {"raw", r.raw}, {"severity", r.severity}, {"factors", factors}};
  if (!r.remediation.empty()) j["remediation"] = r.remediation;
  return j;
}

scanner::RiskFacts risk_from_json(const nlohmann::json& j) {
  scanner::RiskFacts r;
  if (!j.is_object()) return r;
  r.score = j.value("score", 0);
  r.raw = j.value("raw", r.score);  // risks stored before raw existed: the score
  r.severity = j.value("severity", std::string("info"));
  r.remediation = j.value("remediation", std::string());
  if (auto it = j.find("factors"); it != j.end() && it->is_array())
    for (const auto& x : *it)
      r.factors.push_back({x.value("id", std::string()), x.value("points", 0), x.value("why", std::string())});
  return r;
}

}  // namespace keyward::collector::detail
