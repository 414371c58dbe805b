// SPDX-License-Identifier: Apache-2.0
// The CycloneDX 1.6 CBOM reporter (docs/formats/cbom.md) and the one quantum-safety function
// every report shares (crypto_algorithms.hpp): findings built in memory with SPKIs of keys
// generated at test time; one component per key identity with all its places, a closed
// dependency graph, quantum levels, securedBy Software vs HSM, no comment or password strings,
// byte-identical output for the same input. Schema validation is integration.cbom_schema's.
#include <doctest/doctest.h>

#include <keyward/reporters/cbom.hpp>
#include <keyward/reporters/crypto_algorithms.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <regex>
#include <set>

#include "support/keygen.hpp"

using namespace keyward::scanner;
using namespace keyward::reporters;
namespace t = keyward::test;
namespace migrate = keyward::migrate;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr const char* kComment = "alice@private-laptop";
constexpr const char* kPasswordFile = "ops/keystore-password.txt";
constexpr const char* kJustification = "approved by carol until 2027";

Finding key_finding(const std::string& host, const std::string& path, const std::string& algorithm,
                    const std::string& spki) {
  Finding f;
  f.id = "id-" + host + path;
  f.kind = Kind::private_key;
  f.format = Format::pem_pkcs8;
  f.location = {path, "", 1, 0, host};
  f.key.emplace();
  f.key->algorithm = algorithm;
  f.key->spki_sha256 = spki;
  f.key->comment = kComment;
  f.risk = RiskFacts{80, 80, "high", {}, "Move it into an HSM."};
  return f;
}

CertFacts cert_facts(const std::string& spki, const std::string& sha, bool trust_store) {
  CertFacts c;
  c.subject = trust_store ? "CN=Example Root CA" : "CN=web.example.org";
  c.issuer = "CN=Example Root CA";
  c.serial = "1092";
  c.not_before = kNow - 86400;
  c.not_after = kNow + 86400 * 365;
  c.signature_algorithm = "sha256WithRSAEncryption";
  c.sha256 = sha;
  c.spki_sha256 = spki;
  c.key_algorithm = "rsa";
  c.key_bits = 2048;
  c.trust_store = trust_store;
  return c;
}

// An RSA key on three hosts with its certificate, an ML-DSA-65 key, an Ed25519 key the plan says
// is migrated, a suppressed EC key, a PKCS#12 store with a P-256 key entry and its certificate,
// and a trust store's CA certificate.
ScanResult fleet() {
  const std::string rsa = t::spki_sha256(t::rsa_2048()), ed = t::spki_sha256(t::ed25519());
  const std::string ec = t::spki_sha256(t::ec_p256());
  ScanResult r;
  r.host.hostname = "collector";
  for (const char* host : {"web-1", "web-2", "web-3"}) {
    auto f = key_finding(host, "/etc/ssl/private/web.key", "rsa", rsa);
    f.key->bits = 2048;
    r.findings.push_back(f);
  }
  Finding cert;
  cert.id = "cert-web";
  cert.kind = Kind::certificate;
  cert.format = Format::pem_cert;
  cert.location = {"/etc/ssl/certs/web.crt", "", 1, 0, "web-1"};
  cert.certificate = cert_facts(rsa, std::string(64, 'a'), false);
  r.findings.push_back(cert);
  r.findings.push_back(key_finding("build-1", "/srv/pq/mldsa.pem", "ml-dsa-65", ""));
  r.findings.push_back(key_finding("build-1", "/home/ci/.ssh/id_ed25519", "ed25519", ed));
  auto suppressed = key_finding("build-1", "/srv/test/fixture.pem", "ec", std::string(64, 'e'));
  suppressed.key->curve = "P-256";
  suppressed.suppressed = Suppression{"allowlist", kJustification};
  r.findings.push_back(suppressed);

  Finding store;
  store.id = "store-1";
  store.kind = Kind::keystore;
  store.format = Format::pkcs12;
  store.location = {"/opt/app/keystore.p12", "", 0, 0, "app-1"};
  store.store.emplace();
  store.store->opened = true;
  store.store->weak_password = true;
  store.store->password_exposed_in = kPasswordFile;
  store.store->weaknesses = {"rc2-40"};
  StoreEntry entry;
  entry.kind = Kind::private_key;
  entry.alias = "server";
  entry.key.emplace();
  entry.key->algorithm = "ec";
  entry.key->curve = "P-256";
  entry.key->spki_sha256 = ec;
  entry.certificate = cert_facts(ec, std::string(64, 'b'), false);
  entry.certificate->signature_algorithm = "ecdsa-with-SHA256";
  entry.certificate->key_algorithm = "ec";
  entry.certificate->key_curve = "P-256";
  store.entries.push_back(entry);
  r.findings.push_back(store);

  Finding root;
  root.id = "root-ca";
  root.kind = Kind::certificate;
  root.format = Format::pem_cert;
  root.location = {"/etc/ssl/certs/ca-certificates.crt", "", 40, 0, "web-2"};
  root.certificate = cert_facts(std::string(64, 'c'), std::string(64, 'd'), true);
  r.findings.push_back(root);
  return r;
}

