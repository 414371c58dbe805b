// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_error.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/keygen.hpp>
#include <support/temp_tree.hpp>

using keyward::rules::RuleSet;
using keyward::rules::ScoreContext;
using keyward::scanner::Finding;
using keyward::scanner::ScanResult;
using namespace keyward::test;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t k2024 = 1704067200;  // 2024-01-01
constexpr std::int64_t k20230531 = 1685491200;

ScanResult scored(std::vector<Finding> findings, const ScoreContext& ctx = context(),
                  const RuleSet& rules = RuleSet::builtin()) {
  ScanResult r;
  r.findings = std::move(findings);
  keyward::rules::score(r, rules, ctx);
  return r;
}

int sum_points(const Finding& f) {
  int s = 0;
  for (const auto& x : f.risk->factors) s += x.points;
  return s;
}

}  // namespace

TEST_CASE(
    "a world-readable unencrypted code-signing key outranks a passphrase-protected key in a test dir and both explain "
    "themselves") {
  TempTree tree;
  // The signing key and its CA-issued code-signing certificate, next to each other.
  tree.write("home/release/signing/release.key", pkcs8_pem(rsa_2048()), 0644);
  tree.write("home/release/signing/release.crt",
             certificate_pem(rsa_2048(), ec_p256(), "Release Signing", "codeSigning", -1, 365), 0644);
  tree.write("src/test/fixtures/client.key", pkcs8_pem(ed25519(), "fixture-passphrase"), 0600);
  ScanResult r = scan_tree(tree.path());
  ScoreContext ctx;
  ctx.virtual_root = true;  // the temp tree stands for "/"
  keyward::rules::score(r, RuleSet::builtin(), ctx);

  const Finding* signing = find(r, "release.key", "private-key/");
  const Finding* fixture = find(r, "client.key", "private-key/");
  REQUIRE(signing != nullptr);
  REQUIRE(fixture != nullptr);
  REQUIRE(signing->risk);
  REQUIRE(fixture->risk);
  CHECK(signing->risk->score > fixture->risk->score);
  CHECK(signing->risk->severity == "critical");
  CHECK(signing->risk->score >= 90);
  CHECK((fixture->risk->severity == "low" || fixture->risk->severity == "info"));
  for (const char* id : {"private-key", "unencrypted-private-key", "world-readable", "code-signing-certificate",
                         "code-signing-valid", "code-signing-ca-issued", "code-signing-baseline-violation"})
    CHECK_MESSAGE(has_factor(*signing, id), id);
  CHECK(has_factor(*fixture, "private-key"));
  CHECK(has_factor(*fixture, "test-path"));
  CHECK_FALSE(has_factor(*fixture, "unencrypted-private-key"));
  for (const Finding* f : {signing, fixture}) {
    CHECK_FALSE(f->risk->factors.empty());
    for (const auto& x : f->risk->factors) CHECK_MESSAGE(!x.why.empty(), x.id);
    CHECK_FALSE(f->risk->remediation.empty());
  }
  CHECK(factor(*signing, "code-signing-certificate")->why.find("CN=Release Signing") != std::string::npos);
  CHECK(factor(*signing, "world-readable")->why.find("0644") != std::string::npos);
  CHECK(factor(*fixture, "test-path")->points < 0);
  // The certificate itself is inventory.
  const Finding* cert = find(r, "release.crt");
  REQUIRE(cert != nullptr);
  CHECK(cert->risk->severity == "info");
}

