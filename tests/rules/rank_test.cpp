// SPDX-License-Identifier: Apache-2.0
// The total order of findings (rules/include/keyward/rules/rank.hpp; docs/findings.md "Order").
#include <keyward/rules/rank.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using keyward::scanner::Finding;
using keyward::scanner::RiskFacts;

namespace {

// A finding whose risk is the given factors' sum, clipped and banded as the engine does.
Finding with_risk(std::string id, std::string severity, std::vector<int> points, std::int64_t mtime = 0) {
  Finding f;
  f.id = std::move(id);
  f.file.mtime = mtime;
  RiskFacts r;
  for (int p : points) {
    r.factors.push_back({"f" + std::to_string(r.factors.size()), p, ""});
    r.raw += p;
  }
  r.score = std::clamp(r.raw, 0, 100);
  r.severity = std::move(severity);
  f.risk = r;
  return f;
}

std::vector<std::string> ids_in_rank_order(std::vector<Finding> fs) {
  std::mt19937 shuffle_seed(7);
  std::shuffle(fs.begin(), fs.end(), shuffle_seed);  // the order must not depend on the input's
  keyward::rules::sort_by_rank(fs);
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.id);
  return out;
}

}  // namespace

TEST_CASE("scores tied at the cap of 100 separate by their raw sum") {
  auto order = ids_in_rank_order({with_risk("at-cap-110", "critical", {30, 40, 40}),
                                  with_risk("at-cap-160", "critical", {30, 40, 15, 10, 10, 25, 30}),
                                  with_risk("high-75", "high", {30, 45})});
  CHECK(order == std::vector<std::string>{"at-cap-160", "at-cap-110", "high-75"});
}

TEST_CASE("the severity band comes before the raw sum: a policy cap outranks points") {
  // A vendored key capped at low keeps its raw 95, and still comes after a medium finding of 45.
  auto order =
      ids_in_rank_order({with_risk("capped-low", "low", {30, 40, 25}), with_risk("medium", "medium", {30, 15})});
  CHECK(order == std::vector<std::string>{"medium", "capped-low"});
}

TEST_CASE("equal sums separate by the number of factors that add points, then by the newer file") {
  auto order = ids_in_rank_order({with_risk("two-factors", "high", {30, 40}),
                                  with_risk("three-factors", "high", {30, 25, 15}),
                                  with_risk("three-factors-newer", "high", {30, 25, 15}, 2000),
                                  with_risk("a-minus-counts-not", "high", {-10, 30, 50})});
  // "a-minus-counts-not" has two factors adding points, as "two-factors": the id decides.
  CHECK(order ==
        std::vector<std::string>{"three-factors-newer", "three-factors", "a-minus-counts-not", "two-factors"});
}

TEST_CASE("the order is total: identical risks fall back to the id, unscored findings come last") {
  Finding unscored;
  unscored.id = "0-unscored";
  auto order = ids_in_rank_order(
      {with_risk("b", "info", {0}), unscored, with_risk("a", "info", {0}), with_risk("c", "info", {-25, 30})});
  CHECK(order == std::vector<std::string>{"c", "a", "b", "0-unscored"});
  CHECK_FALSE(keyward::rules::ranks_before(with_risk("a", "low", {20}), with_risk("a", "low", {20})));
}
