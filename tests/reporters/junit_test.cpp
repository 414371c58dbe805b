// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <keyward/reporters/junit.hpp>
#include <keyward/scanner/scan.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "support/keygen.hpp"
#include "support/python_check.hpp"
#include "support/temp_tree.hpp"

using namespace keyward::scanner;
using namespace keyward::reporters;
namespace t = keyward::test;
using nlohmann::json;

namespace {

Finding scored(const std::string& rel, std::uint64_t line, const std::string& severity, int score) {
  Finding f;
  f.id = "id-" + rel;
  f.rule = "private-key/pkcs8";
  f.kind = Kind::private_key;
  f.format = Format::pem_pkcs8;
  f.location.path = "/repo/" + rel;
  f.location.line = line;
  f.relative_path = rel;
  f.key.emplace();
  f.key->algorithm = "ec";
  f.key->curve = "P-256";
  f.risk.emplace();
  f.risk->score = score;
  f.risk->severity = severity;
  f.risk->factors = {{"unencrypted-private-key", 40, "the key is not encrypted"}};
  f.risk->remediation = "Rotate the key & move it to a vault.";
  return f;
}

ScanResult ladder() {
  ScanResult r;
  r.scan_id = "abc";
  r.started_at = 1767225600;
  r.finished_at = 1767225603;
  r.findings = {scored("a/info.pem", 1, "info", 5), scored("a/low.pem", 2, "low", 20),
                scored("a/medium.pem", 3, "medium", 50), scored("a/high.pem", 4, "high", 75),
                scored("a/critical.pem", 5, "critical", 95)};
  auto suppressed = scored("a/allowed.pem", 6, "critical", 95);
  suppressed.suppressed = Suppression{"baseline", "in baseline .keyward-baseline.json since 2026-11-01"};
  r.findings.push_back(suppressed);
  return r;
}

// Parses the XML with Python's xml.etree and prints a JSON summary of it.
json parse_junit(const std::string& xml) {
  const std::string script = R"(import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = root.findall("testsuite") if root.tag == "testsuites" else [root]
out = {"root": root.tag, "suites": []}
for s in suites:
    cases = []
    for c in s.findall("testcase"):
        case = {"classname": c.get("classname"), "name": c.get("name"), "children": {}}
        for child in c:
            case["children"][child.tag] = {"message": child.get("message"), "type": child.get("type"),
                                           "text": child.text or ""}
        cases.append(case)
    out["suites"].append({"name": s.get("name"), "tests": int(s.get("tests")), "failures": int(s.get("failures")),
                          "skipped": int(s.get("skipped")), "cases": cases})
print(json.dumps(out))
)";
  const auto run = t::run_python(script, xml);
  INFO(run.output);
  REQUIRE(run.status == 0);
  return json::parse(run.output);
}

const json& case_named(const json& summary, const std::string& name) {
  for (const auto& c : summary["suites"][0]["cases"])
    if (c["name"] == name) return c;
  FAIL("no test case " << name);
  static json none;
  return none;
}

}  // namespace

TEST_CASE("the JUnit report is well-formed XML with one suite and one test case per finding") {
  const auto s = parse_junit(render_junit(ladder(), "high"));
  CHECK(s["root"] == "testsuites");
  REQUIRE(s["suites"].size() == 1);
  CHECK(s["suites"][0]["name"] == "keyward");
  CHECK(s["suites"][0]["tests"] == 6);
  REQUIRE(s["suites"][0]["cases"].size() == 6);
  const auto& c = case_named(s, "a/critical.pem:5");
  CHECK(c["classname"] == "private-key/pkcs8");
  CHECK(c["children"]["failure"]["type"] == "critical");
  const std::string message = c["children"]["failure"]["message"];
  CHECK(message.find("Unencrypted EC P-256 private key (pem-pkcs8) in a/critical.pem at line 5") == 0);
  CHECK(message.find("risk 95/100 (critical)") != std::string::npos);
  CHECK(c["children"]["failure"]["text"].get<std::string>().find("Rotate the key & move it to a vault.") !=
        std::string::npos);
}

TEST_CASE("only unsuppressed findings at or above the threshold fail") {
  const auto high = parse_junit(render_junit(ladder(), "high"));
  CHECK(high["suites"][0]["failures"] == 2);
  CHECK(case_named(high, "a/high.pem:4")["children"].contains("failure"));
  CHECK(case_named(high, "a/critical.pem:5")["children"].contains("failure"));
  CHECK(!case_named(high, "a/medium.pem:3")["children"].contains("failure"));
  CHECK(case_named(high, "a/medium.pem:3")["children"].contains("system-out"));
  CHECK(!case_named(high, "a/allowed.pem:6")["children"].contains("failure"));

  CHECK(parse_junit(render_junit(ladder(), "critical"))["suites"][0]["failures"] == 1);
  CHECK(parse_junit(render_junit(ladder(), "medium"))["suites"][0]["failures"] == 3);
  CHECK(parse_junit(render_junit(ladder(), "info"))["suites"][0]["failures"] == 5);
}

