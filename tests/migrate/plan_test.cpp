// SPDX-License-Identifier: Apache-2.0
// The plan builder: one item per key identity whatever the number of copies, the strategy and
// its reasons (presumed copied => regenerate; public-CA code signing => regenerate citing the
// CSBR; protected on one host => import), named blockers, the order by risk, and the profiles
// and policy as data (docs/migration.md).
#include <keyward/migrate/plan.hpp>
#include <keyward/rules/rule_error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace keyward;
using namespace keyward::migrate;

namespace {

scanner::Finding key_finding(const std::string& id, const std::string& path, const std::string& spki, int score,
                             bool encrypted = false) {
  scanner::Finding f;
  f.id = id;
  f.kind = scanner::Kind::private_key;
  f.format = encrypted ? scanner::Format::pem_pkcs8_encrypted : scanner::Format::pem_pkcs8;
  f.location.path = path;
  f.file.owner = "deploy";
  f.file.size = 1700;
  f.file.mtime = 1767225600;
  f.key = scanner::KeyFacts{};
  f.key->algorithm = "rsa";
  f.key->bits = 3072;
  f.key->encrypted = encrypted;
  f.key->spki_sha256 = spki;
  scanner::RiskFacts r;
  r.score = r.raw = score;
  r.severity = score >= 90 ? "critical" : score >= 70 ? "high" : score >= 40 ? "medium" : "low";
  r.factors.push_back({encrypted ? "encrypted-private-key" : "unencrypted-private-key", score, "test"});
  f.risk = r;
  return f;
}

scanner::Finding cert_finding(const std::string& id, const std::string& spki, bool code_signing, bool public_ca) {
  scanner::Finding f;
  f.id = id;
  f.kind = scanner::Kind::certificate;
  f.format = scanner::Format::pem_cert;
  f.location.path = "/srv/sign/sign.crt";
  f.certificate = scanner::CertFacts{};
  f.certificate->subject = "CN=Example Signing,O=Example";
  f.certificate->issuer = "CN=Public Code Signing CA";
  f.certificate->serial = "0badc0de";
  f.certificate->sha256 = std::string(64, 'c');
  f.certificate->spki_sha256 = spki;
  f.certificate->key_algorithm = "rsa";
  f.certificate->key_bits = 3072;
  if (code_signing) f.certificate->extended_key_usage = {"codeSigning"};
  scanner::RiskFacts r;
  if (public_ca) r.factors.push_back({"publicly-trusted", 15, "test"});
  f.risk = r;
  return f;
}

PlacedFinding at(const std::string& host, scanner::Finding f) { return PlacedFinding{host, "", "", "", std::move(f)}; }

PlanOptions pinned() { return PlanOptions{"2026-12-03T08:00:00Z", "fleet"}; }

std::size_t count_steps(const PlanItem& item, StepKind kind) {
  return static_cast<std::size_t>(
      std::count_if(item.steps.begin(), item.steps.end(), [&](const Step& s) { return s.kind == kind; }));
}

bool has_blocker(const PlanItem& item, const std::string& code) {
  return std::any_of(item.blockers.begin(), item.blockers.end(), [&](const Blocker& b) { return b.code == code; });
}

bool reasons_say(const PlanItem& item, const std::string& words) {
  return std::any_of(item.reasons.begin(), item.reasons.end(),
                     [&](const std::string& r) { return r.find(words) != std::string::npos; });
}

const std::string kSpkiA(64, 'a');
const std::string kSpkiB(64, 'b');

}  // namespace

TEST_CASE("one key on three hosts is one migration with three clean-ups, regenerated as presumed copied") {
  const std::vector<PlacedFinding> in{at("web1", key_finding("f1", "/etc/ssl/app.key", kSpkiA, 80, true)),
                                      at("web2", key_finding("f2", "/etc/ssl/app.key", kSpkiA, 75, true)),
                                      at("web3", key_finding("f3", "/opt/app/app.key", kSpkiA, 70, true))};
  const Plan plan = build_plan(in, load_targets(), pinned());
  REQUIRE(plan.items.size() == 1);
  const PlanItem& item = plan.items.front();
  CHECK(item.places.size() == 3);
  CHECK(count_steps(item, StepKind::cleanup) == 3);
  CHECK(plan.summary().cleanups == 3);
  CHECK(item.strategy == Strategy::regenerate);
  CHECK(reasons_say(item, "3 hosts"));
  CHECK(item.migrate_on.host == "web1");  // the riskiest place
  CHECK(item.id == item_id_for("spki:" + kSpkiA));
  CHECK(item.owner == "deploy");
  std::vector<std::string> cleaned;
  for (const auto& s : item.steps)
    if (s.kind == StepKind::cleanup) cleaned.push_back(s.host + ":" + s.path);
  CHECK(cleaned == std::vector<std::string>{"web1:/etc/ssl/app.key", "web2:/etc/ssl/app.key", "web3:/opt/app/app.key"});
}

