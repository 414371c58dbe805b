// SPDX-License-Identifier: Apache-2.0
// A collector without the network for API tests: CA, SQLite store and Api in a temporary
// directory, an admin and a viewer token, and a call() that builds an ApiRequest.
#pragma once

#include "server/api.hpp"

#include "collector/server_fixture.hpp"

#include <keyward/protocol/protocol.hpp>

#include <support/temp_tree.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace keyward::test {

using namespace keyward::collector;
using json = nlohmann::json;

// A collector without the network: CA, store and API in a temporary directory.
struct Collector {
  TempTree dir;
  Config config;
  std::unique_ptr<Store> store;
  std::unique_ptr<CertificateAuthority> ca;
  Metrics metrics;
  std::unique_ptr<Api> api;
  std::string admin, viewer;

  explicit Collector(std::uint32_t reports_per_minute = 3) {
    make_ca(dir.path("ca.pem"), dir.path("ca.key"), "test");
    config.data_dir = dir.path();
    config.limits.max_request_bytes = 1 << 20;
    config.limits.reports_per_minute = reports_per_minute;
    store = open_sqlite_store(dir.path("k.db"), "", FleetOptions{});
    ca = std::make_unique<CertificateAuthority>(dir.path("ca.pem"), dir.path("ca.key"));
    api = std::make_unique<Api>(*store, *ca, config, metrics);
    admin = store->create_token(Role::admin, "admin", "", 0, Actor{"cli:test", std::nullopt}).value().secret;
    viewer = store->create_token(Role::viewer, "viewer", "", 0, Actor{"cli:test", std::nullopt}).value().secret;
  }

  ApiResponse call(const std::string& method, const std::string& target, const std::string& token = "",
                   const std::string& body = "", std::optional<std::string> cert = std::nullopt,
                   const std::string& encoding = "") {
    ApiRequest r;
    r.method = method;
    r.target = target;
    if (!token.empty()) r.authorization = "Bearer " + token;
    r.body = body;
    r.peer_cert_sha256 = std::move(cert);
    r.content_encoding = encoding;
    return api->handle(r);
  }

  // Enrolls an agent through the API; returns (agent id, cert sha256).
  std::pair<std::string, std::string> enroll(const std::string& hostname = "build-1") {
    auto tok = call("POST", "/api/v1/enrollment-tokens", admin, "{\"ttl_seconds\": 600}");
    REQUIRE(tok.status == 201);
    const std::string secret = json::parse(tok.body)["secret"];
    keyward::protocol::EnrollRequest req{make_csr("ec"), hostname, "linux"};
    auto r = call("POST", "/api/v1/enroll", secret, keyward::protocol::to_json(req).dump());
    REQUIRE(r.status == 201);
    auto resp = keyward::protocol::parse_enroll_response(r.body);
    REQUIRE(resp.has_value());
    CHECK(resp->status == "pending");
    auto agent = store->agent(resp->agent_id);
    REQUIRE(agent);
    return {agent->id, agent->cert_sha256};
  }
};

inline std::string report_body() {
  keyward::scanner::ScanResult r;
  r.complete = true;
  r.host.hostname = "build-1";
  return keyward::protocol::report_to_json(r, keyward::protocol::new_report_id()).dump();
}

inline std::string code_of(const ApiResponse& r) { return json::parse(r.body)["error"]["code"]; }

// A token made through the API by the admin; its JSON (with the secret).
inline json make_token(Collector& c, const json& body) {
  auto r = c.call("POST", "/api/v1/tokens", c.admin, body.dump());
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return json::parse(r.body);
}

}  // namespace keyward::test
