// SPDX-License-Identifier: Apache-2.0
#include "detectors/detector.hpp"

#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_error.hpp>
#include <keyward/rules/rule_set.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string_view>

#include <support/temp_tree.hpp>

#include <string>

using keyward::rules::RuleError;
using keyward::rules::RuleSet;
using keyward::rules::Severity;

namespace {

// The error a YAML text raises when loaded on top of the built-ins.
RuleError error_of(const std::string& yaml) {
  RuleSet rules = RuleSet::builtin();
  try {
    rules.load_text(yaml, "team.yaml");
  } catch (const RuleError& e) {
    return e;
  }
  FAIL("no RuleError for:\n" << yaml);
  return RuleError("", 0, "", "");
}

}  // namespace

TEST_CASE("built-in rules document every rule id the scanner's detectors emit") {
  const RuleSet rules = RuleSet::builtin();
  // The rule ids come from the detector registry, where each format declares what it emits.
  std::set<std::string_view> ids;
  for (const auto& d : keyward::scanner::detail::builtin_detectors())
    for (std::string_view id : d.rules) ids.insert(id);
  CHECK(ids.size() == 30);
  for (std::string_view id : ids) {
    CAPTURE(id);
    const auto* r = rules.rule(id);
    REQUIRE(r != nullptr);
    CHECK_FALSE(r->title.empty());
    CHECK_FALSE(r->description.empty());
    CHECK_FALSE(r->remediation.empty());
    CHECK(std::any_of(r->examples.begin(), r->examples.end(), [](const auto& e) { return e.positive; }));
    CHECK(std::any_of(r->examples.begin(), r->examples.end(), [](const auto& e) { return !e.positive; }));
  }
  CHECK(rules.detections().size() == 30);
  CHECK(rules.rule("private-key/nonsense") == nullptr);
  const auto* pkcs8 = rules.rule("private-key/pkcs8");
  CHECK(pkcs8->severity == Severity::high);
  CHECK(std::find(pkcs8->references.begin(), pkcs8->references.end(), "CWE-321") != pkcs8->references.end());
  CHECK(std::find(pkcs8->references.begin(), pkcs8->references.end(), "MITRE ATT&CK T1552.004") !=
        pkcs8->references.end());
}

TEST_CASE("built-in factor table holds every factor the engine assigns, with a why and points in range") {
  const RuleSet rules = RuleSet::builtin();
  for (auto id : keyward::rules::engine_factor_ids()) {
    CAPTURE(id);
    const auto* f = rules.factor(id);
    REQUIRE(f != nullptr);
    CHECK_FALSE(f->why.empty());
    CHECK(f->points >= -100);
    CHECK(f->points <= 100);
  }
  CHECK(rules.factor("test-path")->points < 0);
  CHECK(rules.factor("code-signing-baseline-violation")->why.find("CSC-13") != std::string::npos);
  CHECK(rules.factor("code-signing-baseline-violation")->why.find("FIPS 140-2 Level 2") != std::string::npos);
}

TEST_CASE("built-in known keys list Vagrant's published insecure keys by SPKI") {
  const RuleSet rules = RuleSet::builtin();
  const auto& known = rules.known_keys();
  REQUIRE(known.count("bde93142b0780b2a66d27977d35f4f542e71cc538d491fe6609e2380b747a027") == 1);
  CHECK(known.at("bde93142b0780b2a66d27977d35f4f542e71cc538d491fe6609e2380b747a027").find("Vagrant") !=
        std::string::npos);
  CHECK(known.count("a7279699e5c6a4ad971f9f205c2409a1cfb05216522b53b3d894dd3ede5e9675") == 1);
}

TEST_CASE("a YAML syntax error names the file, its line and the code yaml-syntax") {
  const auto e = error_of("factors:\n  - id: x\n    points: [1, 2\n");
  CHECK(e.file == "team.yaml");
  CHECK(e.code == "yaml-syntax");
  CHECK(e.line >= 3);
  CHECK(std::string(e.what()).rfind("team.yaml:", 0) == 0);
}

