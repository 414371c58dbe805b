// SPDX-License-Identifier: Apache-2.0
// The total order of findings (rank.hpp; docs/findings.md, "Order").
#include <keyward/rules/rank.hpp>

#include <keyward/rules/severity.hpp>

#include <algorithm>
#include <tuple>

namespace keyward::rules {
namespace {

// Everything the order compares, larger first, except the id (smaller first).
struct RankKey {
  int band = -1;  // Severity as an int; -1 for a finding without risk
  int raw = 0;
  int adding_factors = 0;  // factors with positive points
  std::int64_t mtime = 0;
};

RankKey key_of(const scanner::Finding& f) {
  RankKey k;
  if (!f.risk) return k;
  if (auto s = parse_severity(f.risk->severity)) k.band = static_cast<int>(*s);
  k.raw = f.risk->raw;
  k.adding_factors = adding_factors(*f.risk);
  k.mtime = f.file.mtime;
  return k;
}

}  // namespace

int adding_factors(const scanner::RiskFacts& risk) {
  return static_cast<int>(
      std::count_if(risk.factors.begin(), risk.factors.end(), [](const auto& x) { return x.points > 0; }));
}

bool ranks_before(const scanner::Finding& a, const scanner::Finding& b) {
  const RankKey ka = key_of(a), kb = key_of(b);
  const auto larger_first = [](const RankKey& k) { return std::tie(k.band, k.raw, k.adding_factors, k.mtime); };
  if (larger_first(ka) != larger_first(kb)) return larger_first(ka) > larger_first(kb);
  return a.id < b.id;
}

void sort_by_rank(std::vector<scanner::Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), ranks_before);
}

}  // namespace keyward::rules