TEST_CASE(
    "a CA-issued code-signing certificate from 2023-06-01 on says its key breaks the CSC-13 and CSC-17 baseline") {
  Finding key = key_finding("/srv/build/sign.key", false);
  Finding cert = cert_finding("/srv/build/sign.crt", key.key->spki_sha256, k2024, k2024 + 1000 * kDay, true, false);
  pair(key, cert);
  auto r = scored({key, cert});
  const auto* why = factor(r.findings[0], "code-signing-baseline-violation");
  REQUIRE(why != nullptr);
  CHECK(why->why.find("CSC-13") != std::string::npos);
  CHECK(why->why.find("CSC-17") != std::string::npos);
  CHECK(why->why.find("FIPS 140-2 Level 2") != std::string::npos);
  CHECK(why->why.find("EAL 4+") != std::string::npos);
  CHECK(why->why.find("2024-01-01") != std::string::npos);

  SUBCASE("issued before 2023-06-01 it does not") {
    Finding k2 = key_finding("/srv/build/old.key", false, 0600, std::string(64, 'f'));
    Finding c2 = cert_finding("/srv/build/old.crt", k2.key->spki_sha256, k20230531, k2024 + 1000 * kDay, true, false);
    pair(k2, c2);
    auto r2 = scored({k2, c2});
    CHECK(has_factor(r2.findings[0], "code-signing-ca-issued"));
    CHECK_FALSE(has_factor(r2.findings[0], "code-signing-baseline-violation"));
  }
  SUBCASE("self-signed it does not") {
    Finding k3 = key_finding("/srv/build/self.key", false, 0600, std::string(64, 'f'));
    Finding c3 = cert_finding("/srv/build/self.crt", k3.key->spki_sha256, k2024, k2024 + 1000 * kDay, true, true);
    pair(k3, c3);
    auto r3 = scored({k3, c3});
    CHECK(has_factor(r3.findings[0], "code-signing-certificate"));
    CHECK_FALSE(has_factor(r3.findings[0], "code-signing-ca-issued"));
    CHECK_FALSE(has_factor(r3.findings[0], "code-signing-baseline-violation"));
  }
  SUBCASE("an expired certificate counts as code signing but not as valid") {
    Finding k4 = key_finding("/srv/build/exp.key", false, 0600, std::string(64, 'f'));
    Finding c4 = cert_finding("/srv/build/exp.crt", k4.key->spki_sha256, k2024, k2024 + 10 * kDay, true, false);
    pair(k4, c4);
    auto r4 = scored({k4, c4});
    CHECK(has_factor(r4.findings[0], "code-signing-certificate"));
    CHECK_FALSE(has_factor(r4.findings[0], "code-signing-valid"));
    CHECK(has_factor(r4.findings[1], "certificate-expired"));
  }
}

TEST_CASE("calibrated findings land in their bands") {
  SUBCASE("an unencrypted key in its owner's home is high") {
    auto r = scored({key_finding("/home/alice/.ssh/id_rsa", false, 0600)});
    CHECK(r.findings[0].risk->score == 70);
    CHECK(r.findings[0].risk->severity == "high");
    CHECK(r.findings[0].risk->factors.size() == 2);
  }
  SUBCASE("a passphrase-protected key in a home is low") {
    auto r = scored({key_finding("/home/alice/.ssh/id_rsa", true, 0600)});
    CHECK(r.findings[0].risk->severity == "low");
  }
  SUBCASE("a passphrase-protected key in a test dir is info") {
    auto r = scored({key_finding("/home/alice/src/app/tests/keys/fixture.pem", true, 0600)});
    CHECK(r.findings[0].risk->severity == "info");
    CHECK(has_factor(r.findings[0], "test-path"));
  }
  SUBCASE("an expired certificate is low inventory and a valid one info") {
    auto r = scored({cert_finding("/etc/app/old.crt", std::string(64, '1'), k2024, k2024 + 30 * kDay, false, false),
                     cert_finding("/etc/app/new.crt", std::string(64, '2'), k2024, k2024 + 5000 * kDay, false, false)});
    CHECK(r.findings[0].risk->severity == "low");
    CHECK(has_factor(r.findings[0], "certificate-expired"));
    CHECK(factor(r.findings[0], "certificate-expired")->why.find("2024-01-31") != std::string::npos);
    CHECK(r.findings[1].risk->severity == "info");
  }
  SUBCASE("a certificate expiring within 30 days is low and says when") {
    const auto ctx = context();
    auto r =
        scored({cert_finding("/etc/app/soon.crt", std::string(64, '3'), k2024, ctx.now + 12 * kDay, false, false)});
    CHECK(r.findings[0].risk->severity == "low");
    REQUIRE(has_factor(r.findings[0], "certificate-expiring"));
    CHECK(factor(r.findings[0], "certificate-expiring")->why.find("12 days") != std::string::npos);
  }
  SUBCASE("a trust-store certificate is info even when expired") {
    Finding c = cert_finding("/etc/ssl/certs/old-root.pem", std::string(64, '4'), k2024, k2024 + kDay, false, true);
    c.certificate->trust_store = true;
    auto r = scored({c});
    CHECK(r.findings[0].risk->severity == "info");
    CHECK(has_factor(r.findings[0], "trust-store"));
    CHECK(has_factor(r.findings[0], "certificate-expired"));
    CHECK(has_factor(r.findings[0], "policy/trust-store-inventory"));
  }
  SUBCASE("a public key is info") {
    Finding p = key_finding("/srv/app/key.pub.pem", false);
    p.kind = keyward::scanner::Kind::public_key;
    p.rule = "public-key/spki";
    auto r = scored({p});
    CHECK(r.findings[0].risk->score == 0);
    CHECK(r.findings[0].risk->severity == "info");
    CHECK(has_factor(r.findings[0], "public-key"));
  }
}

