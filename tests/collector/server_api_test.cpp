#include "collector/api_fixture.hpp"

#include <keyward/protocol/protocol.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace keyward::collector;
using keyward::test::code_of;
using keyward::test::Collector;
using keyward::test::report_body;
using json = nlohmann::json;

TEST_CASE("health needs no authentication; reads need a token; unknown paths and methods are 404 and 405") {
  Collector c;
  CHECK(c.call("GET", "/health").status == 200);
  auto r = c.call("GET", "/api/v1/hosts");
  CHECK(r.status == 401);
  CHECK(code_of(r) == "unauthenticated");
  CHECK(c.call("GET", "/api/v1/hosts", "kwt_wrong").status == 401);
  CHECK(c.call("GET", "/api/v1/hosts", c.viewer).status == 200);
  CHECK(c.call("GET", "/api/v1/nothing", c.viewer).status == 404);
  CHECK(c.call("DELETE", "/api/v1/hosts", c.viewer).status == 405);
  CHECK(c.call("GET", "/api/v1/reports", c.viewer).status == 405);
  CHECK(c.call("GET", "/api/v1/findings?limit=5000", c.viewer).status == 400);
  CHECK(c.call("GET", "/api/v1/findings?min_severity=high&limit=10", c.viewer).status == 200);
  CHECK(c.call("GET", "/api/v1/certificates?expiring_within=30q", c.viewer).status == 400);
  CHECK(c.call("GET", "/api/v1/findings?host=%zz", c.viewer).status == 400);
  CHECK(c.call("GET", "/metrics", c.viewer).status == 200);
}

TEST_CASE("roles are separate duties: a viewer cannot act, an analyst cannot approve") {
  Collector c;
  CHECK(c.call("POST", "/api/v1/enrollment-tokens", c.viewer).status == 403);
  CHECK(c.call("POST", "/api/v1/tokens", c.viewer, R"({"role":"admin","name":"x"})").status == 403);
  CHECK(c.call("GET", "/api/v1/audit", c.viewer).status == 403);
  CHECK(c.call("GET", "/api/v1/audit", c.admin).status == 200);
  auto analyst = json::parse(c.call("POST", "/api/v1/tokens", c.admin, R"({"role":"analyst","name":"a"})").body);
  const std::string a = analyst["secret"];
  // Role checks come before any lookup: an analyst never approves, whatever the id.
  CHECK(c.call("POST", "/api/v1/exceptions/0123456789abcdef/approve", a).status == 403);
  CHECK(c.call("POST", "/api/v1/exceptions/0123456789abcdef/approve", c.admin).status == 403);
  // An identity the fleet has never seen cannot be excepted.
  CHECK(c.call("POST", "/api/v1/exceptions", a,
               R"({"identity":"spki:abc","reason":"lab key","expires_at":"2099-01-01T00:00:00Z"})")
            .status == 404);
  CHECK(c.call("POST", "/api/v1/exceptions", a, R"({"identity":"spki:abc","reason":"r","expires_at":"soon"})").status ==
        400);
  CHECK(c.call("POST", "/api/v1/exceptions", a, "{not json").status == 400);
}

TEST_CASE("an enrolled agent's reports are held until approval and a revoke refuses its very next request") {
  Collector c;
  auto [id, cert] = c.enroll();
  CHECK(c.call("POST", "/api/v1/reports", "", report_body()).status == 401);  // no certificate
  auto held = c.call("POST", "/api/v1/reports", "", report_body(), cert);
  CHECK(held.status == 202);
  CHECK(json::parse(held.body)["status"] == "held");
  CHECK(held.who == "agent:" + id);
  CHECK(c.call("GET", "/api/v1/hosts", "", "", cert).status == 403);  // agents only report
  CHECK(c.call("POST", "/api/v1/agents/" + id + "/approve", c.admin).status == 200);
  const std::string body = report_body();
  auto stored = c.call("POST", "/api/v1/reports", "", keyward::test::gzip(body), cert, "gzip");
  CHECK(stored.status == 202);
  CHECK(json::parse(stored.body)["status"] == "stored");
  CHECK(json::parse(c.call("POST", "/api/v1/reports", "", body, cert).body)["status"] == "duplicate");
  // reports_per_minute is 3 here: the fourth is refused with Retry-After.
  auto limited = c.call("POST", "/api/v1/reports", "", report_body(), cert);
  CHECK(limited.status == 429);
  bool retry_after = false;
  for (const auto& [k, v] : limited.headers) retry_after = retry_after || k == "Retry-After";
  CHECK(retry_after);
  CHECK(c.call("POST", "/api/v1/agents/" + id + "/revoke", c.admin).status == 200);
  auto revoked = c.call("POST", "/api/v1/reports", "", report_body(), cert);
  CHECK(revoked.status == 403);
  CHECK(code_of(revoked) == "revoked");
  CHECK(c.call("POST", "/api/v1/reports", "", report_body(), std::string(64, 'a')).status == 403);
}

TEST_CASE("malformed reports are 400 and a gzip bomb is 413, never a crash") {
  Collector c(100);
  auto [id, cert] = c.enroll();
  CHECK(code_of(c.call("POST", "/api/v1/reports", "", "{\"schema\":", cert)) == "malformed_json");
  CHECK(code_of(c.call("POST", "/api/v1/reports", "", "{\"schema\":\"other/v1\"}", cert)) == "unknown_schema");
  auto bomb = c.call("POST", "/api/v1/reports", "", keyward::test::gzip(std::string(100u << 20, ' ')), cert, "gzip");
  CHECK(bomb.status == 413);
  CHECK(c.call("POST", "/api/v1/reports", "", "plain", cert, "br").status == 415);
}

TEST_CASE("an enrollment token works once, and enrollment refuses weak keys") {
  Collector c;
  auto tok = json::parse(c.call("POST", "/api/v1/enrollment-tokens", c.admin).body);
  const std::string secret = tok["secret"];
  keyward::protocol::EnrollRequest weak{keyward::test::make_csr("rsa1024"), "h", "linux"};
  auto r = c.call("POST", "/api/v1/enroll", secret, keyward::protocol::to_json(weak).dump());
  CHECK(r.status == 400);
  CHECK(code_of(r) == "bad_csr");
  keyward::protocol::EnrollRequest good{keyward::test::make_csr("ec"), "h", "linux"};
  CHECK(c.call("POST", "/api/v1/enroll", secret, keyward::protocol::to_json(good).dump()).status == 201);
  CHECK(c.call("POST", "/api/v1/enroll", secret, keyward::protocol::to_json(good).dump()).status >= 400);
  CHECK(c.call("POST", "/api/v1/enroll", "", keyward::protocol::to_json(good).dump()).status == 401);
  CHECK(c.call("POST", "/api/v1/enroll", c.admin, keyward::protocol::to_json(good).dump()).status == 401);
}
