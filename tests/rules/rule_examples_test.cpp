// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/rule_set.hpp>
#include <keyward/rules/rule_test.hpp>

#include <doctest/doctest.h>

#include <support/temp_tree.hpp>

using keyward::rules::RuleSet;
using keyward::rules::RuleTestOptions;

TEST_CASE("every example of the built-in rules passes keyward rules test") {
  const RuleSet rules = RuleSet::builtin();
  const auto report = keyward::rules::run_rule_examples(rules);
  for (const auto& r : report.results) {
    CAPTURE(r.rule_id);
    CAPTURE(r.generate);
    CAPTURE(r.line);
    CHECK_MESSAGE(r.passed, (r.positive ? "positive: " : "negative: ") << r.detail);
  }
  CHECK(report.without_examples.empty());
  CHECK(report.failed() == 0);
  CHECK(report.passed() >= 70);
}

TEST_CASE("a failing example is reported with its rule file line and what the scan saw") {
  keyward::test::TempTree tree;
  RuleSet rules = RuleSet::builtin();
  rules.load_text(R"(
policies:
  - id: policy/wrong-expectation
    title: Claims public keys are critical
    match: {kind: public_key}
    severity_at_least: medium
    examples:
      positive:
        - generate: rsa-2048 pem-public-key
          expect: {severity_at_least: critical}
      negative:
        - generate: rsa-2048 pem-public-key
)",
                  "team.yaml");
  RuleTestOptions o;
  o.only = {"policy/wrong-*"};
  const auto report = keyward::rules::run_rule_examples(rules, o);
  REQUIRE(report.results.size() == 2);
  CHECK_FALSE(report.results[0].passed);
  CHECK(report.results[0].file == "team.yaml");
  CHECK(report.results[0].line == 9);
  CHECK(report.results[0].detail.find("below critical") != std::string::npos);
  CHECK_FALSE(report.results[1].passed);
  CHECK(report.results[1].detail.find("public-key/spki") != std::string::npos);
}
