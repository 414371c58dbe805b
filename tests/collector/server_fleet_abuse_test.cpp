// SPDX-License-Identifier: Apache-2.0
// What a hostile enrolled agent or enrollment token holder can do through the API (issue 12):
// enroll with a key the fleet reports as exposed, send more findings than the limit, set
// names that are huge or hold control characters. Each is refused with its status and code.
#include "collector/api_fixture.hpp"

#include <keyward/common/hex.hpp>
#include <keyward/protocol/protocol.hpp>
#include <keyward/scanner/finding.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using keyward::test::code_of;
using keyward::test::Collector;
using json = nlohmann::json;

namespace {

keyward::scanner::Finding key_at(const std::string& id, const std::string& path, const std::string& spki) {
  keyward::scanner::Finding f;
  f.id = id;
  f.rule = "private-key/pkcs8";
  f.kind = keyward::scanner::Kind::private_key;
  f.format = keyward::scanner::Format::pem_pkcs8;
  f.location.path = path;
  f.file.mode = 0600;
  f.key = keyward::scanner::KeyFacts{};
  f.key->algorithm = "ec";
  f.key->bits = 256;
  f.key->spki_sha256 = spki;
  return f;
}

std::string report_of(std::vector<keyward::scanner::Finding> findings) {
  keyward::scanner::ScanResult r;
  r.complete = true;
  r.host.hostname = "build-1";
  r.findings = std::move(findings);
  return keyward::protocol::report_to_json(r, keyward::protocol::new_report_id()).dump();
}

std::string enroll_body(const std::string& csr, const std::string& hostname, const std::string& os) {
  return json{{"csr", csr}, {"hostname", hostname}, {"os", os}}.dump();
}

std::string new_enrollment_token(Collector& c) {
  return json::parse(c.call("POST", "/api/v1/enrollment-tokens", c.admin).body)["secret"];
}

// The one place of an identity as GET /api/v1/findings?status=all shows it.
json place_of(Collector& c, const std::string& identity) {
  const auto all = json::parse(c.call("GET", "/api/v1/findings?status=all", c.viewer).body);
  for (const auto& item : all["items"])
    if (item["identity"] == identity) return item;
  FAIL("no place of " << identity);
  return {};
}

}  // namespace

TEST_CASE("enrolling with a key the fleet reports as exposed is refused with 409 and the key stays open") {
  Collector c(100);
  auto [id, cert] = c.enroll();
  REQUIRE(c.call("POST", "/api/v1/agents/" + id + "/approve", c.admin).status == 200);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  const std::string spki = keyward::common::sha256_hex(keyward::test::spki_der(key));
  const auto stored =
      c.call("POST", "/api/v1/reports", "", report_of({key_at("leak", "/home/alice/.ssh/id", spki)}), cert);
  REQUIRE(stored.status == 202);
  const json before = place_of(c, "spki:" + spki);
  REQUIRE(before["status"] == "open");
  REQUIRE(before["finding"]["risk"]["severity"] == "high");

  const auto refused = c.call("POST", "/api/v1/enroll", new_enrollment_token(c),
                              enroll_body(keyward::test::make_csr_for(key), "intruder", "linux"));
  EVP_PKEY_free(key);
  CHECK(refused.status == 409);
  CHECK(code_of(refused) == "key_exposed");
  CHECK(json::parse(refused.body)["error"]["message"].get<std::string>().find("finding") != std::string::npos);

  const json after = place_of(c, "spki:" + spki);
  CHECK(after["status"] == "open");
  CHECK(after["finding"]["risk"] == before["finding"]["risk"]);
  CHECK(json::parse(c.call("GET", "/api/v1/agents", c.viewer).body)["total"] == 1);
  const auto audit = json::parse(c.call("GET", "/api/v1/audit?limit=1000", c.admin).body)["items"];
  CHECK(audit.back()["action"] == "agent.enroll_refused");
}

TEST_CASE("a report over max_findings_per_report is refused with 413 and stores nothing") {
  Collector c(100);
  c.config.limits.max_findings_per_report = 3;
  auto [id, cert] = c.enroll();
  REQUIRE(c.call("POST", "/api/v1/agents/" + id + "/approve", c.admin).status == 200);
  std::vector<keyward::scanner::Finding> findings;
  for (int i = 0; i < 4; ++i)
    findings.push_back(
        key_at("f" + std::to_string(i), "/srv/" + std::to_string(i), std::string(63, 'a') + char('0' + i)));
  const auto over = c.call("POST", "/api/v1/reports", "", report_of(findings), cert);
  CHECK(over.status == 413);
  CHECK(code_of(over) == "too_many_findings");
  CHECK(json::parse(c.call("GET", "/api/v1/findings?status=all", c.viewer).body)["total"] == 0);
  findings.pop_back();
  const auto at = c.call("POST", "/api/v1/reports", "", report_of(findings), cert);
  CHECK(at.status == 202);
  CHECK(json::parse(c.call("GET", "/api/v1/findings", c.viewer).body)["total"] == 3);
}

TEST_CASE("enrollment names that are huge or hold control characters are refused with 400") {
  Collector c;
  const std::string csr = keyward::test::make_csr("ec");
  const std::string token = new_enrollment_token(c);
  for (const auto& [hostname, os] :
       std::vector<std::pair<std::string, std::string>>{{"web-1", std::string(5u << 20, 'x')},  // a 5 MiB os
                                                        {"web-1\x1b[2J", "linux"},  // ESC: clears a terminal
                                                        {"web-1\nforged line", "linux"},
                                                        {"web-1", "linux\x7f"},
                                                        {"web-1", "linux\xc2\x85"},  // NEL, a C1 control
                                                        {std::string(254, 'a'), "linux"},
                                                        {"", "linux"}}) {
    const auto r = c.call("POST", "/api/v1/enroll", token, enroll_body(csr, hostname, os));
    CHECK(r.status == 400);
    CHECK(code_of(r) == "bad_field");
  }
  // None of them used the token up.
  CHECK(
      c.call("POST", "/api/v1/enroll", token, enroll_body(csr, std::string(253, 'a'), std::string(256, 'o'))).status ==
      201);
}

TEST_CASE("a report whose host name holds a control character is refused with 400") {
  Collector c(100);
  auto [id, cert] = c.enroll();
  keyward::scanner::ScanResult r;
  r.complete = true;
  r.host.hostname = "build-1\r\nforged";
  const auto refused = c.call("POST", "/api/v1/reports", "",
                              keyward::protocol::report_to_json(r, keyward::protocol::new_report_id()).dump(), cert);
  CHECK(refused.status == 400);
  CHECK(code_of(refused) == "bad_field");
}