TEST_CASE("a protected key on one host is imported, and the reason leaves re-issuing to the operator") {
  const Plan plan =
      build_plan({at("web1", key_finding("f1", "/etc/ssl/app.key", kSpkiA, 40, true))}, load_targets(), pinned());
  REQUIRE(plan.items.size() == 1);
  const PlanItem& item = plan.items.front();
  CHECK(item.strategy == Strategy::import);
  CHECK(reasons_say(item, "operator's call"));
  CHECK(item.blockers.empty());
  // The by-hand commands name no secret: the PIN and the password are asked at a prompt.
  for (const auto& s : item.steps)
    for (const auto& c : s.commands) CHECK(c.find("--pin") == std::string::npos);
}

TEST_CASE("an unencrypted key or one whose password lies nearby is regenerated, saying why") {
  auto nearby = key_finding("f2", "/srv/app.key", kSpkiB, 60, true);
  nearby.key->password_exposed_in = "/srv/app.pass";
  nearby.risk->factors.push_back({"password-nearby", 40, "test"});
  const Plan plan =
      build_plan({at("h", key_finding("f1", "/srv/clear.key", kSpkiA, 70)), at("h", nearby)}, load_targets(), pinned());
  REQUIRE(plan.items.size() == 2);
  for (const auto& item : plan.items) CHECK(item.strategy == Strategy::regenerate);
  CHECK(reasons_say(plan.items[0], "unencrypted"));
  CHECK(reasons_say(plan.items[1], "password is weak"));
  CHECK(plan.items[1].weak_password);
}

TEST_CASE("a public-CA code-signing certificate is always regenerate, citing the CSBR") {
  // Protected and on one host: without the certificate this key would be imported.
  auto key = key_finding("k1", "/srv/sign/sign.key", kSpkiA, 50, true);
  key.paired_with = {"c1"};
  const Plan plan =
      build_plan({at("build", key), at("build", cert_finding("c1", kSpkiA, true, true))}, load_targets(), pinned());
  REQUIRE(plan.items.size() == 1);
  const PlanItem& item = plan.items.front();
  CHECK(item.strategy == Strategy::regenerate);
  REQUIRE(item.citations.size() == 1);
  CHECK(item.citations.front().id == "cabf-csbr-hardware-keys");
  CHECK(item.citations.front().text.find("2023-06-01") != std::string::npos);
  CHECK(reasons_say(item, "Code Signing Baseline Requirements"));
  CHECK(item.target.token == "codesign");
  CHECK(item.target.why.find("code-signing") != std::string::npos);
  REQUIRE(item.certificates.size() == 1);
  CHECK(item.certificates.front().publicly_trusted);
  CHECK(count_steps(item, StepKind::certificate) == 2);  // a new certificate, the old one revoked

  // The same key with a private CA's code-signing certificate: no CSBR citation.
  const Plan priv =
      build_plan({at("build", key), at("build", cert_finding("c1", kSpkiA, true, false))}, load_targets(), pinned());
  CHECK(priv.items.front().citations.empty());
}

TEST_CASE("RSA-1024 is refused by the policy, and an unknown password blocks only an import") {
  auto weak = key_finding("f1", "/srv/old.key", kSpkiA, 70);
  weak.key->bits = 1024;
  auto sealed = key_finding("f2", "/srv/sealed.key", kSpkiB, 40, true);
  sealed.key->algorithm.clear();  // never opened: the algorithm is unknown
  sealed.key->bits.reset();
  const Plan plan = build_plan({at("h", weak), at("h", sealed)}, load_targets(), pinned());
  REQUIRE(plan.items.size() == 2);
  CHECK(plan.items[0].algorithm == "rsa-1024");
  CHECK(has_blocker(plan.items[0], "algorithm-refused-by-policy"));
  CHECK(plan.items[1].strategy == Strategy::import);
  CHECK(has_blocker(plan.items[1], "password-unknown"));
  CHECK(plan.summary().blocked == 2);
  // Its by-hand verification names no guessed mechanism: the person picks the key's own.
  for (const Step& step : plan.items[1].steps) {
    if (step.kind != StepKind::verify) continue;
    CHECK(step.text.find("MECHANISM") != std::string::npos);
    for (const auto& c : step.commands) CHECK(c.find("ECDSA") == std::string::npos);
  }
  // A copy of the sealed key on a second host makes it regenerate: no password blocker then.
  const Plan two = build_plan({at("h", sealed), at("h2", sealed)}, load_targets(), pinned());
  CHECK(two.items.front().strategy == Strategy::regenerate);
  CHECK_FALSE(has_blocker(two.items.front(), "password-unknown"));
}

