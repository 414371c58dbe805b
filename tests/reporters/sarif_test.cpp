// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <keyward/reporters/sarif.hpp>
#include <keyward/scanner/scan.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "support/keygen.hpp"
#include "support/python_check.hpp"
#include "support/temp_tree.hpp"

using namespace keyward::scanner;
using namespace keyward::reporters;
namespace t = keyward::test;
using nlohmann::json;

namespace {

constexpr const char* kRoot = "/work/repo";

Finding key_finding(const std::string& rel, std::uint64_t line, const std::string& severity, int score) {
  Finding f;
  f.id = "id-" + rel;
  f.rule = "private-key/pkcs8";
  f.kind = Kind::private_key;
  f.format = Format::pem_pkcs8;
  f.location.path = std::string(kRoot) + "/" + rel;
  f.location.line = line;
  f.relative_path = rel;
  f.identity = "spki-of-" + rel;
  f.key.emplace();
  f.key->algorithm = "rsa";
  f.key->bits = 3072;
  if (!severity.empty()) {
    f.risk.emplace();
    f.risk->score = score;
    f.risk->severity = severity;
    f.risk->factors = {{"unencrypted-private-key", 40, "the key is not encrypted"},
                       {"world-readable", 15, "mode 0644"},
                       {"in-git-repository", 30, "committed"},
                       {"test-fixture-path", -10, "under test/"}};
    f.risk->remediation = "Rotate the key.";
  }
  return f;
}

// A result with every shape the reporter handles: scored and unscored, suppressed inline and
// by allowlist, an archive member, a certificate, a path that needs percent-encoding.
ScanResult hand_built() {
  ScanResult r;
  r.tool_version = "0.1.0";
  r.scan_id = "0123456789abcdef0123456789abcdef";
  r.started_at = 1767225600;
  r.finished_at = 1767225604;
  r.host.hostname = "ci-7";
  r.roots = {kRoot};
  r.findings.push_back(key_finding("deploy/release.key", 12, "critical", 97));
  r.findings.push_back(key_finding("docs/example key #1.pem", 0, "medium", 45));
  r.findings.push_back(key_finding("src/low.pem", 3, "low", 20));
  r.findings.push_back(key_finding("unscored.pem", 1, "", 0));

  auto inline_ok = key_finding("test/fixtures/k.pem", 2, "high", 75);
  inline_ok.suppressed = Suppression{"inline", "keyward:allow test fixture (alice, until 2027-01-01)"};
  r.findings.push_back(inline_ok);
  auto allowed = key_finding("ops/old.pem", 5, "high", 80);
  allowed.suppressed = Suppression{"allowlist", "rotated 2026-10 (bob); expires 2027-03-01"};
  r.findings.push_back(allowed);

  auto member = key_finding("dist/app.jar", 7, "high", 78);
  member.location.member = "META-INF/keys/signing.pem";
  r.findings.push_back(member);

  Finding cert;
  cert.id = "cert-1";
  cert.rule = "certificate/x509";
  cert.kind = Kind::certificate;
  cert.format = Format::pem_cert;
  cert.location.path = std::string(kRoot) + "/certs/ca.crt";
  cert.location.line = 1;
  cert.relative_path = "certs/ca.crt";
  cert.identity = "cert-sha";
  cert.certificate.emplace();
  cert.certificate->subject = "CN=Example CA";
  r.findings.push_back(cert);

  r.errors.push_back({"/work/repo/secret", "permission denied"});
  return r;
}

SarifOptions options() {
  SarifOptions o;
  o.root = kRoot;
  RuleHelp h;
  h.id = "private-key/pkcs8";
  h.title = "Unprotected PKCS#8 private key";
  h.description = "A PKCS#8 private key was found in the tree.";
  h.remediation = "Remove it and rotate the key.";
  h.severity = "high";
  h.references = {"CWE-321", "MITRE ATT&CK T1552.004", "https://example.org/keys"};
  h.tags = {"private-key", "security", "private-key"};
  o.rules.push_back(h);
  RuleHelp unused;
  unused.id = "keystore/pkcs12";
  unused.title = "PKCS#12 key store";
  unused.severity = "medium";
  o.rules.push_back(unused);
  return o;
}

// Validates a SARIF text against the committed OASIS schema (Draft-07).
t::PythonRun validate(const std::string& sarif) {
  const std::string schema = t::source_dir() + "/docs/schemas/sarif-schema-2.1.0.json";
  const std::string script = R"(import json, sys
import jsonschema
schema = json.load(open(sys.argv[2], encoding="utf-8"))
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert schema["$id"].endswith("sarif-schema-2.1.0.json"), schema["$id"]
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
errors = list(v.iter_errors(doc))
for e in errors[:10]:
    print(e.message, "at", "/".join(str(p) for p in e.absolute_path))
sys.exit(1 if errors else 0)
)";
  return t::run_python(script, sarif, {schema});
}