migrate::Plan plan_with_done_ed25519() {
  migrate::Plan plan;
  migrate::PlanItem done;
  done.identity = "spki:" + t::spki_sha256(t::ed25519());
  done.state = migrate::ItemState::done;
  done.target.profile = "softhsm2";
  done.target.token = "ci-signing";
  migrate::PlanItem proposed;
  proposed.identity = "spki:" + t::spki_sha256(t::rsa_2048());
  proposed.state = migrate::ItemState::proposed;
  proposed.target.token = "tls";
  migrate::PlanItem gone;  // migrated, every file cleaned up: no finding left
  gone.identity = "spki:" + std::string(64, 'f');
  gone.algorithm = "ec-p384";
  gone.state = migrate::ItemState::done;
  gone.target.token = "codesign";
  plan.items = {done, proposed, gone};
  return plan;
}

json render(const ScanResult& r, const migrate::Plan* plan) {
  return json::parse(render_cbom(ReportInput{r, plan, "fleet", kNow, "1.2.3"}));
}

const json& component(const json& bom, const std::string& ref) {
  for (const auto& c : bom["components"])
    if (c["bom-ref"] == ref) return c;
  FAIL("no component " << ref);
  static json none;
  return none;
}

std::string property(const json& c, const std::string& name) {
  for (const auto& p : c.value("properties", json::array()))
    if (p["name"] == name) return p["value"];
  return "<absent>";
}

std::set<std::string> depends_on(const json& bom, const std::string& ref) {
  for (const auto& d : bom["dependencies"])
    if (d["ref"] == ref) return d.value("dependsOn", std::set<std::string>{});
  FAIL("no dependency entry for " << ref);
  return {};
}

}  // namespace

TEST_CASE("key_algorithm names keys as the CBOM does, with their NIST quantum security level") {
  KeyFacts k;
  k.algorithm = "rsa";
  k.bits = 2048;
  auto rsa = algorithm_of(k);
  REQUIRE(rsa);
  CHECK(rsa->name == "RSA-2048");
  CHECK(rsa->nist_quantum_level == 0);
  CHECK(rsa->quantum_vulnerable);
  CHECK(rsa->oid == "1.2.840.113549.1.1.1");
  k = KeyFacts{};
  k.algorithm = "ec";
  k.curve = "P-384";
  CHECK(algorithm_of(k)->name == "ECDSA-P-384");
  CHECK(algorithm_of(k)->curve == "P-384");
  k.curve.clear();
  CHECK(algorithm_of(k)->name == "ECDSA");  // a curve the key does not name is not made up
  k.algorithm = "rsa";
  CHECK(algorithm_of(k)->name == "RSA");  // nor a size
  CHECK(algorithm_of(k)->parameter_set.empty());
  for (const auto& [alg, name, level] : {std::tuple{"ml-dsa-44", "ML-DSA-44", 2},
                                         {"ml-dsa-65", "ML-DSA-65", 3},
                                         {"ml-dsa-87", "ML-DSA-87", 5},
                                         {"ml-kem-768", "ML-KEM-768", 3},
                                         {"slh-dsa-sha2-128s", "SLH-DSA-SHA2-128s", 1},
                                         {"slh-dsa-shake-256f", "SLH-DSA-SHAKE-256f", 5}}) {
    k = KeyFacts{};
    k.algorithm = alg;
    const auto a = algorithm_of(k);
    REQUIRE(a);
    CHECK(a->name == name);
    CHECK(a->nist_quantum_level == level);
    CHECK_FALSE(a->quantum_vulnerable);
  }
  k = KeyFacts{};
  k.algorithm = "ml-kem-512";
  CHECK(algorithm_of(k)->primitive == "kem");
  k.algorithm = std::string(kSecretKeyAlgorithm);
  CHECK_FALSE(algorithm_of(k));
  k.algorithm = "ed25519";
  CHECK(algorithm_of(k)->quantum_vulnerable);
  CHECK(algorithm_of(k)->oid == "1.3.101.112");
}

