// SPDX-License-Identifier: Apache-2.0
#include "collector/api_fixture.hpp"
#include "collector/store_fixture.hpp"

#include <keyward/protocol/protocol.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace keyward::collector;
using keyward::test::code_of;
using keyward::test::Collector;
using keyward::test::make_token;
using keyward::test::report_body;
using json = nlohmann::json;

namespace {

// An RFC 3339 time `days` from now.
std::string days_ahead(std::int64_t days) { return rfc3339(std::time(nullptr) + days * 86400); }

// An approved agent whose report holds one key; the key's identity.
std::string fleet_with_a_key(keyward::test::Collector& c) {
  auto [id, cert] = c.enroll();
  REQUIRE(c.call("POST", "/api/v1/agents/" + id + "/approve", c.admin).status == 200);
  c.store->ingest(*c.store->agent(id), keyward::test::report({keyward::test::key_finding("f1", "/srv/a.pem", 1)}),
                  std::time(nullptr));
  return "spki:" + keyward::test::fp(1);
}

// The body of an exception request for identity, expiring `days` from now.
std::string exception_body(const std::string& identity, std::int64_t days) {
  return json{{"identity", identity}, {"reason", "lab key"}, {"expires_at", days_ahead(days)}}.dump();
}

}  // namespace

TEST_CASE("health needs no authentication, reads need a token, unknown paths and methods are 404 and 405") {
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

TEST_CASE("ready answers 200 while the store is readable at this collector's schema, else 503 with the reason") {
  Collector c;
  const int version = c.store->schema_version();
  auto r = c.call("GET", "/ready");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body).at("status") == "ready");
  // Another collector version migrated the database further: this one must leave the pool.
  keyward::test::tamper(c.dir.path("k.db"), "PRAGMA user_version = 99");
  r = c.call("GET", "/ready");
  CHECK(r.status == 503);
  CHECK(json::parse(r.body).at("reason").get<std::string>().find("schema version 99") != std::string::npos);
  CHECK(c.call("GET", "/health").status == 200);  // alive all the same
  keyward::test::tamper(c.dir.path("k.db"), "PRAGMA user_version = " + std::to_string(version));
  CHECK(c.call("GET", "/ready").status == 200);
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
  CHECK(c.call("POST", "/api/v1/exceptions", a, exception_body("spki:abc", 30)).status == 404);
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

TEST_CASE("two tokens of one principal are one person: alice cannot approve her own request with her approver token") {
  Collector c;
  const std::string identity = fleet_with_a_key(c);
  const json analyst = make_token(c, {{"role", "analyst"}, {"name", "alice"}});
  const json approver = make_token(c, {{"role", "approver"}, {"name", "alice"}});  // principal: the name
  const json bob = make_token(c, {{"role", "approver"}, {"name", "bob laptop"}, {"principal", "bob"}});
  CHECK(analyst["principal"] == "alice");
  CHECK(approver["principal"] == "alice");
  CHECK(bob["principal"] == "bob");

  auto req = c.call("POST", "/api/v1/exceptions", analyst["secret"], exception_body(identity, 30));
  REQUIRE(req.status == 201);
  const json x = json::parse(req.body);
  CHECK(x["requested_by"] == "principal:alice");
  const std::string approve = "/api/v1/exceptions/" + x["id"].get<std::string>() + "/approve";
  auto own = c.call("POST", approve, approver["secret"]);
  CHECK(own.status == 403);
  CHECK(code_of(own) == "separation_of_duties");
  auto ok = c.call("POST", approve, bob["secret"]);
  CHECK(ok.status == 200);
  CHECK(json::parse(ok.body)["approved_by"] == "principal:bob");

  // The audit log names the principal, and the token it acted through.
  const auto audit = json::parse(c.call("GET", "/api/v1/audit?limit=1000", c.admin).body)["items"];
  bool request_seen = false;
  for (const auto& e : audit)
    if (e["action"] == "exception.request") {
      request_seen = true;
      CHECK(e["actor"] == "principal:alice");
      CHECK(e["via"] == "token:" + analyst["id"].get<std::string>());
    }
  CHECK(request_seen);
}

TEST_CASE("token names, principals and exception reasons are bounded text without control characters") {
  Collector c;
  const std::string identity = fleet_with_a_key(c);
  for (const json& body : {json{{"role", "viewer"}, {"name", "ali\nce"}},
                           json{{"role", "viewer"}, {"name", "x"}, {"principal", "\u001b[31malice"}},
                           json{{"role", "viewer"}, {"name", "x"}, {"principal", 7}},
                           json{{"role", "viewer"}, {"name", "x"}, {"principal", ""}},
                           json{{"role", "viewer"}, {"name", "x"}, {"principal", std::string(201, 'p')}},
                           json{{"role", "viewer"}, {"name", std::string(201, 'n')}}}) {
    CAPTURE(body.dump());
    auto r = c.call("POST", "/api/v1/tokens", c.admin, body.dump());
    CHECK(r.status == 400);
    CHECK(code_of(r) == "invalid");
  }
  const json analyst = make_token(c, {{"role", "analyst"}, {"name", "a"}});
  json body = json::parse(exception_body(identity, 30));
  body["reason"] = "lab key\r\nforged: line";
  CHECK(c.call("POST", "/api/v1/exceptions", analyst["secret"], body.dump()).status == 400);
}