const json& result_at(const json& log, const std::string& uri) {
  for (const auto& r : log["runs"][0]["results"])
    if (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri) return r;
  FAIL("no result at " << uri);
  static json none;
  return none;
}

ScanResult scan_tree(const t::TempTree& tree) {
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 1;
  o.tool_version = "0.1.0";
  return scan(o);
}

}  // namespace

TEST_CASE("a hand-built SARIF log validates against the committed SARIF 2.1.0 schema") {
  REQUIRE_MESSAGE(!t::source_dir().empty(), "KEYWARD_SOURCE is not set");
  const auto sarif = render_sarif(hand_built(), options());
  const auto check = validate(sarif);
  INFO(check.output);
  CHECK(check.status == 0);
}

TEST_CASE("an empty result is a valid SARIF log with an empty results array") {
  const auto sarif = render_sarif(ScanResult{}, SarifOptions{});
  const auto log = json::parse(sarif);
  CHECK(log["runs"][0]["results"].empty());
  CHECK(log["runs"][0]["tool"]["driver"]["rules"].empty());
  CHECK(!log["runs"][0].contains("originalUriBaseIds"));
  const auto check = validate(sarif);
  INFO(check.output);
  CHECK(check.status == 0);
}

TEST_CASE("the schema check rejects a log that breaks the SARIF schema") {
  auto log = json::parse(render_sarif(hand_built(), options()));
  log["runs"][0]["results"][0]["level"] = "fatal";
  log["runs"][0]["results"][1].erase("message");
  log["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0;
  const auto check = validate(log.dump());
  CHECK(check.status == 1);
  CHECK(check.output.find("'fatal' is not one of") != std::string::npos);
  CHECK(check.output.find("'message' is a required property") != std::string::npos);
  CHECK(check.output.find("0 is less than the minimum of 1") != std::string::npos);
}

TEST_CASE("every result has a rule id, a readable message and a root-relative location with a start line") {
  const auto log = json::parse(render_sarif(hand_built(), options()));
  CHECK(log["version"] == "2.1.0");
  const auto& run = log["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "keyward");
  CHECK(run["tool"]["driver"]["semanticVersion"] == "0.1.0");
  CHECK(run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///work/repo/");
  CHECK(run["automationDetails"]["id"] == "keyward/0123456789abcdef0123456789abcdef");
  CHECK(run["invocations"][0]["executionSuccessful"] == true);
  CHECK(run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"] ==
        "/work/repo/secret: permission denied");
  const auto& rules = run["tool"]["driver"]["rules"];
  REQUIRE(run["results"].size() == hand_built().findings.size());
  for (const auto& r : run["results"]) {
    const auto& loc = r["locations"][0]["physicalLocation"];
    CHECK(r["ruleId"] == rules[r["ruleIndex"].get<std::size_t>()]["id"]);
    CHECK(loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%");
    CHECK(loc["artifactLocation"]["uri"].get<std::string>().find("/work/") == std::string::npos);
    CHECK(loc["region"]["startLine"].get<int>() >= 1);
    CHECK(!r["message"]["text"].get<std::string>().empty());
  }
  const auto& key = result_at(log, "deploy/release.key");
  CHECK(key["ruleId"] == "private-key/pkcs8");
  CHECK(key["locations"][0]["physicalLocation"]["region"]["startLine"] == 12);
  const std::string text = key["message"]["text"];
  CHECK(text.find("Unencrypted RSA 3072 private key") != std::string::npos);
  CHECK(text.find("deploy/release.key at line 12") != std::string::npos);
  CHECK(text.find("risk 97/100 (critical)") != std::string::npos);
  CHECK(text.find("top factors: unencrypted-private-key (+40), in-git-repository (+30), world-readable (+15)") !=
        std::string::npos);
  // A finding without a line points at line 1.
  CHECK(result_at(log, "docs/example%20key%20%231.pem")["locations"][0]["physicalLocation"]["region"]["startLine"] ==
        1);
}

TEST_CASE("levels and security severities follow the finding's risk and else the rule default") {
  const auto log = json::parse(render_sarif(hand_built(), options()));
  const auto& critical = result_at(log, "deploy/release.key");
  CHECK(critical["level"] == "error");
  CHECK(critical["properties"]["security-severity"] == "9.7");
  CHECK(critical["properties"]["keyward-risk-factors"].size() == 4);
  CHECK(critical["properties"]["keyward-risk-factors"][0]["id"] == "unencrypted-private-key");
  CHECK(result_at(log, "docs/example%20key%20%231.pem")["level"] == "warning");
  CHECK(result_at(log, "docs/example%20key%20%231.pem")["properties"]["security-severity"] == "4.5");
  CHECK(result_at(log, "src/low.pem")["level"] == "note");
  // No risk: the rule's default (high) decides.
  const auto& unscored = result_at(log, "unscored.pem");
  CHECK(unscored["level"] == "error");
  CHECK(unscored["properties"]["security-severity"] == "8.0");
  CHECK(unscored["message"]["text"].get<std::string>().find("not scored") != std::string::npos);
  // Certificates without risk or rule help fall back to info.
  CHECK(result_at(log, "certs/ca.crt")["level"] == "note");
}

TEST_CASE("rules list every described rule and one generated rule per undescribed rule id") {
  const auto log = json::parse(render_sarif(hand_built(), options()));
  const auto& rules = log["runs"][0]["tool"]["driver"]["rules"];
  REQUIRE(rules.size() == 3);
  CHECK(rules[0]["id"] == "private-key/pkcs8");
  CHECK(rules[0]["name"] == "PrivateKeyPkcs8");
  CHECK(rules[0]["shortDescription"]["text"] == "Unprotected PKCS#8 private key");
  CHECK(rules[0]["fullDescription"]["text"] == "A PKCS#8 private key was found in the tree.");
  CHECK(rules[0]["help"]["text"].get<std::string>().find("Remove it and rotate the key.") != std::string::npos);
  CHECK(rules[0]["help"]["markdown"].get<std::string>().find("https://example.org/keys") != std::string::npos);
  CHECK(rules[0]["defaultConfiguration"]["level"] == "error");
  CHECK(rules[0]["properties"]["tags"] == json::array({"security", "private-key", "external/cwe/cwe-321"}));
  CHECK(rules[0]["helpUri"] == "https://example.org/keys");
  CHECK(rules[0]["help"]["markdown"].get<std::string>().find(
            "[CWE-321](https://cwe.mitre.org/data/definitions/321.html)") != std::string::npos);
  CHECK(rules[0]["help"]["text"].get<std::string>().find("MITRE ATT&CK T1552.004") != std::string::npos);
  CHECK(rules[0]["properties"]["precision"] == "very-high");
  CHECK(rules[0]["properties"]["security-severity"] == "8.0");
  CHECK(rules[1]["id"] == "keystore/pkcs12");  // provided, unused, still listed
  CHECK(rules[1]["properties"]["security-severity"] == "5.5");
  CHECK(rules[1]["defaultConfiguration"]["level"] == "warning");
  CHECK(rules[2]["id"] == "certificate/x509");  // used, generated
  CHECK(rules[2]["name"] == "CertificateX509");
  CHECK(!rules[2]["help"]["text"].get<std::string>().empty());
  CHECK(rules[2]["properties"]["security-severity"] == "1.0");
  for (const auto& r : log["runs"][0]["results"])
    if (r["ruleId"] == "certificate/x509") CHECK(r["ruleIndex"] == 2);
}

TEST_CASE("suppressed findings carry an accepted suppression with their justification") {
  const auto log = json::parse(render_sarif(hand_built(), options()));
  const auto& inline_ok = result_at(log, "test/fixtures/k.pem");
  REQUIRE(inline_ok["suppressions"].size() == 1);
  CHECK(inline_ok["suppressions"][0]["kind"] == "inSource");
  CHECK(inline_ok["suppressions"][0]["status"] == "accepted");
  CHECK(inline_ok["suppressions"][0]["justification"] == "keyward:allow test fixture (alice, until 2027-01-01)");
  const auto& allowed = result_at(log, "ops/old.pem");
  CHECK(allowed["suppressions"][0]["kind"] == "external");
  CHECK(allowed["suppressions"][0]["justification"] == "rotated 2026-10 (bob); expires 2027-03-01");
  CHECK(!result_at(log, "deploy/release.key").contains("suppressions"));
}

TEST_CASE("an archive member keeps the archive as the artifact and names the member") {
  const auto log = json::parse(render_sarif(hand_built(), options()));
  const auto& r = result_at(log, "dist/app.jar");
  CHECK(r["locations"][0]["physicalLocation"]["region"]["startLine"] == 1);
  CHECK(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "dist/app.jar!META-INF/keys/signing.pem");
  CHECK(r["properties"]["member"] == "META-INF/keys/signing.pem");
  CHECK(r["properties"]["member-line"] == 7);
  CHECK(r["message"]["text"].get<std::string>().find("archive member META-INF/keys/signing.pem") != std::string::npos);
}

TEST_CASE("a remote scan's finding keeps its path as the artifact and names its host in properties") {
  ScanResult r;
  auto remote = key_finding("etc/ssl/private/web.key", 1, "high", 80);
  remote.location.host = "build-1:2222";
  r.findings.push_back(remote);
  r.findings.push_back(key_finding("deploy/local.key", 1, "high", 80));
  const auto sarif = render_sarif(r, options());
  const auto log = json::parse(sarif);
  const auto& res = result_at(log, "etc/ssl/private/web.key");
  CHECK(res["properties"]["host"] == "build-1:2222");
  CHECK_FALSE(result_at(log, "deploy/local.key")["properties"].contains("host"));
  const auto check = validate(sarif);
  INFO(check.output);
  CHECK(check.status == 0);
}

TEST_CASE("unsafe characters and non-UTF-8 bytes in paths are percent-encoded in URIs") {
  ScanResult r;
  auto f = key_finding("a b/c%d#e?f:g/\xff\xfe.pem", 1, "high", 80);
  f.relative_path.clear();  // derived from the path and the root
  r.findings.push_back(f);
  SarifOptions o;
  o.root = std::string(kRoot) + "/";
  const auto sarif = render_sarif(r, o);
  const auto log = json::parse(sarif);
  CHECK(log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "a%20b/c%25d%23e%3Ff%3Ag/%FF%FE.pem");
  CHECK(log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///work/repo/");
  const auto check = validate(sarif);
  INFO(check.output);
  CHECK(check.status == 0);
}

TEST_CASE("a real scan gives a schema-valid SARIF log that holds no key bytes") {
  t::TempTree tree;
  const std::string plain = t::pkcs8_pem(t::rsa_2048());
  const std::string encrypted = t::traditional_pem(t::ec_p256(), "correct horse");
  tree.write("keys/dev key.pem", "config:\n  x: 1\n" + plain);
  tree.write("keys/enc.pem", encrypted);
  const auto result = scan_tree(tree);
  REQUIRE(result.findings.size() == 2);
  SarifOptions o;
  o.root = tree.path();
  const auto sarif = render_sarif(result, o);

  const auto check = validate(sarif);
  INFO(check.output);
  CHECK(check.status == 0);
  for (const auto& pem : {plain, encrypted})
    for (const auto& line : t::body_lines(pem)) CHECK(sarif.find(line) == std::string::npos);
  CHECK(sarif.find("correct horse") == std::string::npos);

  const auto log = json::parse(sarif);
  const auto& plain_result = result_at(log, "keys/dev%20key.pem");
  CHECK(plain_result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3);
  CHECK(plain_result["message"]["text"].get<std::string>().find("Unencrypted RSA 2048 private key") !=
        std::string::npos);
  CHECK(result_at(log, "keys/enc.pem")["message"]["text"].get<std::string>().find("Encrypted") == 0);
  CHECK(log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file://" + tree.path() + "/");
}

TEST_CASE("partial fingerprints are stable across scans of copies of a tree in different directories") {
  const std::string pem = t::pkcs8_pem(t::ec_p256());
  const std::string cert = t::certificate_pem(t::ec_p256(), t::ec_p256(), "Self");
  auto fingerprints = [&](const t::TempTree& tree) {
    tree.write("app/conf/signing.pem", pem);
    tree.write("app/conf/signing.crt", cert);
    tree.write("other/copy.pem", pem);
    SarifOptions o;
    o.root = tree.path();
    const auto log = json::parse(render_sarif(scan_tree(tree), o));
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& r : log["runs"][0]["results"])
      out.emplace(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                  r["partialFingerprints"]["keywardIdentity/v1"]);
    return out;
  };
  t::TempTree a, b;
  REQUIRE(a.path() != b.path());
  const auto fa = fingerprints(a);
  const auto fb = fingerprints(b);
  REQUIRE(fa.size() == 3);
  CHECK(fa == fb);
  // The same key in two places has two fingerprints.
  std::set<std::string> distinct;
  for (const auto& [uri, fp] : fa) distinct.insert(fp);
  CHECK(distinct.size() == 3);
}

namespace {

// The band GitHub code scanning reads a security-severity in (docs/formats/sarif.md): over 9.0
// critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 3.9 or less low (keyward's info is GitHub's low).
std::string github_band(const json& value) {
  REQUIRE(value.is_string());  // GitHub reads a string holding a number
  const double v = std::stod(value.get<std::string>());
  REQUIRE(v >= 0.0);
  REQUIRE(v <= 10.0);
  if (v > 9.0) return "critical";
  if (v >= 7.0) return "high";
  if (v >= 4.0) return "medium";
  return "low";
}

std::string github_name(const std::string& severity) { return severity == "info" ? "low" : severity; }

}  // namespace

TEST_CASE("every rule's and every result's security-severity falls in the GitHub band of its severity") {
  // Each band at its edges: a critical 90 must not read as GitHub's high (9.0 is not over 9.0).
  const std::vector<std::pair<std::string, std::vector<int>>> bands = {{"critical", {90, 91, 100}},
                                                                       {"high", {70, 80, 89}},
                                                                       {"medium", {40, 55, 69}},
                                                                       {"low", {15, 39}},
                                                                       {"info", {0, 14}}};
  ScanResult r;
  SarifOptions o;
  o.root = kRoot;
  for (const auto& [severity, scores] : bands) {
    RuleHelp h;
    h.id = "private-key/" + severity;
    h.severity = severity;
    o.rules.push_back(h);
    for (int score : scores) {
      auto f = key_finding(severity + "/" + std::to_string(score) + ".pem", 1, severity, score);
      f.rule = h.id;
      r.findings.push_back(f);
    }
  }
  const auto log = json::parse(render_sarif(r, o));
  for (const auto& rule : log["runs"][0]["tool"]["driver"]["rules"]) {
    CAPTURE(rule["id"]);
    CHECK(github_band(rule["properties"]["security-severity"]) ==
          github_name(rule["properties"]["keyward-severity"].get<std::string>()));
  }
  std::size_t seen = 0;
  for (const auto& res : log["runs"][0]["results"]) {
    CAPTURE(res["properties"]["security-severity"]);
    CAPTURE(res["properties"]["keyward-risk-score"]);
    CHECK(github_band(res["properties"]["security-severity"]) ==
          github_name(res["properties"]["keyward-severity"].get<std::string>()));
    ++seen;
  }
  CHECK(seen == 13);
}

TEST_CASE("a finding from git history carries its commit in partial fingerprints, properties and message") {
  ScanResult r;
  auto f = key_finding("deploy/old.pem", 3, "high", 75);
  f.git = GitFacts{"0123456789abcdef0123456789abcdef01234567", 1767225600};
  r.findings.push_back(f);
  r.findings.push_back(key_finding("deploy/now.pem", 3, "high", 75));
  const auto log = json::parse(render_sarif(r, options()));
  const auto& old = result_at(log, "deploy/old.pem");
  CHECK(old["partialFingerprints"]["keywardCommit/v1"] == f.git->commit);
  CHECK(old["properties"]["commit"] == f.git->commit);
  CHECK(old["properties"]["commit-date"] == "2026-01-01T00:00:00Z");
  CHECK(old["message"]["text"].get<std::string>().find(f.git->commit) != std::string::npos);
  const auto& now = result_at(log, "deploy/now.pem");
  CHECK_FALSE(now["partialFingerprints"].contains("keywardCommit/v1"));
  CHECK_FALSE(now["properties"].contains("commit"));
  CHECK(validate(render_sarif(r, options())).status == 0);
}
