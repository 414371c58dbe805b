// SPDX-License-Identifier: Apache-2.0
// The API's route table against docs/api/openapi.yaml, and request targets parsed segment by
// segment: "%2F" inside a segment stays inside it.
#include "collector/api_fixture.hpp"

#include "server/request_target.hpp"

#include <doctest/doctest.h>

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace keyward::collector;
using keyward::test::code_of;
using keyward::test::Collector;
using json = nlohmann::json;

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "METHOD /path/{template}" of every operation the OpenAPI document describes.
std::set<std::string> documented_operations(const YAML::Node& doc) {
  std::set<std::string> out;
  for (const auto& path : doc["paths"])
    for (const auto& op : path.second) {
      const std::string method = op.first.as<std::string>();
      if (method == "get" || method == "post" || method == "put" || method == "delete" || method == "patch")
        out.insert(upper(method) + " " + path.first.as<std::string>());
    }
  return out;
}

// The security schemes an operation names ("" for `security: []`), the document's default when it
// names none; empty when the operation is not documented.
std::set<std::string> security_of(const YAML::Node& doc, const RouteInfo& r) {
  std::set<std::string> out;
  const YAML::Node path = doc["paths"][std::string(r.path_template)];
  if (!path || !path[lower(r.method)]) return out;  // undocumented: the test above names it
  const YAML::Node op = path[lower(r.method)];
  const YAML::Node security = op["security"] ? op["security"] : doc["security"];
  if (security.size() == 0) out.insert("");
  for (const auto& requirement : security)
    for (const auto& scheme : requirement) out.insert(scheme.first.as<std::string>());
  return out;
}

std::string route_name(const RouteInfo& r) { return std::string(r.method) + " " + std::string(r.path_template); }

// The statuses an operation's responses list.
std::set<unsigned> documented_statuses(const YAML::Node& doc, std::string_view method, std::string_view path) {
  std::set<unsigned> out;
  const YAML::Node op = doc["paths"][std::string(path)][lower(method)];
  if (!op) return out;
  for (const auto& r : op["responses"]) out.insert(r.first.as<unsigned>());
  return out;
}

bool takes_api_token(Access a) {
  return a == Access::any || a == Access::analyst || a == Access::approver || a == Access::admin;
}

}  // namespace

TEST_CASE("every route is documented in the OpenAPI document and every documented operation is routed") {
  const YAML::Node doc = YAML::LoadFile(KEYWARD_OPENAPI_FILE);
  const std::set<std::string> documented = documented_operations(doc);
  std::set<std::string> routed;
  for (const auto& r : Api::routes()) {
    CHECK_MESSAGE(routed.insert(route_name(r)).second, "routed twice: " << route_name(r));
    CHECK_MESSAGE(documented.count(route_name(r)) == 1, "not in docs/api/openapi.yaml: " << route_name(r));
  }
  for (const auto& op : documented) CHECK_MESSAGE(routed.count(op) == 1, "documented but not routed: " << op);
  CHECK(routed.size() >= 21);
}

TEST_CASE("the document's security matches each route's access: open, agent certificate or bearer token") {
  const YAML::Node doc = YAML::LoadFile(KEYWARD_OPENAPI_FILE);
  for (const auto& r : Api::routes()) {
    INFO(route_name(r), " access ", to_string(r.access));
    const auto security = security_of(doc, r);
    if (security.empty()) continue;
    if (r.access == Access::open) CHECK(security == std::set<std::string>{""});
    else if (r.access == Access::agent) CHECK(security == std::set<std::string>{"agentCertificate"});
    else CHECK(security == std::set<std::string>{"bearer"});
  }
}

TEST_CASE("each operation documents the refusals it can answer: credentials, the read rate and unknown ids") {
  const YAML::Node doc = YAML::LoadFile(KEYWARD_OPENAPI_FILE);
  for (const auto& r : Api::routes()) {
    INFO(route_name(r));
    const auto statuses = documented_statuses(doc, r.method, r.path_template);
    if (r.access != Access::open) {
      CHECK(statuses.count(401) == 1);
      CHECK(statuses.count(403) == 1);
    }
    if (r.method == "GET" && takes_api_token(r.access)) CHECK(statuses.count(429) == 1);
    if (r.path_template.find("{id}") != std::string_view::npos) CHECK(statuses.count(404) == 1);
  }
}

