// SPDX-License-Identifier: Apache-2.0
// API v1: the route table (one line per route), the checks every request passes in order
// (target, agent certificate, route, credentials, path ids) and one function per handler.
// A new endpoint is one line in table(), one handler and its entry in docs/api/openapi.yaml;
// tests/collector/server_routes_test.cpp checks that the table and the document agree.
#include "server/api.hpp"

#include "server/fleet_documents.hpp"

#include "server/inflate.hpp"
#include "server/json_views.hpp"
#include "server/overview.hpp"

#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>
#include <keyward/protocol/protocol.hpp>
#include <keyward/rules/severity.hpp>

#include <boost/system/result.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace keyward::collector {
namespace {

using json = nlohmann::json;

// A value, or the answer that refuses the request.
template <class T>
using Answer = boost::system::result<T, ApiResponse>;

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ApiResponse json_response(unsigned status, const json& j) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

ApiResponse error(unsigned status, std::string_view code, std::string_view message) {
  return json_response(status, protocol::error_body(code, message));
}

ApiResponse refused(const Refusal& r) { return error(status_for(r.code), r.code, r.message); }

ApiResponse bad_query(std::string_view message) { return error(400, "invalid", message); }

ApiResponse unauthenticated(std::string_view message, std::string_view realm) {
  auto r = error(401, "unauthenticated", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"" + std::string(realm) + "\"");
  return r;
}

// An enrollment token the store refused: unknown or used (the store says forbidden) does not
// authenticate; expired is 410.
ApiResponse enrollment_token_refused(const Refusal& r) {
  if (r.code == "not_found" || r.code == "forbidden")
    return error(401, "unauthenticated", "unknown or already used enrollment token");
  return refused(r);
}

ApiResponse method_not_allowed(const std::string& allow) {
  auto r = error(405, "method_not_allowed", "use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

// The JSON of each row, in order.
template <class Rows>
json items_of(const Rows& rows) {
  json items = json::array();
  for (const auto& row : rows) items.push_back(to_json(row));
  return items;
}

// {"items": [...], "total": n} of a whole (unpaged) list.
template <class Rows>
ApiResponse list_response(const Rows& rows) {
  return json_response(200, json{{"items", items_of(rows)}, {"total", rows.size()}});
}

// 200 (or status) with the row an action returned, or the store's refusal.
template <class T>
ApiResponse outcome_response(const Outcome<T>& outcome, unsigned status = 200) {
  if (!outcome) return refused(outcome.error());
  return json_response(status, to_json(*outcome));
}

// A query number in [lo, hi]; def when absent; nullopt when malformed.
std::optional<std::uint64_t> query_number(const RequestTarget& t, const char* name, std::uint64_t def, std::uint64_t lo,
                                          std::uint64_t hi) {
  auto it = t.query.find(name);
  if (it == t.query.end()) return def;
  const std::string& s = it->second;
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::uint64_t v = std::stoull(s);
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::string query_string(const RequestTarget& t, const char* name) {
  auto it = t.query.find(name);
  return it == t.query.end() ? std::string() : it->second;
}

// Where a list request starts and how much it reads.
struct PageQuery {
  std::uint64_t limit = 100;  // 1..1000
  std::uint64_t offset = 0;   // lists paged by position
  std::uint64_t since = 0;    // lists read on by sequence number (events, audit)
};

// The paging of a list request: limit and offset; or, given since_message (the 400's text for
// a bad since), since and limit.
Answer<PageQuery> parse_page(const RequestTarget& t, const char* since_message = nullptr) {
  PageQuery p;
  if (since_message != nullptr) {
    auto since = query_number(t, "since", 0, 0, ~0ull >> 1);
    if (!since) return bad_query(since_message);
    p.since = *since;
  }
  auto limit = query_number(t, "limit", 100, 1, 1000);
  if (!limit) return bad_query("limit must be a number from 1 to 1000");
  p.limit = *limit;
  if (since_message == nullptr) {
    auto offset = query_number(t, "offset", 0, 0, 1ull << 40);
    if (!offset) return bad_query("offset must be a non-negative number");
    p.offset = *offset;
  }
  return p;
}

json page_json(json items, std::uint64_t total, const PageQuery& p) {
  return json{{"items", std::move(items)}, {"total", total}, {"limit", p.limit}, {"offset", p.offset}};
}

// The token of "Authorization: Bearer <token>"; "" when there is none.
std::string bearer(std::string_view header) {
  if (header.size() < 7) return {};
  std::string scheme(header.substr(0, 7));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return {};
  std::string_view tok = header.substr(7);
  while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
  return std::string(tok);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::optional<json> json_object_body(const std::string& body, bool empty_ok) {
  if (body.empty() && empty_ok) return json::object();
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// The non-empty string member k of a JSON object; nullopt when absent, empty or not a string.
std::optional<std::string> string_member(const json& object, const char* k) {
  auto it = object.find(k);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
  return it->get<std::string>();
}

bool valid_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

bool is_role_access(Access a) {
  return a == Access::any || a == Access::analyst || a == Access::approver || a == Access::admin;
}

bool allowed(Access access, Role role) {
  switch (access) {
    case Access::any:
      return true;
    case Access::analyst:
      return role == Role::analyst;
    case Access::approver:
      return role == Role::approver;
    case Access::admin:
      return role == Role::admin;
    case Access::open:
    case Access::agent:
    case Access::enrollment:
      return false;
  }
  return false;
}

// The findings filter of GET /api/v1/findings, checked value by value.
Answer<FindingQuery> parse_finding_query(const RequestTarget& t) {
  FindingQuery q;
  q.host = query_string(t, "host");
  q.severity = query_string(t, "severity");
  q.min_severity = query_string(t, "min_severity");
  q.kind = query_string(t, "kind");
  q.identity = query_string(t, "identity");
  if (auto s = t.query.find("status"); s != t.query.end()) q.status = s->second;
  if (!q.severity.empty() && !rules::parse_severity(q.severity))
    return bad_query("severity must be info, low, medium, high or critical");
  if (!q.min_severity.empty() && !rules::parse_severity(q.min_severity))
    return bad_query("min_severity must be info, low, medium, high or critical");
  if (!q.kind.empty() && q.kind != "private_key" && q.kind != "certificate" && q.kind != "keystore" &&
      q.kind != "public_key")
    return bad_query("kind must be private_key, certificate, keystore or public_key");
  if (q.identity.size() > 200) return bad_query("identity must name a key identity (e.g. spki:<hex>)");
  if (q.status != "open" && q.status != "resolved" && q.status != "excepted" && q.status != "false_positive" &&
      q.status != "managed" && q.status != "all")
    return bad_query("status must be open, resolved, excepted, false_positive, managed or all");
  auto page = parse_page(t);
  if (!page) return page.error();
  q.limit = page->limit;
  q.offset = page->offset;
  return q;
}

// A ttl_seconds member in [60, hi]; nullopt when absent; the answer when bad.
Answer<std::optional<std::int64_t>> ttl_member(const json& body, std::int64_t hi, std::string_view message) {
  auto it = body.find("ttl_seconds");
  if (it == body.end()) return std::optional<std::int64_t>();
  if (!it->is_number_integer() || it->get<std::int64_t>() < 60 || it->get<std::int64_t>() > hi)
    return error(400, "invalid", message);
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

// An API token's lifetime: ttl_seconds absent is the default (90 days, as the command line);
// "never" must be asked for by name, so that a client writing null for "unset" does not make a
// token that never expires.
Answer<TokenLifetime> token_lifetime(const json& body) {
  auto it = body.find("ttl_seconds");
  TokenLifetime t;
  if (it != body.end() && it->is_string() && it->get<std::string>() == "never") {
    t.never = true;
    return t;
  }
  auto ttl = ttl_member(body, kMaxTokenTtlSeconds,
                        "ttl_seconds must be a whole number from 60 to 315360000 (10 years), or \"never\"; "
                        "without it a token lasts 90 days");
  if (!ttl) return ttl.error();
  if (*ttl) t.seconds = **ttl;
  return t;
}

// An optional non-empty string member ("" when absent); the answer when present but not one.
Answer<std::string> optional_string(const json& object, const char* k, std::string_view message) {
  auto it = object.find(k);
  if (it == object.end()) return std::string();
  if (!it->is_string() || it->get<std::string>().empty()) return error(400, "invalid", message);
  return it->get<std::string>();
}

// The body of a request or refusal: {"reason": "..."} (the store checks the text).
Answer<std::string> reason_body(const std::string& body) {
  auto j = json_object_body(body, false);
  const auto reason = j ? string_member(*j, "reason") : std::nullopt;
  if (!reason) return error(400, "invalid", "the body must be a JSON object like {\"reason\": \"...\"}");
  return *reason;
}

// A run's result (keyward.migration-result/v1), decoded field by field: what is stored is what
// the codec knows, so nothing else a client sends (a PIN pasted by mistake) reaches the database.
Answer<migrate::ItemResult> result_body(const std::string& body) {
  auto j = json_object_body(body, false);
  if (!j) return error(400, "malformed_json", "the body must be a keyward.migration-result/v1 object");
  try {
    return migrate::result_from_json(*j);
  } catch (const std::exception& e) {
    return error(400, "invalid", std::string("the result is malformed: ") + e.what());
  }
}

ApiResponse item_response(const Outcome<migrate::PlanItem>& item) {
  if (!item) return refused(item.error());
  return json_response(200, migrate::item_to_json(*item));
}

// The items of a plan on a host (its name or agent id; "" any) and in a state ("" any).
void filter_plan(migrate::Plan& plan, const std::string& host, const std::string& state) {
  auto keep = [&](const migrate::PlanItem& item) {
    if (!state.empty() && migrate::to_string(item.state) != state) return false;
    if (host.empty()) return true;
    return std::any_of(item.places.begin(), item.places.end(),
                       [&](const migrate::Place& p) { return p.host == host || p.agent_id == host; });
  };
  std::erase_if(plan.items, [&](const migrate::PlanItem& item) { return !keep(item); });
}

}  // namespace

std::string_view to_string(Access a) noexcept {
  switch (a) {
    case Access::open:
      return "open";
    case Access::agent:
      return "agent";
    case Access::enrollment:
      return "enrollment";
    case Access::any:
      return "any";
    case Access::analyst:
      return "analyst";
    case Access::approver:
      return "approver";
    case Access::admin:
      return "admin";
  }
  return "?";
}

unsigned status_for(const std::string& code) noexcept {
  if (code == "not_found") return 404;
  if (code == "conflict" || code == "key_exposed" || code == "key_in_use") return 409;
  if (code == "forbidden" || code == "separation_of_duties") return 403;
  if (code == "expired") return 410;
  return 400;
}

struct Api::Caller {
  std::optional<AgentInfo> agent;
  std::optional<TokenInfo> token;
  std::string who = "-";
  // A token acts as its principal (separation of duties, the audit log), via the token.
  Actor actor() const {
    if (token) return Actor{principal_actor_id(token->principal), token->role, "token:" + token->id};
    if (agent) return Actor{"agent:" + agent->id, std::nullopt};
    return Actor{"anonymous", std::nullopt};
  }
};

// What a handler gets: the request, its parsed target, the path's "{name}" values and the caller.
struct Api::Call {
  const ApiRequest& req;
  const RequestTarget& target;
  const PathParams& params;
  Caller& caller;
  const std::string& id() const { return params.at("id"); }
};

struct Api::Route {
  std::string_view method;
  std::string_view path_template;
  Access access;
  Handler handler;
};

// The route of a request's method and path, or why there is none.
struct Api::Match {
  const Route* route = nullptr;
  PathParams params;
  std::string allow;        // the path's methods, when none is the request's
  bool open = false;        // the path is served to anyone (no certificate lookup)
  bool agent_path = false;  // the path is one an agent may call
};

// What admit() found: the parsed target and its route.
struct Api::Admitted {
  std::optional<RequestTarget> target;
  Match match;
};

std::span<const Api::Route> Api::table() {
  // One line per route: method, path template (as in docs/api/openapi.yaml), who, handler.
  static constexpr Route kRoutes[] = {
      {"GET", protocol::kHealthPath, Access::open, &Api::health},
      {"GET", "/ready", Access::open, &Api::ready},
      {"POST", protocol::kEnrollPath, Access::enrollment, &Api::enroll},
      {"POST", protocol::kReportsPath, Access::agent, &Api::reports},
      {"GET", "/api/v1/hosts", Access::any, &Api::hosts},
      {"GET", "/api/v1/findings", Access::any, &Api::findings},
      {"GET", "/api/v1/keys", Access::any, &Api::keys},
      {"GET", "/api/v1/certificates", Access::any, &Api::certificates},
      {"GET", "/api/v1/events", Access::any, &Api::events},
      {"GET", "/api/v1/whoami", Access::any, &Api::whoami},
      {"GET", "/api/v1/overview", Access::any, &Api::overview},
      {"GET", "/api/v1/agents", Access::any, &Api::agents},
      {"POST", "/api/v1/agents/{id}/approve", Access::admin, &Api::agent_approve},
      {"POST", "/api/v1/agents/{id}/revoke", Access::admin, &Api::agent_revoke},
      {"PUT", "/api/v1/agents/{id}/tags", Access::admin, &Api::agent_tags},
      {"POST", "/api/v1/enrollment-tokens", Access::admin, &Api::enrollment_tokens_create},
      {"POST", "/api/v1/tokens", Access::admin, &Api::tokens_create},
      {"GET", "/api/v1/tokens", Access::admin, &Api::tokens_list},
      {"POST", "/api/v1/tokens/{id}/revoke", Access::admin, &Api::token_revoke},
      {"POST", "/api/v1/exceptions", Access::analyst, &Api::exceptions_create},
      {"GET", "/api/v1/exceptions", Access::any, &Api::exceptions_list},
      {"POST", "/api/v1/exceptions/{id}/approve", Access::approver, &Api::exception_approve},
      {"GET", "/api/v1/audit", Access::admin, &Api::audit},
      {"GET", "/api/v1/plan", Access::any, &Api::plan},
      {"GET", "/api/v1/cbom", Access::any, &Api::cbom},
      {"POST", "/api/v1/plan/items/{id}/request", Access::analyst, &Api::plan_request},
      {"POST", "/api/v1/plan/items/{id}/approve", Access::approver, &Api::plan_approve},
      {"POST", "/api/v1/plan/items/{id}/refuse", Access::approver, &Api::plan_refuse},
      {"POST", "/api/v1/plan/items/{id}/result", Access::analyst, &Api::plan_result},
      {"GET", "/api/v1/agent/migrations", Access::agent, &Api::agent_migrations},
      {"POST", "/api/v1/agent/migrations/{id}/result", Access::agent, &Api::agent_migration_result},
      {"GET", "/metrics", Access::any, &Api::metrics},
  };
  return kRoutes;
}

std::vector<RouteInfo> Api::routes() {
  std::vector<RouteInfo> out;
  for (const Route& r : table()) out.push_back({r.method, r.path_template, r.access});
  return out;
}

Api::Match Api::match(std::string_view method, const RequestTarget& target) {
  Match m;
  for (const Route& r : table()) {
    PathParams params;
    if (!match_path_template(r.path_template, target.segments, &params)) continue;
    m.open = m.open || r.access == Access::open;
    m.agent_path = m.agent_path || r.access == Access::agent;
    if (method == r.method && m.route == nullptr) {
      m.route = &r;
      m.params = std::move(params);
    } else if (m.route == nullptr) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += r.method;
    }
  }
  return m;
}

Api::Api(Store& store, const CertificateAuthority& ca, const Config& config, Metrics& metrics)
    : store_(store),
      ca_(ca),
      config_(config),
      metrics_(metrics),
      rate_(config.limits.reports_per_minute),
      reads_rate_(config.limits.reads_per_minute) {}

ApiResponse Api::handle(const ApiRequest& req) { return *answer(req, /*admit_only=*/false); }

std::optional<ApiResponse> Api::preauthorize(std::string_view method, std::string_view target,
                                             std::string_view authorization,
                                             const std::optional<std::string>& peer_cert_sha256) {
  ApiRequest req;
  req.method = std::string(method);
  req.target = std::string(target);
  req.authorization = std::string(authorization);
  req.peer_cert_sha256 = peer_cert_sha256;
  return answer(req, /*admit_only=*/true);
}

bool Api::store_free(std::string_view method, std::string_view target) {
  // dispatch() looks up neither a certificate nor a token on an open path (a wrong method there
  // is a 405, also without the store).
  // /ready asks the store; /health and a wrong method on an open path never do.
  const auto t = parse_request_target(target);
  if (!t) return false;
  const Match m = match(method, *t);
  return m.open && (m.route == nullptr || m.route->handler == &Api::health);
}

// The answer (or, admitting only, the refusal) with the caller named for the access log; an
// exception (a store failure) becomes a 500 and a log line.
std::optional<ApiResponse> Api::answer(const ApiRequest& req, bool admit_only) {
  Caller caller;
  std::optional<ApiResponse> r;
  try {
    if (!admit_only) {
      r = dispatch(req, caller);
    } else {
      Admitted a;
      r = admit(req, caller, a);
      // An open path (health) takes no body: a large one is refused before it is read.
      if (!r && a.match.open) r = error(413, "too_large", "this endpoint takes no body");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keyward-collector: internal error on %s %s: %s\n", req.method.c_str(),
                 req.target.substr(0, req.target.find('?')).c_str(), e.what());
    r = error(500, "internal", "the collector failed to answer this request; see its log");
  }
  if (r) r->who = caller.who;
  return r;
}

ApiResponse Api::dispatch(const ApiRequest& req, Caller& caller) {
  Admitted a;
  if (auto refusal = admit(req, caller, a)) return std::move(*refusal);
  if (auto refusal = limit_reads(req, caller)) return std::move(*refusal);
  Call call{req, *a.target, a.match.params, caller};
  return (this->*(a.match.route->handler))(call);
}

// The checks every request passes, in order, before its body is needed: target, agent
// certificate, route, credentials, path ids. nullopt when the handler may run.
std::optional<ApiResponse> Api::admit(const ApiRequest& req, Caller& caller, Admitted& a) {
  a.target = parse_request_target(req.target);
  if (!a.target) return error(400, "bad_request", "the request target is not a valid path and query");
  a.match = match(req.method, *a.target);
  const Match& m = a.match;
  // Open paths (health) answer anyone, a client certificate or not.
  if (!m.open && req.peer_cert_sha256)
    if (auto refusal = identify_agent(req, caller, m)) return refusal;
  if (m.route == nullptr) {
    if (m.allow.empty()) return error(404, "not_found", "no such endpoint: " + a.target->path.substr(0, 200));
    return method_not_allowed(m.allow);
  }
  if (auto refusal = authenticate(req, caller, *m.route)) return refusal;
  // After the role check: a caller without the role learns nothing about ids.
  for (const auto& [name, value] : m.params)
    if (!valid_id(value)) return error(404, "not_found", "no such id");
  return std::nullopt;
}

// Reads by an API token, at most limits.reads_per_minute a minute per token (GET /api/v1/hosts
// is expensive on a large fleet, and a looping viewer must not starve everyone else).
std::optional<ApiResponse> Api::limit_reads(const ApiRequest& req, const Caller& caller) {
  if (req.method != "GET" || !caller.token) return std::nullopt;
  const auto wait = reads_rate_.take(caller.token->id, steady_seconds());
  if (wait == 0) return std::nullopt;
  ++metrics_.reads_rate_limited;
  auto r = error(
      429, "rate_limited",
      "more than " + std::to_string(config_.limits.reads_per_minute) + " reads a minute with this token; retry later");
  r.headers.emplace_back("Retry-After", std::to_string(wait));
  return r;
}

// A client certificate means an agent: looked up on every request, so that a revoke refuses the
// next request of an open keep-alive connection. Agents may only call agent paths.
std::optional<ApiResponse> Api::identify_agent(const ApiRequest& req, Caller& caller, const Match& m) {
  caller.agent = store_.agent_by_cert(*req.peer_cert_sha256);
  if (!caller.agent) return error(403, "forbidden", "this client certificate belongs to no enrolled agent");
  caller.who = "agent:" + caller.agent->id;
  if (caller.agent->status == AgentStatus::revoked)
    return error(403, "revoked", "this agent was revoked; enroll it again to send reports");
  if (!m.agent_path)
    return error(403, "forbidden",
                 "agents may only send reports and fetch and report their migrations (/api/v1/reports, "
                 "/api/v1/agent/migrations)");
  return std::nullopt;
}

// The credentials a route needs: an agent's certificate, a usable one-time enrollment token, or
// an API token whose role may call it.
std::optional<ApiResponse> Api::authenticate(const ApiRequest& req, Caller& caller, const Route& route) {
  if (route.access == Access::agent && !caller.agent)
    return error(401, "unauthenticated", "reports need the agent's client certificate (keyward-agent enroll)");
  if (route.access == Access::enrollment) return check_enrollment_token(req);
  if (!is_role_access(route.access)) return std::nullopt;
  const std::string secret = bearer(req.authorization);
  if (secret.empty()) return unauthenticated("send an API token: Authorization: Bearer kwt_...", "keyward");
  if (!starts_with(secret, "kwt_")) return unauthenticated("not an API token (they start with kwt_)", "keyward");
  caller.token = store_.find_token(secret, now_seconds());
  if (!caller.token) return unauthenticated("unknown, expired or revoked API token", "keyward");
  caller.who = "token:" + caller.token->id;
  if (!allowed(route.access, caller.token->role))
    return error(403, "forbidden",
                 "this needs the " + std::string(to_string(route.access)) + " role; this token is " +
                     std::string(to_string(caller.token->role)));
  return std::nullopt;
}

// A one-time enrollment token the store says is usable (unused, unexpired). The enroll handler
// consumes it with the agent's creation, after signing: checked here first so that nothing is
// signed, and no large body read, for a bad token.
std::optional<ApiResponse> Api::check_enrollment_token(const ApiRequest& req) {
  const std::string secret = bearer(req.authorization);
  if (!starts_with(secret, "kwe_"))
    return unauthenticated("enrollment needs a one-time enrollment token: Authorization: Bearer kwe_...",
                           "keyward-enroll");
  auto ok = store_.check_enrollment_token(secret, now_seconds());
  if (!ok) return enrollment_token_refused(ok.error());
  return std::nullopt;
}

// ---- handlers: reads -----------------------------------------------------------------------

ApiResponse Api::health(Call&) { return json_response(200, json{{"status", "ok"}}); }

// For a load balancer (docs/deployment.md): 200 while the store answers with the schema this
// collector migrates to, else 503 with the reason (never a path or a credential).
ApiResponse Api::ready(Call&) {
  const std::string problem = store_.readiness_problem();
  if (problem.empty()) return json_response(200, json{{"status", "ready"}});
  return json_response(503, json{{"status", "unavailable"}, {"reason", problem}});
}

ApiResponse Api::hosts(Call&) { return list_response(store_.hosts()); }

ApiResponse Api::findings(Call& c) {
  auto q = parse_finding_query(c.target);
  if (!q) return q.error();
  auto p = store_.findings(*q);
  return json_response(200, page_json(items_of(p.items), p.total, PageQuery{q->limit, q->offset}));
}

ApiResponse Api::keys(Call& c) {
  auto page = parse_page(c.target);
  if (!page) return page.error();
  auto p = store_.keys(page->limit, page->offset);
  return json_response(200, page_json(items_of(p.items), p.total, *page));
}

ApiResponse Api::certificates(Call& c) {
  auto within = parse_duration(c.target.query.count("expiring_within") ? c.target.query.at("expiring_within") : "30d");
  if (!within) return bad_query("expiring_within must be a duration like 30d, 12h, 90m or 3600s");
  auto page = parse_page(c.target);
  if (!page) return page.error();
  auto p = store_.expiring_certificates(*within, now_seconds(), page->limit, page->offset);
  return json_response(200, page_json(items_of(p.items), p.total, *page));
}

ApiResponse Api::events(Call& c) {
  auto page = parse_page(c.target, "since must be an event number (seq)");
  if (!page) return page.error();
  // ?identity= : one key's history (the dashboard's key page).
  const std::string identity = query_string(c.target, "identity");
  if (identity.size() > 200) return bad_query("identity must name a key identity (e.g. spki:<hex>)");
  const auto rows = identity.empty() ? store_.events(page->since, page->limit)
                                     : store_.identity_events(identity, page->since, page->limit);
  std::uint64_t last = page->since;
  for (const auto& e : rows) last = std::max(last, e.seq);
  return json_response(200, json{{"items", items_of(rows)}, {"next_since", last}});
}

// Who the caller's token says it is (the dashboard shows only the buttons its role may use):
// never the secret.
ApiResponse Api::whoami(Call& c) {
  const TokenInfo& t = *c.caller.token;
  return json_response(200, json{{"token_id", t.id},
                                 {"name", t.name},
                                 {"principal", t.principal},
                                 {"role", std::string(to_string(t.role))},
                                 {"expires_at", t.expires_at == 0 ? json(nullptr) : json(rfc3339(t.expires_at))}});
}

// The dashboard's first page (server/overview.hpp): reads every open place once.
ApiResponse Api::overview(Call&) {
  FleetOverview o;
  o = fleet_overview(store_, now_seconds());
  return json_response(200, to_json(o));
}

ApiResponse Api::agents(Call&) { return list_response(store_.list_agents()); }

ApiResponse Api::tokens_list(Call&) { return list_response(store_.list_tokens()); }

ApiResponse Api::exceptions_list(Call&) { return list_response(store_.list_exceptions(now_seconds())); }

ApiResponse Api::audit(Call& c) {
  auto page = parse_page(c.target, "since must be an audit entry number (seq)");
  if (!page) return page.error();
  return json_response(200, json{{"items", items_of(store_.audit_entries(page->since, page->limit))}});
}

ApiResponse Api::metrics(Call&) {
  StoreCounts counts;
  counts = store_.counts();
  ApiResponse r;
  r.body = metrics_.render(counts);
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

// ---- handlers: changes ---------------------------------------------------------------------

ApiResponse Api::agent_approve(Call& c) {
  return outcome_response(store_.approve_agent(c.id(), c.caller.actor(), now_seconds()));
}

ApiResponse Api::agent_revoke(Call& c) {
  return outcome_response(store_.revoke_agent(c.id(), c.caller.actor(), now_seconds()));
}

ApiResponse Api::agent_tags(Call& c) {
  auto body = json_object_body(c.req.body, false);
  if (!body) return error(400, "malformed_json", "the body must be a JSON object like {\"tags\": [\"build\"]}");
  auto tags = body->find("tags");
  if (tags == body->end() || !tags->is_array() || tags->size() > 32)
    return error(400, "invalid", "tags must be an array of at most 32 tags");
  std::vector<std::string> list;
  for (const auto& tag : *tags) {
    if (!tag.is_string() || !valid_agent_tag(tag.get<std::string>()))
      return error(400, "invalid", std::string(kAgentTagRule));
    list.push_back(tag.get<std::string>());
  }
  return outcome_response(store_.set_agent_tags(c.id(), list, c.caller.actor()));
}

ApiResponse Api::enrollment_tokens_create(Call& c) {
  auto body = json_object_body(c.req.body, true);
  if (!body) return error(400, "malformed_json", "the body must be a JSON object like {\"ttl_seconds\": 86400}");
  auto ttl = ttl_member(*body, 30 * 86400, "ttl_seconds must be a whole number from 60 to 2592000 (30 days)");
  if (!ttl) return ttl.error();
  auto tok = store_.create_enrollment_token(now_seconds() + ttl->value_or(86400), c.caller.actor());
  return json_response(201, json{{"id", tok.id}, {"expires_at", rfc3339(tok.expires_at)}, {"secret", tok.secret}});
}

ApiResponse Api::tokens_create(Call& c) {
  auto body = json_object_body(c.req.body, false);
  if (!body)
    return error(400, "malformed_json",
                 "the body must be a JSON object like {\"role\": \"viewer\", \"name\": \"grafana\"}");
  auto role_it = body->find("role");
  std::optional<Role> role;
  if (role_it != body->end() && role_it->is_string()) role = role_from_string(role_it->get<std::string>());
  if (!role) return error(400, "invalid", "role must be viewer, analyst, approver or admin");
  const auto name = string_member(*body, "name");
  if (!name) return error(400, "invalid", "name must be a string of 1 to 200 bytes (what the token is for)");
  auto principal = optional_string(
      *body, "principal", "principal must be a string of 1 to 200 bytes (who holds the token; default: the name)");
  if (!principal) return principal.error();
  auto lifetime = token_lifetime(*body);
  if (!lifetime) return lifetime.error();
  const std::int64_t now = now_seconds();
  auto tok = store_.create_token(*role, *name, *principal, lifetime->expires_at(now), c.caller.actor());
  if (!tok) return refused(tok.error());
  json j = to_json(tok->info);
  j["secret"] = tok->secret;
  return json_response(201, j);
}

ApiResponse Api::token_revoke(Call& c) { return outcome_response(store_.revoke_token(c.id(), c.caller.actor())); }

ApiResponse Api::exceptions_create(Call& c) {
  auto body = json_object_body(c.req.body, false);
  if (!body)
    return error(400, "malformed_json",
                 "the body must be a JSON object with identity, reason and expires_at (RFC 3339), and optionally kind");
  ExceptionKind kind = ExceptionKind::accepted_risk;
  if (body->contains("kind")) {
    const auto k = string_member(*body, "kind");
    const auto parsed = k ? exception_kind_from_string(*k) : std::nullopt;
    if (!parsed) return error(400, "invalid", "kind must be accepted_risk (the default) or false_positive");
    kind = *parsed;
  }
  const auto identity = string_member(*body, "identity");
  const auto reason = string_member(*body, "reason");
  const auto expires = string_member(*body, "expires_at");
  if (!identity || identity->size() > 200)
    return error(400, "invalid", "identity must name a key identity (e.g. spki:<hex>)");
  if (!reason) return error(400, "invalid", "reason must be a string of 1 to 2000 bytes");
  const auto at = expires ? parse_rfc3339(*expires) : std::nullopt;
  if (!at) return error(400, "invalid", "expires_at must be an RFC 3339 UTC time like 2030-01-31T00:00:00Z");
  const std::int64_t now = now_seconds();
  if (*at <= now) return error(400, "invalid", "expires_at is in the past");
  const std::int64_t max = config_.limits.max_exception_seconds;
  if (*at - now > max)
    return error(400, "invalid",
                 "expires_at is too far ahead: an exception lasts at most " + std::to_string(max) + " seconds (" +
                     std::to_string(max / 86400) + " days, limits.max_exception_seconds), until " + rfc3339(now + max));
  return outcome_response(store_.request_exception(*identity, kind, *reason, *at, c.caller.actor(), now), 201);
}

ApiResponse Api::exception_approve(Call& c) {
  return outcome_response(store_.approve_exception(c.id(), c.caller.actor(), now_seconds()));
}

// ---- handlers: migration plan --------------------------------------------------------------

// The fleet's CycloneDX 1.6 CBOM (docs/reports.md): every open finding and the plan's states.
ApiResponse Api::cbom(Call&) {
  ApiResponse r;
  r.body = render_fleet_document(store_, FleetDocument::cbom, now_seconds());
  r.content_type = std::string(content_type(FleetDocument::cbom));
  return r;
}

ApiResponse Api::plan(Call& c) {
  const std::string format = c.target.query.count("format") ? c.target.query.at("format") : "json";
  if (format != "json" && format != "markdown" && format != "text")
    return bad_query("format must be json, markdown or text");
  const std::string state = query_string(c.target, "state");
  if (!state.empty() && !migrate::item_state_from_string(state))
    return bad_query("state must be proposed, approved, running, done, failed or refused");
  migrate::Plan p;
  p = store_.fleet_plan(now_seconds());
  filter_plan(p, query_string(c.target, "host"), state);
  ApiResponse r;
  if (format == "json") {
    r.body = migrate::to_json(p);
  } else if (format == "markdown") {
    r.body = migrate::to_markdown(p);
    r.content_type = "text/markdown; charset=utf-8";
  } else {
    r.body = migrate::to_text(p, /*color=*/false);
    r.content_type = "text/plain; charset=utf-8";
  }
  return r;
}

ApiResponse Api::plan_request(Call& c) {
  auto reason = reason_body(c.req.body);
  if (!reason) return reason.error();
  return item_response(store_.request_migration(c.id(), *reason, c.caller.actor(), now_seconds()));
}

ApiResponse Api::plan_approve(Call& c) {
  return item_response(store_.approve_migration(c.id(), c.caller.actor(), now_seconds()));
}

ApiResponse Api::plan_refuse(Call& c) {
  auto reason = reason_body(c.req.body);
  if (!reason) return reason.error();
  return item_response(store_.refuse_migration(c.id(), *reason, c.caller.actor(), now_seconds()));
}

ApiResponse Api::plan_result(Call& c) {
  auto result = result_body(c.req.body);
  if (!result) return result.error();
  return item_response(store_.record_migration_result(c.id(), *result, c.caller.actor(), now_seconds()));
}

ApiResponse Api::agent_migrations(Call& c) {
  std::vector<migrate::PlanItem> items;
  items = store_.migrations_for_agent(c.caller.agent->id, now_seconds());
  json out = json::array();
  for (const auto& item : items) out.push_back(migrate::item_to_json(item));
  return json_response(200, json{{"items", std::move(out)}});
}

ApiResponse Api::agent_migration_result(Call& c) {
  auto result = result_body(c.req.body);
  if (!result) return result.error();
  return item_response(store_.record_migration_result(c.id(), *result, c.caller.actor(), now_seconds()));
}

// ---- handlers: agents ----------------------------------------------------------------------

ApiResponse Api::reports(Call& c) {
  const AgentInfo& agent = *c.caller.agent;
  if (auto wait = rate_.take(agent.id, steady_seconds()); wait > 0) {
    ++metrics_.reports_rate_limited;
    auto r = error(429, "rate_limited",
                   "more than " + std::to_string(config_.limits.reports_per_minute) +
                       " reports a minute from this agent; retry later");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  std::string inflated;
  std::string_view body = c.req.body;
  if (!c.req.content_encoding.empty() && c.req.content_encoding != "identity") {
    std::string enc = c.req.content_encoding;
    for (auto& ch : enc) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (enc != "gzip" && enc != "x-gzip") {
      ++metrics_.reports_rejected;
      return error(415, "unsupported_encoding", "Content-Encoding must be gzip or absent");
    }
    auto out = gunzip(c.req.body, config_.limits.max_request_bytes);
    if (!out) {
      ++metrics_.reports_rejected;
      if (out.error() == InflateError::too_large)
        return error(413, "too_large",
                     "the report is larger than " + std::to_string(config_.limits.max_request_bytes) +
                         " bytes after decompression");
      return error(400, "bad_encoding", "the body is not valid gzip");
    }
    inflated = std::move(*out);
    body = inflated;
  }
  // Counted while parsing: a report over the cap is refused before it is read whole or stored.
  auto report = protocol::parse_report(body, config_.limits.max_findings_per_report);
  if (!report) {
    ++metrics_.reports_rejected;
    return error(report.error().code == "too_many_findings" ? 413 : 400, report.error().code, report.error().message);
  }
  return ingest_report(agent, *report);
}

// Stores a parsed report (timed for /metrics) and answers 202 with what happened to it.
ApiResponse Api::ingest_report(const AgentInfo& agent, const protocol::Report& report) {
  const std::int64_t now = now_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  // The store serialises its writes itself (its ingest takes the write lock in chunks of
  // places) and reads on their own connections, so other requests run beside a large report.
  const IngestOutcome out = store_.ingest(agent, report, now);
  // A stored or held report already moved the agent's last sighting in its own transaction.
  if (out.status == IngestOutcome::Status::duplicate) store_.touch_agent(agent.id, now);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  metrics_.ingest_microseconds += static_cast<std::uint64_t>(us.count());
  ++metrics_.ingest_count;
  metrics_.findings_ingested += out.findings;
  const char* status = "stored";
  switch (out.status) {
    case IngestOutcome::Status::stored:
      status = "stored";
      ++metrics_.reports_stored;
      break;
    case IngestOutcome::Status::duplicate:
      status = "duplicate";
      ++metrics_.reports_duplicate;
      break;
    case IngestOutcome::Status::held:
      status = "held";
      ++metrics_.reports_held;
      break;
  }
  return json_response(202, json{{"status", status},
                                 {"report_id", report.report_id},
                                 {"findings", out.findings},
                                 {"new", out.new_places},
                                 {"resolved", out.resolved}});
}

ApiResponse Api::enroll(Call& c) {
  // The token was checked by authenticate(); it is consumed with the agent's creation below.
  const std::string secret = bearer(c.req.authorization);
  auto request = protocol::parse_enroll_request(c.req.body);
  if (!request) return error(400, request.error().code, request.error().message);
  const std::int64_t now = now_seconds();
  // Signed outside the store's lock; the token is consumed with the agent's creation below.
  auto signed_agent = ca_.sign_agent_csr(request->csr_pem);
  if (!signed_agent) return error(400, "bad_csr", signed_agent.error().message);
  const Enrollment e{signed_agent->agent_id,    request->hostname,        request->os,
                     signed_agent->cert_sha256, signed_agent->serial_hex, signed_agent->spki_sha256};
  Outcome<AgentInfo> agent = Refusal{"invalid", "not enrolled"};
  agent = store_.enroll_agent(secret, e, now);
  if (!agent) return enrollment_token_refused(agent.error());
  c.caller.who = "agent:" + agent->id;
  protocol::EnrollResponse resp;
  resp.agent_id = agent->id;
  resp.certificate_pem = signed_agent->cert_pem;
  resp.ca_pem = ca_.ca_pem();
  resp.status = std::string(to_string(agent->status));
  return json_response(201, protocol::to_json(resp));
}

}  // namespace keyward::collector
