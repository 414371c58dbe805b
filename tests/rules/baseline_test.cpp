// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/baseline.hpp>
#include <keyward/rules/rule_error.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/keygen.hpp>
#include <support/temp_tree.hpp>

#include <boost/filesystem.hpp>

using keyward::rules::apply_baseline;
using keyward::rules::Baseline;
using keyward::rules::RuleError;
using keyward::scanner::ScanResult;
using namespace keyward::test;

namespace {

ScanResult hand_result() {
  ScanResult r;
  r.started_at = 1;
  r.findings.push_back(key_finding("/repo/z/last.pem", false, 0600, std::string(64, '2')));
  r.findings.push_back(key_finding("/repo/a/first.pem", true, 0600));
  r.findings.push_back(key_finding("/repo/a/first.pem", false, 0600, std::string(64, '1')));
  r.findings.push_back(key_finding("/repo/a/first.pem", false, 0600, std::string(64, '1')));  // same key twice
  for (auto& f : r.findings) f.relative_path = f.location.path.substr(6);
  r.findings[0].location.line = 40;
  return r;
}

}  // namespace

TEST_CASE("a baseline is sorted by path and fingerprint with no timestamps or line numbers and is stable") {
  auto r = hand_result();
  const std::string text = Baseline::create(r);
  CHECK(text == R"({
  "schema": "keyward.baseline/v1",
  "entries": [
    {
      "fingerprint": "1111111111111111111111111111111111111111111111111111111111111111",
      "path": "a/first.pem",
      "rule": "private-key/pkcs8"
    },
    {
      "fingerprint": "blob:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
      "path": "a/first.pem",
      "rule": "private-key/pkcs8-encrypted"
    },
    {
      "fingerprint": "2222222222222222222222222222222222222222222222222222222222222222",
      "path": "z/last.pem",
      "rule": "private-key/pkcs8"
    }
  ]
}
)");
  // Order of findings, lines and times do not matter.
  std::reverse(r.findings.begin(), r.findings.end());
  r.findings[1].location.line = 7;
  r.started_at = 99;
  CHECK(Baseline::create(r) == text);
}

TEST_CASE("a baseline survives a round trip through its JSON, non-UTF-8 paths included") {
  auto r = hand_result();
  r.findings[0].relative_path = std::string("bin\xff\xfe/key.pem");
  const std::string text = Baseline::create(r);
  CHECK(text.find("path_b64") != std::string::npos);
  const Baseline b = Baseline::parse(text, "baseline.json");
  CHECK(b.to_json() == text);
  for (const auto& f : r.findings) CHECK(b.contains(f));
}

TEST_CASE("baseline identity survives edits around a key but not a move to another path") {
  TempTree tree;
  const std::string key = pkcs8_pem(rsa_2048());
  const std::string encrypted = pkcs8_pem(ec_p256(), "baseline-passphrase");
  tree.write("config/app.yaml", "name: app\ntls_key: |\n" + key);
  tree.write("config/old.pem", encrypted);
  const auto before = scan_tree(tree.path());
  REQUIRE(before.findings.size() == 2);
  const Baseline baseline = Baseline::parse(Baseline::create(before), "baseline.json");

  // Lines added above both keys, and a new key elsewhere.
  tree.write("config/app.yaml", "# edited\nname: app\nport: 8443\ntls_key: |\n" + key);
  tree.write("config/old.pem", "# moved down\n\n" + encrypted);
  tree.write("config/new.pem", pkcs8_pem(ed25519()));
  auto after = scan_tree(tree.path());
  REQUIRE(after.findings.size() == 3);
  CHECK(apply_baseline(after, baseline, "baseline.json") == 2);
  CHECK(find(after, "app.yaml")->suppressed);
  CHECK(find(after, "app.yaml")->suppressed->kind == "baseline");
  CHECK(find(after, "app.yaml")->suppressed->justification == "in baseline baseline.json");
  CHECK(find(after, "old.pem")->suppressed);
  CHECK_FALSE(find(after, "new.pem")->suppressed);

  // The same key under another name is a new finding.
  boost::filesystem::rename(tree.path("config/app.yaml"), tree.path("config/renamed.yaml"));
  auto renamed = scan_tree(tree.path());
  apply_baseline(renamed, baseline);
  CHECK_FALSE(find(renamed, "renamed.yaml")->suppressed);
}

TEST_CASE("updating a baseline keeps entries still present drops gone ones and adds new ones") {
  auto r = hand_result();
  Baseline b = Baseline::parse(Baseline::create(r), "b.json");
  auto next = r;
  next.findings.erase(next.findings.begin());  // z/last.pem is gone
  next.findings.push_back(key_finding("/repo/m/new.pem", false, 0600, std::string(64, '3')));
  next.findings.back().relative_path = "m/new.pem";
  b.update(next);
  REQUIRE(b.entries().size() == 3);
  CHECK(b.entries()[0].path == "a/first.pem");
  CHECK(b.entries()[2].path == "m/new.pem");
  CHECK(b.to_json() == Baseline::create(next));
}

TEST_CASE("an unreadable or malformed baseline fails with an actionable error") {
  try {
    Baseline::load("/nonexistent/baseline.json");
    FAIL("no error");
  } catch (const RuleError& e) {
    CHECK(e.code == "cannot-read");
    CHECK(e.message.find("keyward baseline create") != std::string::npos);
  }
  try {
    Baseline::parse("{\n  \"schema\": \"keyward.baseline/v1\",\n  \"entries\": [\n    {oops}\n  ]\n}\n", "b.json");
    FAIL("no error");
  } catch (const RuleError& e) {
    CHECK(e.code == "json-syntax");
    CHECK(e.line == 4);
  }
  try {
    Baseline::parse("{\"schema\": \"keyward.findings/v1\", \"entries\": []}", "b.json");
    FAIL("no error");
  } catch (const RuleError& e) {
    CHECK(e.code == "bad-schema");
  }
  try {
    Baseline::parse("{\"schema\": \"keyward.baseline/v1\", \"entries\": [{\"path\": \"a\"}]}", "b.json");
    FAIL("no error");
  } catch (const RuleError& e) {
    CHECK(e.code == "missing-field");
  }
  // A number past a double's range parses as JSON syntax but cannot be held (suppressions_fuzzer).
  try {
    Baseline::parse("{\"schema\": 1111111111111111111e11111, \"entries\": []}", "b.json");
    FAIL("no error");
  } catch (const RuleError& e) {
    CHECK(e.code == "json-syntax");
  }
}