TEST_CASE("API tokens last 90 days unless never is asked for by name, as on the command line") {
  Collector c;
  const std::int64_t now = std::time(nullptr);
  const json plain = make_token(c, {{"role", "viewer"}, {"name", "grafana"}});
  REQUIRE(plain["expires_at"].is_string());
  const std::int64_t expires = *parse_rfc3339(plain["expires_at"].get<std::string>());
  CHECK(expires >= now + 90 * 86400);
  CHECK(expires <= now + 90 * 86400 + 60);
  const json never = make_token(c, {{"role", "viewer"}, {"name", "batch"}, {"ttl_seconds", "never"}});
  CHECK(never["expires_at"].is_null());
  const json day = make_token(c, {{"role", "viewer"}, {"name", "day"}, {"ttl_seconds", 86400}});
  CHECK(*parse_rfc3339(day["expires_at"].get<std::string>()) <= now + 86400 + 60);
  // null is not "never": a client that writes null for "unset" must not get an eternal token.
  for (const json& ttl : {json(nullptr), json(59), json("forever"), json(0), json(3651LL * 86400)}) {
    CAPTURE(ttl.dump());
    auto r =
        c.call("POST", "/api/v1/tokens", c.admin, json{{"role", "viewer"}, {"name", "x"}, {"ttl_seconds", ttl}}.dump());
    CHECK(r.status == 400);
  }
}

TEST_CASE("an exception expires at most limits.max_exception_seconds ahead") {
  Collector c;
  const std::string identity = fleet_with_a_key(c);
  const json analyst = make_token(c, {{"role", "analyst"}, {"name", "a"}});
  const std::string a = analyst["secret"];
  auto far = c.call("POST", "/api/v1/exceptions", a,
                    json{{"identity", identity}, {"reason", "r"}, {"expires_at", "9999-12-31T00:00:00Z"}}.dump());
  CHECK(far.status == 400);
  CHECK(json::parse(far.body)["error"]["message"].get<std::string>().find("31536000") != std::string::npos);
  CHECK(c.call("POST", "/api/v1/exceptions", a, exception_body(identity, 367)).status == 400);
  CHECK(c.call("POST", "/api/v1/exceptions", a, exception_body(identity, 360)).status == 201);
  c.config.limits.max_exception_seconds = 7 * 86400;
  auto week = c.call("POST", "/api/v1/exceptions", a, exception_body(identity, 8));
  CHECK(week.status == 400);
  CHECK(json::parse(week.body)["error"]["message"].get<std::string>().find("604800") != std::string::npos);
  CHECK(c.call("POST", "/api/v1/exceptions", a, exception_body(identity, 6)).status == 201);
}

TEST_CASE("agent tags follow one rule through the API and the store") {
  Collector c;
  auto [id, cert] = c.enroll();
  const std::string path = "/api/v1/agents/" + id + "/tags";
  auto ok = c.call("PUT", path, c.admin, R"({"tags": ["build", "team:Payments", "eu-west.1"]})");
  CHECK(ok.status == 200);
  auto agents = c.store->list_agents();
  REQUIRE(agents.size() == 1);
  CHECK(agents[0].tags == std::vector<std::string>{"build", "eu-west.1", "team:Payments"});
  for (const char* bad : {R"({"tags": ["two words"]})", R"({"tags": [""]})", R"({"tags": ["a\u001b[2J"]})"}) {
    INFO(bad);
    auto refused = c.call("PUT", path, c.admin, bad);
    CHECK(refused.status == 400);
    CHECK(refused.body.find(std::string(kAgentTagRule)) != std::string::npos);
  }
  CHECK(c.store->set_agent_tags(id, {"two words"}, Actor{"cli:test", std::nullopt}).error().message ==
        std::string(kAgentTagRule));
}

TEST_CASE("a false positive through the API: kind checked, confirmed by another principal, filterable by status") {
  Collector c;
  const std::string identity = fleet_with_a_key(c);
  const json analyst = make_token(c, {{"role", "analyst"}, {"name", "alice"}});
  const json alice_approver = make_token(c, {{"role", "approver"}, {"name", "alice"}});
  const json bob = make_token(c, {{"role", "approver"}, {"name", "bob"}});
  json body = json::parse(exception_body(identity, 30));
  for (const json& kind : {json("false-positive"), json(""), json(1), json(nullptr)}) {
    body["kind"] = kind;
    auto bad = c.call("POST", "/api/v1/exceptions", analyst["secret"], body.dump());
    CHECK(bad.status == 400);
    CHECK(code_of(bad) == "invalid");
  }
  body["kind"] = "false_positive";
  auto req = c.call("POST", "/api/v1/exceptions", analyst["secret"], body.dump());
  REQUIRE(req.status == 201);
  const json x = json::parse(req.body);
  CHECK(x["kind"] == "false_positive");
  const std::string approve = "/api/v1/exceptions/" + x["id"].get<std::string>() + "/approve";
  CHECK(code_of(c.call("POST", approve, alice_approver["secret"])) == "separation_of_duties");
  REQUIRE(c.call("POST", approve, bob["secret"]).status == 200);

  auto fp = json::parse(c.call("GET", "/api/v1/findings?status=false_positive", c.admin).body);
  CHECK(fp["total"] == 1);
  CHECK(fp["items"][0]["status"] == "false_positive");
  CHECK(json::parse(c.call("GET", "/api/v1/findings", c.admin).body)["total"] == 0);
  CHECK(json::parse(c.call("GET", "/api/v1/findings?status=all", c.admin).body)["total"] == 1);
  CHECK(c.call("GET", "/api/v1/findings?status=false-positive", c.admin).status == 400);
  CHECK(json::parse(c.call("GET", "/api/v1/exceptions", c.admin).body)["items"][0]["kind"] == "false_positive");
}