TEST_CASE("items are ordered by risk, riskiest first, whatever the input order") {
  const std::vector<PlacedFinding> in{at("h", key_finding("low", "/a.key", kSpkiA, 30)),
                                      at("h", key_finding("high", "/b.key", kSpkiB, 95)),
                                      at("h", key_finding("mid", "/c.key", std::string(64, 'd'), 60))};
  const Plan plan = build_plan(in, load_targets(), pinned());
  REQUIRE(plan.items.size() == 3);
  CHECK(plan.items[0].migrate_on.path == "/b.key");
  CHECK(plan.items[1].migrate_on.path == "/c.key");
  CHECK(plan.items[2].migrate_on.path == "/a.key");
  for (std::size_t i = 0; i < 3; ++i) CHECK(plan.items[i].rank == static_cast<int>(i) + 1);
}

TEST_CASE("the profiles and policy are data: five profiles, a user rule first, an unsupported algorithm named") {
  const Targets builtin = load_targets();
  for (const char* id : {"softhsm2", "yubihsm2", "aws-cloudhsm", "azure-managed-hsm", "thales-luna"}) {
    auto it =
        std::find_if(builtin.profiles.begin(), builtin.profiles.end(), [&](const Profile& p) { return p.id == id; });
    REQUIRE(it != builtin.profiles.end());
    CHECK(it->source.rfind("https://", 0) == 0);
    CHECK_FALSE(it->algorithms.empty());
  }
  const auto dir = std::filesystem::temp_directory_path() / ("keyward-hsm-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "policy.yaml") << "rules:\n  - id: cloud\n    match: any\n    profile: aws-cloudhsm\n"
                                        "    token: cloud\n";
  const Targets user = load_targets({dir.string()});
  CHECK(user.rules.front().id == "cloud");
  auto ed = key_finding("e", "/e.key", kSpkiA, 70);
  ed.key->algorithm = "ed25519";
  ed.key->bits.reset();
  const Plan plan = build_plan({at("h", ed)}, user, pinned());
  CHECK(plan.items.front().target.profile == "aws-cloudhsm");
  CHECK(has_blocker(plan.items.front(), "algorithm-not-supported"));
  std::ofstream(dir / "policy.yaml")
      << "rules:\n  - id: x\n    match: sometimes\n    profile: softhsm2\n    token: t\n";
  CHECK_THROWS_AS(load_targets({dir.string()}), rules::RuleError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a plan and an item round-trip through JSON, and a malformed one names its field") {
  auto key = key_finding("k1", "/srv/sign/sign.key", kSpkiA, 90);
  key.paired_with = {"c1"};
  Plan plan = build_plan({at("build", key), at("build", cert_finding("c1", kSpkiA, true, true)),
                          at("web", key_finding("k2", "/x.key", kSpkiB, 40, true))},
                         load_targets(), pinned());
  plan.items[0].state = ItemState::approved;
  plan.items[0].requested_by = "alice";
  plan.items[0].approved_by = "bob";
  plan.items[0].requested_at = 1767225600;
  const std::string text = to_json(plan);
  const Plan back = plan_from_json(text);
  CHECK(to_json(back) == text);
  CHECK(back.items[0].state == ItemState::approved);
  CHECK(back.items[0].citations.size() == 1);
  CHECK(item_to_json(item_from_json(item_to_json(plan.items[1]))) == item_to_json(plan.items[1]));
  auto j = nlohmann::json::parse(text);
  j["items"][0]["strategy"] = "move";
  CHECK_THROWS_WITH_AS(plan_from_json(j.dump()), doctest::Contains("plan.items[0].strategy"), std::invalid_argument);
  CHECK_THROWS_AS(plan_from_json("{\"schema\": \"keyward.findings/v1\"}"), std::invalid_argument);
}

TEST_CASE("a path that is not UTF-8 is written losslessly as {b64} and read back byte for byte") {
  const std::string latin1 = "/srv/cl\xe9s/deploy.pem";  // a Latin-1 name
  auto f = key_finding("f1", latin1, kSpkiA, 95);
  const Plan plan = build_plan({at("h", f)}, load_targets(), pinned());
  REQUIRE(plan.items.size() == 1);
  const nlohmann::json j = item_to_json(plan.items.front());
  std::string text;
  CHECK_NOTHROW(text = j.dump());  // strict dump: no invalid UTF-8 left in the document
  CHECK(j["places"][0]["path"].contains("b64"));
  const PlanItem back = item_from_json(nlohmann::json::parse(text));
  CHECK(back.places.front().path == latin1);
  CHECK(item_to_json(back) == j);
  CHECK_THROWS_AS(item_from_json(nlohmann::json::parse(R"({"places": [{"path": {"b64": "%%%"}}]})")),
                  std::invalid_argument);
}