TEST_CASE("broken rule files fail with file line and a stable code") {
  SUBCASE("unknown field") {
    const auto e = error_of("detections:\n  - id: private-key/pkcs8\n    severty: high\n");
    CHECK(e.code == "unknown-field");
    CHECK(e.line == 3);
    CHECK(std::string(e.what()) == std::string("team.yaml:3: unknown-field: ") + e.message);
    CHECK(e.message.find("severty") != std::string::npos);
  }
  SUBCASE("missing id") {
    const auto e =
        error_of("policies:\n  - title: no id\n    match: {kind: private_key}\n    severity_at_least: high\n");
    CHECK(e.code == "missing-id");
    CHECK(e.line == 2);
  }
  SUBCASE("bad severity") {
    const auto e = error_of("detections:\n  - id: private-key/pkcs8\n    severity: severe\n");
    CHECK(e.code == "bad-severity");
    CHECK(e.line == 3);
  }
  SUBCASE("bad glob") {
    const auto e = error_of(
        "policies:\n  - id: policy/x\n    title: t\n    match:\n      path: \"keys/[abc\"\n    severity_at_most: "
        "low\n");
    CHECK(e.code == "bad-glob");
    CHECK(e.line == 5);
  }
  SUBCASE("unknown top-level section") {
    const auto e = error_of("\n\nrulez: []\n");
    CHECK(e.code == "unknown-field");
    CHECK(e.line == 3);
  }
  SUBCASE("a new detection rule without its documentation") {
    const auto e = error_of("detections:\n  - id: private-key/new-thing\n    title: New\n");
    CHECK(e.code == "missing-field");
    CHECK(e.line == 2);
  }
  SUBCASE("points out of range") {
    const auto e = error_of("factors:\n  - id: private-key\n    points: 500\n");
    CHECK(e.code == "bad-points");
    CHECK(e.line == 3);
  }
  SUBCASE("a policy adding a factor no table defines") {
    const auto e = error_of(
        "policies:\n  - id: policy/x\n    title: t\n    match: {kind: keystore}\n    add_factors: [no-such-factor]\n");
    CHECK(e.code == "unknown-factor");
    CHECK(e.line == 2);
  }
  SUBCASE("a kind the scanner does not report") {
    const auto e = error_of(
        "policies:\n  - id: policy/x\n    title: t\n    match: {kind: secret_key}\n    severity_at_most: low\n");
    CHECK(e.code == "bad-kind");
  }
  SUBCASE("an id defined twice in one file") {
    const auto e = error_of("factors:\n  - {id: a-b, points: 1, why: w}\n  - {id: a-b, points: 2, why: w}\n");
    CHECK(e.code == "duplicate-id");
    CHECK(e.line == 3);
  }
  SUBCASE("an id that is not kebab-case") {
    const auto e = error_of("factors:\n  - {id: Bad_Id, points: 1, why: w}\n");
    CHECK(e.code == "bad-id");
  }
  SUBCASE("a generator spec the generator does not know") {
    const auto e = error_of(
        "detections:\n  - id: private-key/pkcs8\n    examples:\n      positive:\n        - generate: rsa-512 "
        "pem-pkcs8\n");
    CHECK(e.code == "bad-generator");
    CHECK(e.line == 5);
  }
  SUBCASE("a policy that does nothing") {
    const auto e = error_of("policies:\n  - id: policy/x\n    title: t\n    match: {kind: keystore}\n");
    CHECK(e.code == "missing-action");
  }
}

TEST_CASE("a broken file leaves the rule set as it was") {
  RuleSet rules = RuleSet::builtin();
  const auto before = rules.factor("private-key")->points;
  CHECK_THROWS_AS(
      rules.load_text("factors:\n  - {id: private-key, points: 1, why: w}\n  - {id: x, points: oops, why: w}\n",
                      "team.yaml"),
      RuleError);
  CHECK(rules.factor("private-key")->points == before);
}

TEST_CASE("a rules directory overrides fields by id and adds new rules factors policies and known keys") {
  keyward::test::TempTree tree;
  tree.write("10-factors.yaml",
             "factors:\n  - id: private-key\n    points: 35\n  - id: prod-host\n    points: 20\n    why: On a "
             "production host.\n");
  tree.write("20-rules.yaml",
             "detections:\n  - id: private-key/pkcs8\n    severity: critical\n"
             "policies:\n  - id: policy/prod\n    title: Production keys\n    match: {path: \"prod/*\"}\n"
             "    add_factors: [prod-host]\n    severity_at_least: high\n"
             "known_keys:\n  - {spki_sha256: " +
                 std::string(64, 'b') + ", name: Team test key}\n");
  tree.write("known-keys.txt", std::string(64, 'd') + " Another published key\n");
  tree.write("notes.txt", "not a rule file\n");
  RuleSet rules = RuleSet::builtin();
  rules.load_dir(tree.path());
  CHECK(rules.factor("private-key")->points == 35);
  CHECK(rules.factor("private-key")->why == RuleSet::builtin().factor("private-key")->why);  // kept
  CHECK(rules.factor("prod-host") != nullptr);
  const auto* r = rules.rule("private-key/pkcs8");
  CHECK(r->severity == Severity::critical);
  CHECK(r->title == RuleSet::builtin().rule("private-key/pkcs8")->title);
  REQUIRE(rules.policy("policy/prod") != nullptr);
  CHECK(rules.policies().back().id == "policy/prod");
  CHECK(rules.known_keys().count(std::string(64, 'b')) == 1);
  CHECK(rules.known_keys().count(std::string(64, 'd')) == 1);
}

TEST_CASE("a rules directory that is missing or holds no rule files is an error") {
  RuleSet rules = RuleSet::builtin();
  try {
    rules.load_dir("/nonexistent/keyward-rules");
    FAIL("no error");
  } catch (const RuleError& e) {
    CHECK(e.code == "cannot-read");
    CHECK(e.file == "/nonexistent/keyward-rules");
  }
  keyward::test::TempTree tree;
  tree.write("README.md", "nothing here\n");
  try {
    rules.load_dir(tree.path());
    FAIL("no error");
  } catch (const RuleError& e) {
    CHECK(e.code == "no-rule-files");
  }
}
