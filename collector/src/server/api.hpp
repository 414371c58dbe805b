// SPDX-License-Identifier: Apache-2.0
// API v1 of the collector (docs/fleet.md, docs/api/openapi.yaml): the route table, authentication,
// roles and one handler per route, on plain request/response values so that it is testable
// without a network.
// Used by: the TLS session (server.cpp), one call per HTTP request on the work pool (and
// preauthorize() before a large body); GET /health on an io thread (store_free()); the
// route tests, which check the table against docs/api/openapi.yaml.
// Must never log or echo a token secret, a body or a CSR; refuses malformed input with 4xx.
#pragma once

#include <keyward/collector/store.hpp>

#include "server/ca.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"
#include "server/rate_limiter.hpp"
#include "server/request_target.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keyward::collector {

// One HTTP request as the session read it (body complete, at most max_request_bytes).
struct ApiRequest {
  std::string method;            // "GET", "POST", ...
  std::string target;            // path and query
  std::string authorization;     // the Authorization header, "" when absent
  std::string content_encoding;  // "" or e.g. "gzip"
  std::string body;
  std::optional<std::string> peer_cert_sha256;  // SHA-256 of the verified client certificate's DER
};

// The answer; who names the caller for the access log ("agent:<id>", "token:<id>", "-").
struct ApiResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string who = "-";
};

// Who may call a route: nobody in particular (open), an agent's client certificate (agent), a
// one-time enrollment token (enrollment), or an API token of any role or of one role.
enum class Access { open, agent, enrollment, any, analyst, approver, admin };
// "open", "agent", "enrollment", "any", "analyst", "approver", "admin".
std::string_view to_string(Access a) noexcept;

// One route as the table declares it; the path template is spelled as in the OpenAPI document.
struct RouteInfo {
  std::string_view method;         // "GET", "POST", "PUT"
  std::string_view path_template;  // e.g. "/api/v1/agents/{id}/approve"
  Access access;
};

class Api {
 public:
  // store and ca must outlive the Api; the store is thread-safe and called from any work thread.
  Api(Store& store, const CertificateAuthority& ca, const Config& config, Metrics& metrics);

  // Answers one request; never throws for bad input (a store failure becomes a 500).
  ApiResponse handle(const ApiRequest& req);

  // The checks of handle() that need no body (target, agent certificate, route, credentials
  // and role, a usable enrollment token, path ids), for a request whose large body is not read
  // yet: the refusal, or nullopt when the body may be read. An open path (health) takes no
  // body: 413. Calls the store (run it off the io threads).
  std::optional<ApiResponse> preauthorize(std::string_view method, std::string_view target,
                                          std::string_view authorization,
                                          const std::optional<std::string>& peer_cert_sha256);

  // True when handle() answers this request without calling the store (GET /health, not
  // GET /ready): the
  // server answers it on its io thread, never queued behind store work.
  static bool store_free(std::string_view method, std::string_view target);

  // Every route of API v1, in table order.
  static std::vector<RouteInfo> routes();

 private:
  struct Caller;
  struct Call;
  struct Route;
  struct Match;
  struct Admitted;
  using Handler = ApiResponse (Api::*)(Call&);

  static std::span<const Route> table();
  static Match match(std::string_view method, const RequestTarget& target);
  std::optional<ApiResponse> answer(const ApiRequest& req, bool admit_only);
  ApiResponse dispatch(const ApiRequest& req, Caller& caller);
  std::optional<ApiResponse> admit(const ApiRequest& req, Caller& caller, Admitted& a);
  std::optional<ApiResponse> limit_reads(const ApiRequest& req, const Caller& caller);
  std::optional<ApiResponse> identify_agent(const ApiRequest& req, Caller& caller, const Match& m);
  std::optional<ApiResponse> authenticate(const ApiRequest& req, Caller& caller, const Route& route);
  std::optional<ApiResponse> check_enrollment_token(const ApiRequest& req);

  ApiResponse health(Call& c);
  ApiResponse ready(Call& c);
  ApiResponse reports(Call& c);
  ApiResponse enroll(Call& c);
  ApiResponse hosts(Call& c);
  ApiResponse findings(Call& c);
  ApiResponse keys(Call& c);
  ApiResponse certificates(Call& c);
  ApiResponse events(Call& c);
  ApiResponse whoami(Call& c);
  ApiResponse overview(Call& c);
  ApiResponse agents(Call& c);
  ApiResponse agent_approve(Call& c);
  ApiResponse agent_revoke(Call& c);
  ApiResponse agent_tags(Call& c);
  ApiResponse enrollment_tokens_create(Call& c);
  ApiResponse tokens_create(Call& c);
  ApiResponse tokens_list(Call& c);
  ApiResponse token_revoke(Call& c);
  ApiResponse exceptions_create(Call& c);
  ApiResponse exceptions_list(Call& c);
  ApiResponse exception_approve(Call& c);
  ApiResponse audit(Call& c);
  ApiResponse plan(Call& c);
  ApiResponse cbom(Call& c);
  ApiResponse plan_request(Call& c);
  ApiResponse plan_approve(Call& c);
  ApiResponse plan_refuse(Call& c);
  ApiResponse plan_result(Call& c);
  ApiResponse agent_migrations(Call& c);
  ApiResponse agent_migration_result(Call& c);
  ApiResponse metrics(Call& c);
  ApiResponse ingest_report(const AgentInfo& agent, const protocol::Report& report);

  Store& store_;
  const CertificateAuthority& ca_;
  const Config& config_;
  Metrics& metrics_;
  RateLimiter rate_;        // reports, per agent
  RateLimiter reads_rate_;  // GET requests, per API token
};

// HTTP status for a store Refusal code.
unsigned status_for(const std::string& refusal_code) noexcept;

}  // namespace keyward::collector