TEST_CASE("the statuses the API answers are documented for their operation (410, 413, 415, 409, 429)") {
  const YAML::Node doc = YAML::LoadFile(KEYWARD_OPENAPI_FILE);
  Collector c(/*reports_per_minute=*/2);
  auto [id, cert] = c.enroll();
  REQUIRE(c.call("POST", "/api/v1/agents/" + id + "/approve", c.admin).status == 200);
  struct Seen {
    const char* method;
    const char* path;
    ApiResponse answer;
  };
  const auto expired = c.store->create_enrollment_token(std::time(nullptr) - 1, Actor{"cli:test", std::nullopt});
  const std::string bomb = keyward::test::gzip(std::string(2u << 20, ' '));
  std::string viewer_id;
  const json tokens = json::parse(c.call("GET", "/api/v1/tokens", c.admin).body);
  for (const auto& t : tokens["items"])
    if (t["name"] == "viewer") viewer_id = t["id"];
  std::vector<Seen> seen = {
      {"POST", "/api/v1/reports", c.call("POST", "/api/v1/reports", "", "{}", cert, "br")},
      {"POST", "/api/v1/enroll", c.call("POST", "/api/v1/enroll", expired.secret, "{}")},
      {"POST", "/api/v1/reports", c.call("POST", "/api/v1/reports", "", bomb, cert, "gzip")},
      {"POST", "/api/v1/reports", c.call("POST", "/api/v1/reports", "", "{}", cert)},
      {"POST", "/api/v1/tokens/{id}/revoke", c.call("POST", "/api/v1/tokens/" + viewer_id + "/revoke", c.admin)},
      {"POST", "/api/v1/tokens/{id}/revoke", c.call("POST", "/api/v1/tokens/" + viewer_id + "/revoke", c.admin)},
      {"POST", "/api/v1/agents/{id}/revoke", c.call("POST", "/api/v1/agents/" + id + "/revoke", c.admin)},
      {"POST", "/api/v1/agents/{id}/revoke", c.call("POST", "/api/v1/agents/" + id + "/revoke", c.admin)},
  };
  c.config.limits.reads_per_minute = 1;
  c.api = std::make_unique<Api>(*c.store, *c.ca, c.config, c.metrics);
  for (int i = 0; i < 2; ++i) seen.push_back({"GET", "/api/v1/hosts", c.call("GET", "/api/v1/hosts", c.admin)});
  std::set<unsigned> statuses;
  for (const auto& s : seen) {
    INFO(s.method, " ", s.path, " ", s.answer.status, " ", s.answer.body);
    CHECK(documented_statuses(doc, s.method, s.path).count(s.answer.status) == 1);
    statuses.insert(s.answer.status);
  }
  // The calls above reached each of these refusals.
  for (unsigned want : {409u, 410u, 413u, 415u, 429u}) CHECK_MESSAGE(statuses.count(want) == 1, want);
}

TEST_CASE("a request target is split into segments before each is percent-decoded") {
  auto t = parse_request_target("/api/v1/agents/a%2Fb/approve?host=web%201&q=a+b&&limit=5&limit=7");
  REQUIRE(t);
  CHECK(t->segments == std::vector<std::string>{"api", "v1", "agents", "a/b", "approve"});
  CHECK(t->query.at("host") == "web 1");
  CHECK(t->query.at("q") == "a b");
  CHECK(t->query.at("limit") == "7");
  CHECK(parse_request_target("/api/v1/hosts/")->segments == std::vector<std::string>{"api", "v1", "hosts"});
  CHECK_FALSE(parse_request_target("/api/v1/findings?host=%zz"));
  CHECK_FALSE(parse_request_target("api/v1/hosts"));
  CHECK_FALSE(parse_request_target(""));
}

TEST_CASE("a segment holding %2F matches one template segment, and no other route") {
  const auto t = parse_request_target("/api/v1/agents/a%2Fb/approve");
  REQUIRE(t);
  std::vector<std::string> matched;
  PathParams params;
  for (const auto& r : Api::routes()) {
    PathParams p;
    if (!match_path_template(r.path_template, t->segments, &p)) continue;
    matched.push_back(route_name(r));
    params = p;
  }
  CHECK(matched == std::vector<std::string>{"POST /api/v1/agents/{id}/approve"});
  CHECK(params.at("id") == "a/b");
  // "/api%2Fv1/hosts" is one segment "api/v1" and "hosts": no route, although decoding the whole
  // path first would have made it /api/v1/hosts.
  const auto whole = parse_request_target("/api%2Fv1/hosts");
  REQUIRE(whole);
  CHECK(whole->segments == std::vector<std::string>{"api/v1", "hosts"});
  for (const auto& r : Api::routes()) CHECK_FALSE(match_path_template(r.path_template, whole->segments));
}

TEST_CASE("through the API, %2F reaches the route with / inside the id, and an encoded id still works") {
  Collector c;
  // The route matched and its handler checked the id: "no such id", not "no such endpoint".
  auto slash = c.call("POST", "/api/v1/agents/a%2Fb/approve", c.admin);
  CHECK(slash.status == 404);
  CHECK(json::parse(slash.body)["error"]["message"] == "no such id");
  auto whole = c.call("GET", "/api%2Fv1/hosts", c.viewer);
  CHECK(whole.status == 404);
  CHECK(json::parse(whole.body)["error"]["message"] == "no such endpoint: /api%2Fv1/hosts");
  CHECK(c.call("GET", "/api/v1/hosts", c.viewer).status == 200);
  // An id with an escaped character is decoded within its segment and approved.
  auto [id, cert] = c.enroll();
  char first[4];
  std::snprintf(first, sizeof first, "%%%02X", static_cast<unsigned char>(id[0]));
  const std::string escaped = first + id.substr(1);
  auto approved = c.call("POST", "/api/v1/agents/" + escaped + "/approve", c.admin);
  CHECK(approved.status == 200);
  CHECK(json::parse(approved.body)["id"] == id);
  CHECK(code_of(c.call("POST", "/api/v1/agents/" + escaped + "/approve", c.admin)) == "conflict");
}