TEST_CASE("plan_algorithm reads a plan item's algorithm name") {
  CHECK(plan_algorithm("rsa-3072")->name == "RSA-3072");
  CHECK(plan_algorithm("ec-p256")->name == "ECDSA-P-256");
  CHECK(plan_algorithm("ec-secp256k1")->curve == "secp256k1");
  CHECK(plan_algorithm("ed25519")->name == "Ed25519");
  CHECK(plan_algorithm("ml-dsa-65")->nist_quantum_level == 3);
  CHECK_FALSE(plan_algorithm("rsa-x"));  // not a size: unknown, nothing made up
  CHECK_FALSE(plan_algorithm(""));
}

TEST_CASE("signature_algorithm names certificate signatures as CycloneDX's examples do") {
  CHECK(signature_algorithm("sha256WithRSAEncryption")->name == "SHA256withRSA");
  CHECK(signature_algorithm("sha256WithRSAEncryption")->oid == "1.2.840.113549.1.1.11");
  CHECK(signature_algorithm("ecdsa-with-SHA384")->name == "SHA384withECDSA");
  CHECK(signature_algorithm("dsa_with_SHA256")->name == "SHA256withDSA");
  CHECK(signature_algorithm("RSASSA-PSS")->name == "RSASSA-PSS");
  CHECK(signature_algorithm("ED25519")->name == "Ed25519");
  CHECK(signature_algorithm("ml-dsa-87")->nist_quantum_level == 5);
  CHECK(signature_algorithm("ecdsa-with-SHA384")->quantum_vulnerable);
  CHECK_FALSE(signature_algorithm(""));
  CHECK_FALSE(signature_algorithm("GOST R 34.10-2012"));
}

TEST_CASE("a key found on three hosts is one component with three occurrences") {
  const json bom = render(fleet(), nullptr);
  const std::string ref = "key:spki:" + t::spki_sha256(t::rsa_2048());
  const json& key = component(bom, ref);
  const auto& occurrences = key["evidence"]["occurrences"];
  REQUIRE(occurrences.size() == 3);
  std::set<std::string> hosts;
  for (const auto& o : occurrences) {
    CHECK(o["location"] == "/etc/ssl/private/web.key");
    hosts.insert(o["additionalContext"].get<std::string>().substr(0, 10));
  }
  CHECK(hosts == std::set<std::string>{"host=web-1", "host=web-2", "host=web-3"});
  CHECK(property(key, "keyward:hosts") == "3");
  const auto& rcm = key["cryptoProperties"]["relatedCryptoMaterialProperties"];
  CHECK(key["cryptoProperties"]["assetType"] == "related-crypto-material");
  CHECK(rcm["type"] == "private-key");
  CHECK(rcm["state"] == "active");
  CHECK(rcm["size"] == 2048);
  CHECK(rcm["id"] == t::spki_sha256(t::rsa_2048()));
  CHECK(rcm["format"] == "PEM");
  std::size_t rsa_keys = 0;
  for (const auto& c : bom["components"]) rsa_keys += c["name"] == "RSA-2048 private key" ? 1 : 0;
  CHECK(rsa_keys == 1);
  // The key depends on its certificate (same SPKI) and its algorithm; the certificate on both algorithms.
  CHECK(depends_on(bom, ref) == std::set<std::string>{"algorithm:RSA-2048", "cert:" + std::string(64, 'a')});
  const auto cert_deps = depends_on(bom, "cert:" + std::string(64, 'a'));
  CHECK(cert_deps.count("algorithm:SHA256withRSA") == 1);
  CHECK(cert_deps.count("algorithm:RSA-2048") == 1);
}

TEST_CASE("the dependency graph is closed: every ref names a component, every component has an entry") {
  const json bom = render(fleet(), nullptr);
  std::set<std::string> refs{bom["metadata"]["component"]["bom-ref"].get<std::string>()};
  for (const auto& c : bom["components"]) CHECK(refs.insert(c["bom-ref"].get<std::string>()).second);
  std::set<std::string> entries;
  for (const auto& d : bom["dependencies"]) {
    CHECK(refs.count(d["ref"].get<std::string>()) == 1);
    entries.insert(d["ref"].get<std::string>());
    for (const auto& on : d.value("dependsOn", json::array())) CHECK_MESSAGE(refs.count(on) == 1, on);
  }
  CHECK(entries == refs);
  for (const auto& c : bom["components"]) {
    const auto& cp = c["cryptoProperties"];
    for (const auto* field : {"signatureAlgorithmRef", "subjectPublicKeyRef"})
      if (cp.contains("certificateProperties") && cp["certificateProperties"].contains(field))
        CHECK_MESSAGE(refs.count(cp["certificateProperties"][field]) == 1, c["bom-ref"]);
    if (cp.contains("relatedCryptoMaterialProperties") &&
        cp["relatedCryptoMaterialProperties"].contains("algorithmRef"))
      CHECK(refs.count(cp["relatedCryptoMaterialProperties"]["algorithmRef"]) == 1);
  }
  // The certificate's subject public key is a component of its own.
  const json& cert = component(bom, "cert:" + std::string(64, 'a'));
  CHECK(cert["cryptoProperties"]["certificateProperties"]["subjectPublicKeyRef"] ==
        "public-key:spki:" + t::spki_sha256(t::rsa_2048()));
}

