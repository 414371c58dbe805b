// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/severity.hpp>

#include <doctest/doctest.h>

using keyward::rules::parse_severity;
using keyward::rules::Severity;
using keyward::rules::severity_for_score;
using keyward::rules::to_string;

TEST_CASE("severities spell and parse as their JSON names and order from info to critical") {
  for (auto s : {Severity::info, Severity::low, Severity::medium, Severity::high, Severity::critical})
    CHECK(parse_severity(to_string(s)) == s);
  CHECK(to_string(Severity::critical) == "critical");
  CHECK_FALSE(parse_severity("Critical").has_value());
  CHECK_FALSE(parse_severity("severe").has_value());
  CHECK(Severity::info < Severity::low);
  CHECK(Severity::high < Severity::critical);
}

TEST_CASE("score bands follow the design: critical 90 high 70 medium 40 low 15") {
  CHECK(severity_for_score(100) == Severity::critical);
  CHECK(severity_for_score(90) == Severity::critical);
  CHECK(severity_for_score(89) == Severity::high);
  CHECK(severity_for_score(70) == Severity::high);
  CHECK(severity_for_score(69) == Severity::medium);
  CHECK(severity_for_score(40) == Severity::medium);
  CHECK(severity_for_score(39) == Severity::low);
  CHECK(severity_for_score(15) == Severity::low);
  CHECK(severity_for_score(14) == Severity::info);
  CHECK(severity_for_score(0) == Severity::info);
}