TEST_CASE("a FIDO security-key handle is not an unencrypted key") {
  Finding sk = key_finding("/home/alice/.ssh/id_ed25519_sk", false, 0600, std::string(64, 's'));
  sk.key->algorithm = "sk-ed25519";
  auto r = scored({sk});
  CHECK(has_factor(r.findings[0], "hardware-backed-key"));
  CHECK(factor(r.findings[0], "hardware-backed-key")->why.find("sk-ed25519") != std::string::npos);
  CHECK_FALSE(has_factor(r.findings[0], "unencrypted-private-key"));
  CHECK(r.findings[0].risk->severity == "info");
}

TEST_CASE("scores are clipped to 0 and 100 while the factors keep their points") {
  SUBCASE("above 100") {
    Finding key = key_finding("/var/lib/jenkins/workspace/app/sign.key", false, 0666);
    key.key->bits = 1024;
    Finding cert = cert_finding("/var/lib/jenkins/workspace/app/sign.crt", key.key->spki_sha256, k2024,
                                k2024 + 5000 * kDay, true, false);
    cert.certificate->is_ca = true;
    pair(key, cert);
    auto r = scored({key, cert});
    CHECK(sum_points(r.findings[0]) > 100);
    CHECK(r.findings[0].risk->score == 100);
    CHECK(r.findings[0].risk->raw == sum_points(r.findings[0]));  // raw keeps what the cap cut
    CHECK(r.findings[0].risk->severity == "critical");
  }
  SUBCASE("below 0") {
    auto r =
        scored({cert_finding("/srv/app/test/ok.crt", std::string(64, '5'), k2024, k2024 + 5000 * kDay, false, false)});
    CHECK(sum_points(r.findings[0]) < 0);
    CHECK(r.findings[0].risk->score == 0);
    CHECK(r.findings[0].risk->raw == sum_points(r.findings[0]));
  }
}

TEST_CASE("negative points of a test path lower the score by their amount") {
  auto r = scored({key_finding("/srv/app/keys/k.pem", false, 0600, std::string(64, '6')),
                   key_finding("/srv/app/spec/k.pem", false, 0600, std::string(64, '7'))});
  const int points = RuleSet::builtin().factor("test-path")->points;
  CHECK(points < 0);
  CHECK(r.findings[1].risk->score == r.findings[0].risk->score + points);
  CHECK(factor(r.findings[1], "test-path")->why.find("*/spec/*") != std::string::npos);
}