TEST_CASE("quantum safety: RSA is level 0 and marked vulnerable, ML-DSA-65 is level 3") {
  const json bom = render(fleet(), nullptr);
  const json& rsa = component(bom, "algorithm:RSA-2048");
  CHECK(rsa["cryptoProperties"]["algorithmProperties"]["nistQuantumSecurityLevel"] == 0);
  CHECK(rsa["cryptoProperties"]["algorithmProperties"]["primitive"] == "signature");
  CHECK(rsa["cryptoProperties"]["algorithmProperties"]["parameterSetIdentifier"] == "2048");
  CHECK(property(component(bom, "key:spki:" + t::spki_sha256(t::rsa_2048())), "keyward:quantum-vulnerable") == "true");
  const json& ml = component(bom, "algorithm:ML-DSA-65");
  CHECK(ml["name"] == "ML-DSA-65");
  CHECK(ml["cryptoProperties"]["algorithmProperties"]["nistQuantumSecurityLevel"] == 3);
  CHECK(ml["cryptoProperties"]["algorithmProperties"]["parameterSetIdentifier"] == "65");
  const json& ml_key = component(bom, "key:finding:id-build-1/srv/pq/mldsa.pem");
  CHECK(ml_key["name"] == "ML-DSA-65 private key");
  CHECK(ml_key["cryptoProperties"]["relatedCryptoMaterialProperties"]["algorithmRef"] == "algorithm:ML-DSA-65");
  CHECK(property(ml_key, "keyward:quantum-vulnerable") == "false");
  const json& ec = component(bom, "algorithm:ECDSA-P-256");
  CHECK(ec["cryptoProperties"]["algorithmProperties"]["curve"] == "P-256");
}

TEST_CASE("securedBy: Software for a key in a file, HSM with the token once its migration is done") {
  const ScanResult r = fleet();
  const migrate::Plan plan = plan_with_done_ed25519();
  const json bom = render(r, &plan);
  const json& ed = component(bom, "key:spki:" + t::spki_sha256(t::ed25519()));
  CHECK(ed["cryptoProperties"]["relatedCryptoMaterialProperties"]["securedBy"]["mechanism"] == "HSM");
  CHECK(property(ed, "keyward:hsm-token") == "ci-signing");
  CHECK(property(ed, "keyward:migration-state") == "done");
  const json& rsa = component(bom, "key:spki:" + t::spki_sha256(t::rsa_2048()));
  CHECK(rsa["cryptoProperties"]["relatedCryptoMaterialProperties"]["securedBy"]["mechanism"] == "Software");
  CHECK(property(rsa, "keyward:migration-state") == "proposed");
  CHECK(property(rsa, "keyward:hsm-token") == "<absent>");
  const json without_plan = render(r, nullptr);
  CHECK(component(without_plan,
                  ed["bom-ref"])["cryptoProperties"]["relatedCryptoMaterialProperties"]["securedBy"]["mechanism"] ==
        "Software");
  // A migrated key no file holds any more is still inventory: in the HSM, with no occurrence.
  const json& gone = component(bom, "key:spki:" + std::string(64, 'f'));
  CHECK(gone["name"] == "ECDSA-P-384 private key");
  CHECK(gone["cryptoProperties"]["relatedCryptoMaterialProperties"]["securedBy"]["mechanism"] == "HSM");
  CHECK(property(gone, "keyward:hsm-token") == "codesign");
  CHECK_FALSE(gone.contains("evidence"));
  CHECK(depends_on(bom, "key:spki:" + std::string(64, 'f')) == std::set<std::string>{"algorithm:ECDSA-P-384"});
  CHECK_FALSE(without_plan.dump().find(std::string(64, 'f')) != std::string::npos);
  // A public key is not secured by anything.
  const json& pub = component(bom, "public-key:spki:" + t::spki_sha256(t::rsa_2048()));
  CHECK_FALSE(pub["cryptoProperties"]["relatedCryptoMaterialProperties"].contains("securedBy"));
}