TEST_CASE("test cases come in the total order of findings: band, then the raw sum at the cap, then the id") {
  ScanResult r = ladder();  // written info first, as a path-ordered scan might list them
  auto near_cap = scored("a/near.pem", 7, "critical", 100);
  near_cap.risk->raw = 110;
  auto far_over = scored("a/far.pem", 8, "critical", 100);
  far_over.risk->raw = 160;
  r.findings.push_back(near_cap);
  r.findings.push_back(far_over);
  for (auto& f : r.findings)
    if (f.risk->raw == 0) f.risk->raw = f.risk->score;
  const auto s = parse_junit(render_junit(r, "high"));
  std::vector<std::string> names;
  for (const auto& c : s["suites"][0]["cases"]) names.push_back(c["name"]);
  CHECK(names == std::vector<std::string>{"a/far.pem:8", "a/near.pem:7", "a/allowed.pem:6", "a/critical.pem:5",
                                          "a/high.pem:4", "a/medium.pem:3", "a/low.pem:2", "a/info.pem:1"});
}

TEST_CASE("suppressed findings are skipped with their justification") {
  const auto s = parse_junit(render_junit(ladder(), "info"));
  CHECK(s["suites"][0]["skipped"] == 1);
  const auto& c = case_named(s, "a/allowed.pem:6");
  CHECK(c["children"]["skipped"]["message"] == "in baseline .keyward-baseline.json since 2026-11-01");
}

TEST_CASE("an empty result gives one passing test case named no new keys") {
  const auto s = parse_junit(render_junit(ScanResult{}, "high"));
  REQUIRE(s["suites"][0]["cases"].size() == 1);
  CHECK(s["suites"][0]["cases"][0]["name"] == "no new keys");
  CHECK(s["suites"][0]["cases"][0]["children"].empty());
  CHECK(s["suites"][0]["failures"] == 0);
}

TEST_CASE("markup, control characters and invalid bytes in paths still give well-formed XML") {
  ScanResult r;
  auto f = scored("we<ird>&\"quote's\"/\x01\xff\xc0\xaf-name.pem", 2, "high", 80);
  f.suppressed.reset();
  r.findings.push_back(f);
  auto g = scored("b]]>.pem", 0, "low", 20);
  g.suppressed = Suppression{"inline", "line1\nline2 <ok> & \"fine\""};
  r.findings.push_back(g);
  const auto xml = render_junit(r, "high");
  const auto s = parse_junit(xml);
  REQUIRE(s["suites"][0]["cases"].size() == 2);
  const std::string name = s["suites"][0]["cases"][0]["name"];
  CHECK(name.find("we<ird>&\"quote's\"/") == 0);
  CHECK(name.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(s["suites"][0]["cases"][1]["name"] == "b]]>.pem");
  CHECK(s["suites"][0]["cases"][1]["children"]["skipped"]["message"] == "line1\nline2 <ok> & \"fine\"");
}

TEST_CASE("an unknown threshold is rejected") {
  CHECK_THROWS_AS(render_junit(ladder(), "severe"), std::invalid_argument);
  CHECK_THROWS_AS(render_junit(ladder(), ""), std::invalid_argument);
}

TEST_CASE("a real scan's JUnit report fails on the unencrypted key and holds no key bytes") {
  t::TempTree tree;
  const std::string plain = t::pkcs8_pem(t::rsa_2048());
  tree.write("deploy/key.pem", plain);
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 1;
  const auto result = scan(o);
  REQUIRE(result.findings.size() == 1);
  const auto xml = render_junit(result, "high");  // unscored private keys default to high
  for (const auto& line : t::body_lines(plain)) CHECK(xml.find(line) == std::string::npos);
  const auto s = parse_junit(xml);
  CHECK(s["suites"][0]["failures"] == 1);
  const auto& c = case_named(s, "deploy/key.pem:1");
  CHECK(c["classname"] == "private-key/pkcs8");
  CHECK(c["children"]["failure"]["type"] == "high");
}

TEST_CASE("the gate's own rule decides failures, and a history finding names its commit") {
  ScanResult r = ladder();
  r.findings[0].git = GitFacts{"0123456789abcdef0123456789abcdef01234567", 1767225600};
  // The CI gate's default fails every key whatever its severity (rules/gate.hpp); here: any key.
  const auto s = parse_junit(
      render_junit(r, "any private key or key store", [](const Finding& f) { return f.kind == Kind::private_key; }));
  CHECK(s["suites"][0]["failures"] == 5);  // info and low keys too; the suppressed one is skipped
  const auto& info = case_named(s, "a/info.pem:1");
  REQUIRE(info["children"].contains("failure"));
  CHECK(info["children"]["failure"]["message"].get<std::string>().find("of commit " + r.findings[0].git->commit) !=
        std::string::npos);
  CHECK(info["children"]["failure"]["text"].get<std::string>().find("Commit: " + r.findings[0].git->commit) !=
        std::string::npos);
  CHECK(case_named(s, "a/allowed.pem:6")["children"].contains("skipped"));
}