TEST_CASE("policy rules raise and lower severities add factors and remediation") {
  RuleSet rules = RuleSet::builtin();
  rules.load_text(R"(
factors:
  - id: deploy-key
    points: 5
    why: A deployment key.
policies:
  - id: policy/deploy-keys
    title: Deploy keys are critical
    match: {path: "deploy/*", kind: private_key}
    severity_at_least: critical
    add_factors: [deploy-key]
    remediation: Ask the platform team for a vault-issued key.
  - id: policy/sandbox
    title: Sandbox keys are low
    match: {path: "/sandbox/*", encrypted: false}
    severity_at_most: low
)",
                  "team.yaml");
  Finding deploy = key_finding("/srv/deploy/id_rsa", true, 0600);
  deploy.relative_path = "deploy/id_rsa";
  Finding sandbox = key_finding("/srv/sandbox/id_rsa", false, 0644, std::string(64, '8'));
  sandbox.relative_path = "sandbox/id_rsa";
  Finding other = key_finding("/srv/other/id_rsa", false, 0644, std::string(64, '9'));
  other.relative_path = "other/id_rsa";
  auto r = scored({deploy, sandbox, other}, context(), rules);

  CHECK(r.findings[0].risk->score == 35);  // private-key 30 + deploy-key 5
  CHECK(r.findings[0].risk->severity == "critical");
  CHECK(has_factor(r.findings[0], "policy/deploy-keys"));
  CHECK(has_factor(r.findings[0], "deploy-key"));
  CHECK(factor(r.findings[0], "policy/deploy-keys")->points == 0);
  CHECK(r.findings[0].risk->remediation.find("vault-issued") != std::string::npos);
  CHECK(r.findings[0].risk->remediation.find(RuleSet::builtin().rule("private-key/pkcs8-encrypted")->remediation) == 0);

  // A cap clips the score into its band (score and severity agree); raw keeps the sum.
  CHECK(r.findings[1].risk->raw >= 90);
  CHECK(keyward::rules::severity_for_score(r.findings[1].risk->score) == keyward::rules::Severity::low);
  CHECK(r.findings[1].risk->severity == "low");
  CHECK(has_factor(r.findings[1], "policy/sandbox"));

  CHECK(r.findings[2].risk->severity == "critical");
  CHECK_FALSE(has_factor(r.findings[2], "policy/sandbox"));

  SUBCASE("a disabled policy does not apply") {
    rules.load_text("policies:\n  - id: policy/sandbox\n    enabled: false\n", "off.yaml");
    auto r2 = scored({sandbox}, context(), rules);
    CHECK(r2.findings[0].risk->severity == "critical");
  }
}

TEST_CASE("location factors: owner of another home, shared and CI directories, readable modes") {
  Finding foreign = key_finding("/home/alice/.ssh/id_rsa", false, 0640, std::string(64, 'a'));
  foreign.file.owner = "bob";
  Finding own_root = key_finding("/root/.ssh/id_rsa", false, 0600, std::string(64, 'b'));
  own_root.file.owner = "root";
  Finding ci = key_finding("/home/runner/work/app/app/deploy.pem", false, 0600, std::string(64, 'c'));
  ci.file.owner = "runner";
  auto r = scored({foreign, own_root, ci});
  REQUIRE(has_factor(r.findings[0], "foreign-owner"));
  CHECK(factor(r.findings[0], "foreign-owner")->why.find("bob") != std::string::npos);
  CHECK(factor(r.findings[0], "foreign-owner")->why.find("alice") != std::string::npos);
  CHECK(has_factor(r.findings[0], "group-readable"));
  CHECK_FALSE(has_factor(r.findings[0], "world-readable"));
  CHECK_FALSE(has_factor(r.findings[1], "foreign-owner"));
  CHECK(has_factor(r.findings[2], "shared-location"));
  CHECK(factor(r.findings[2], "shared-location")->why.find("/home/runner/work/*") != std::string::npos);

  SUBCASE("relative paths are made absolute from the base directory") {
    Finding rel = key_finding("keys/k.pem", false, 0600, std::string(64, 'd'));
    rel.location.path = "keys/k.pem";
    ScoreContext ctx = context();
    ctx.base_dir = "/tmp/build-42";
    auto r2 = scored({rel}, ctx);
    CHECK(has_factor(r2.findings[0], "shared-location"));
  }
}