TEST_CASE("stores, suppressions and trust stores: inventory with properties, never a comment or password") {
  const std::string text = render_cbom(ReportInput{fleet(), nullptr, "fleet", kNow, "1.2.3"});
  const json bom = json::parse(text);
  const json& entry_key = component(bom, "key:spki:" + t::spki_sha256(t::ec_p256()));
  CHECK(entry_key["evidence"]["occurrences"][0]["location"] == "/opt/app/keystore.p12");
  CHECK(entry_key["evidence"]["occurrences"][0]["additionalContext"].get<std::string>().find("entry=server") !=
        std::string::npos);
  CHECK(property(entry_key, "keyward:store-format") == "pkcs12");
  CHECK(property(entry_key, "keyward:store-weakness") == "rc2-40");
  CHECK(property(entry_key, "keyward:store-password-exposed") == "true");
  CHECK(entry_key["cryptoProperties"]["relatedCryptoMaterialProperties"]["format"] == "PKCS#12");
  CHECK(depends_on(bom, entry_key["bom-ref"]).count("cert:" + std::string(64, 'b')) == 1);
  const json& entry_cert = component(bom, "cert:" + std::string(64, 'b'));
  CHECK(entry_cert["cryptoProperties"]["certificateProperties"]["certificateExtension"] == "p12");
  CHECK(entry_cert["cryptoProperties"]["certificateProperties"]["signatureAlgorithmRef"] ==
        "algorithm:SHA256withECDSA");
  const json& suppressed = component(bom, "key:spki:" + std::string(64, 'e'));
  CHECK(property(suppressed, "keyward:suppressed") == "true");
  const json& root = component(bom, "cert:" + std::string(64, 'd'));
  CHECK(property(root, "keyward:trust-store") == "true");
  CHECK(property(component(bom, "cert:" + std::string(64, 'a')), "keyward:trust-store") == "false");
  const auto& cp = root["cryptoProperties"]["certificateProperties"];
  CHECK(cp["notValidBefore"] == "2025-12-31T00:00:00Z");
  CHECK(cp["certificateFormat"] == "X.509");
  CHECK(cp["certificateExtension"] == "crt");
  for (const char* secret : {kComment, kPasswordFile, kJustification}) CHECK(text.find(secret) == std::string::npos);
}

TEST_CASE("the same input gives the same bytes, whatever the order of the findings") {
  const ScanResult r = fleet();
  const migrate::Plan plan = plan_with_done_ed25519();
  const std::string first = render_cbom(ReportInput{r, &plan, "fleet", kNow, "1.2.3"});
  CHECK(first == render_cbom(ReportInput{r, &plan, "fleet", kNow, "1.2.3"}));
  ScanResult reversed = r;
  std::reverse(reversed.findings.begin(), reversed.findings.end());
  CHECK(first == render_cbom(ReportInput{reversed, &plan, "fleet", kNow, "1.2.3"}));
  const json bom = json::parse(first);
  CHECK(bom["bomFormat"] == "CycloneDX");
  CHECK(bom["specVersion"] == "1.6");
  CHECK(std::regex_match(bom["serialNumber"].get<std::string>(),
                         std::regex("urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(bom["metadata"]["timestamp"] == "2026-01-01T00:00:00Z");
  CHECK(bom["metadata"]["tools"]["components"][0]["name"] == "keyward");
  CHECK(bom["metadata"]["tools"]["components"][0]["version"] == "1.2.3");
  CHECK(bom["metadata"]["component"]["name"] == "fleet");
  // Another scan (one finding fewer) is another BOM.
  ScanResult fewer = r;
  fewer.findings.pop_back();
  CHECK(json::parse(render_cbom(ReportInput{fewer, &plan, "fleet", kNow, "1.2.3"}))["serialNumber"] !=
        bom["serialNumber"]);
}

TEST_CASE("an empty result is a BOM with no components and the inventory's dependency entry") {
  const ScanResult r;
  const json bom = json::parse(render_cbom(ReportInput{r, nullptr, "", kNow, ""}));
  CHECK(bom["components"].empty());
  CHECK(bom["dependencies"].size() == 1);
  CHECK(bom["metadata"]["component"]["name"] == "keyward inventory");
  CHECK_FALSE(bom["metadata"]["tools"]["components"][0].contains("version"));
}