TEST_CASE("the same key in several places is counted and a publicly known key is named") {
  const std::string vagrant = "bde93142b0780b2a66d27977d35f4f542e71cc538d491fe6609e2380b747a027";
  auto r = scored({key_finding("/srv/a/key.pem", false, 0600, std::string(64, 'e')),
                   key_finding("/srv/b/key.pem", false, 0600, std::string(64, 'e')),
                   key_finding("/srv/c/key.pem", false, 0600, std::string(64, 'e')),
                   key_finding("/home/alice/.vagrant.d/insecure_private_key", false, 0600, vagrant)});
  REQUIRE(has_factor(r.findings[0], "duplicated-key"));
  CHECK(factor(r.findings[0], "duplicated-key")->why.find("3 places") != std::string::npos);
  CHECK(has_factor(r.findings[2], "duplicated-key"));
  CHECK_FALSE(has_factor(r.findings[3], "duplicated-key"));
  REQUIRE(has_factor(r.findings[3], "known-key"));
  CHECK(factor(r.findings[3], "known-key")->why.find("Vagrant") != std::string::npos);

  SUBCASE("extra known keys come from the context") {
    ScoreContext ctx = context();
    ctx.known_keys = {std::string(64, 'E')};
    auto r2 = scored({key_finding("/srv/a/key.pem", false, 0600, std::string(64, 'e'))}, ctx);
    CHECK(has_factor(r2.findings[0], "known-key"));
  }
}

TEST_CASE("key stores score from their entries and store facts") {
  using keyward::scanner::Kind;
  Finding store;
  store.id = "store";
  store.rule = "keystore/jks";
  store.kind = Kind::keystore;
  store.format = keyward::scanner::Format::jks;
  store.location.path = "/opt/app/release.jks";
  store.file.mode = 0644;
  keyward::scanner::StoreFacts facts;
  facts.opened = true;
  facts.weak_password = true;
  facts.weaknesses = {"jks-key-protection", "sha1-integrity"};
  store.store = facts;
  keyward::scanner::StoreEntry entry;
  entry.kind = Kind::private_key;
  keyward::scanner::KeyFacts k;
  k.algorithm = "rsa";
  k.bits = 2048;
  k.encrypted = true;
  k.weak_password = true;
  k.spki_sha256 = std::string(64, 'f');
  entry.key = k;
  entry.certificate = cert_finding("x", k.spki_sha256, k2024, k2024 + 5000 * kDay, true, false).certificate;
  store.entries.push_back(entry);

  Finding trust;
  trust.id = "trust";
  trust.rule = "keystore/jks";
  trust.kind = Kind::keystore;
  trust.format = keyward::scanner::Format::jks;
  trust.location.path = "/opt/app/truststore.jks";
  keyward::scanner::StoreFacts tf;
  tf.truststore = true;
  tf.weak_password = true;
  trust.store = tf;
  keyward::scanner::StoreEntry ca;
  ca.kind = Kind::certificate;
  ca.certificate = cert_finding("y", std::string(64, '0'), k2024, k2024 + kDay, false, true).certificate;
  trust.entries.push_back(ca);

  auto r = scored({store, trust});
  for (const char* id :
       {"private-key", "common-password", "weak-store-protection", "code-signing-certificate", "code-signing-valid",
        "code-signing-ca-issued", "code-signing-baseline-violation", "world-readable", "policy/code-signing-keys"})
    CHECK_MESSAGE(has_factor(r.findings[0], id), id);
  CHECK_FALSE(has_factor(r.findings[0], "unencrypted-private-key"));
  CHECK(r.findings[0].risk->severity == "critical");
  CHECK(r.findings[1].risk->severity == "info");
  CHECK(has_factor(r.findings[1], "trust-store"));
  CHECK(has_factor(r.findings[1], "certificate-expired"));
  CHECK_FALSE(has_factor(r.findings[1], "common-password"));
}

TEST_CASE("scoring with a rule set that lacks the engine's factors fails with unknown-factor") {
  ScanResult r;
  r.findings.push_back(key_finding("/srv/k.pem", false));
  try {
    keyward::rules::score(r, RuleSet(), context());
    FAIL("no error");
  } catch (const keyward::rules::RuleError& e) {
    CHECK(e.code == "unknown-factor");
  }
}
