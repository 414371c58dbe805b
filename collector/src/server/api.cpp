#include "server/api.hpp"

#include "server/inflate.hpp"
#include "server/json_views.hpp"

#include <keyward/protocol/protocol.hpp>
#include <keyward/rules/severity.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

namespace keyward::collector {
namespace {

using json = nlohmann::json;

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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Target {
  std::string path;
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

std::optional<Target> parse_target(std::string_view target) {
  Target t;
  const auto q = target.find('?');
  auto path = percent_decode(target.substr(0, q), false);
  if (!path || path->empty() || path->front() != '/') return std::nullopt;
  t.path = *path;
  while (t.path.size() > 1 && t.path.back() == '/') t.path.pop_back();
  std::size_t start = 1;
  while (start <= t.path.size() && t.path.size() > 1) {
    auto end = t.path.find('/', start);
    if (end == std::string::npos) end = t.path.size();
    t.segments.push_back(t.path.substr(start, end - start));
    start = end + 1;
  }
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    while (!qs.empty()) {
      auto amp = qs.find('&');
      std::string_view pair = qs.substr(0, amp);
      qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
      if (pair.empty()) continue;
      auto eq = pair.find('=');
      auto k = percent_decode(pair.substr(0, eq), true);
      auto v = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
      if (!k || !v) return std::nullopt;
      t.query[*k] = *v;
    }
  }
  return t;
}

// A query number in [lo, hi]; def when absent; nullopt when malformed.
std::optional<std::uint64_t> query_number(const Target& t, const char* name, std::uint64_t def, std::uint64_t lo,
                                          std::uint64_t hi) {
  auto it = t.query.find(name);
  if (it == t.query.end()) return def;
  const std::string& s = it->second;
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::uint64_t v = std::stoull(s);
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::string query_string(const Target& t, const char* name) {
  auto it = t.query.find(name);
  return it == t.query.end() ? std::string() : it->second;
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

bool valid_tag(const std::string& t) {
  if (t.empty() || t.size() > 64) return false;
  for (char c : t)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

bool valid_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

// Who may call an endpoint.
enum class Need { read, analyst, approver, admin };

enum class Handler {
  hosts, findings, keys, certificates, events, agents, agent_approve, agent_revoke, agent_tags,
  enrollment_tokens, tokens_create, tokens_list, token_revoke, exceptions_create, exceptions_list,
  exception_approve, audit, metrics
};

struct Route {
  const char* method;
  std::vector<const char*> pattern;  // "*" matches one segment (an id)
  Need need;
  Handler handler;
};

const std::vector<Route>& routes() {
  static const std::vector<Route> r = {
      {"GET", {"api", "v1", "hosts"}, Need::read, Handler::hosts},
      {"GET", {"api", "v1", "findings"}, Need::read, Handler::findings},
      {"GET", {"api", "v1", "keys"}, Need::read, Handler::keys},
      {"GET", {"api", "v1", "certificates"}, Need::read, Handler::certificates},
      {"GET", {"api", "v1", "events"}, Need::read, Handler::events},
      {"GET", {"api", "v1", "agents"}, Need::read, Handler::agents},
      {"POST", {"api", "v1", "agents", "*", "approve"}, Need::admin, Handler::agent_approve},
      {"POST", {"api", "v1", "agents", "*", "revoke"}, Need::admin, Handler::agent_revoke},
      {"PUT", {"api", "v1", "agents", "*", "tags"}, Need::admin, Handler::agent_tags},
      {"POST", {"api", "v1", "enrollment-tokens"}, Need::admin, Handler::enrollment_tokens},
      {"POST", {"api", "v1", "tokens"}, Need::admin, Handler::tokens_create},
      {"GET", {"api", "v1", "tokens"}, Need::admin, Handler::tokens_list},
      {"POST", {"api", "v1", "tokens", "*", "revoke"}, Need::admin, Handler::token_revoke},
      {"POST", {"api", "v1", "exceptions"}, Need::analyst, Handler::exceptions_create},
      {"GET", {"api", "v1", "exceptions"}, Need::read, Handler::exceptions_list},
      {"POST", {"api", "v1", "exceptions", "*", "approve"}, Need::approver, Handler::exception_approve},
      {"GET", {"api", "v1", "audit"}, Need::admin, Handler::audit},
      {"GET", {"metrics"}, Need::read, Handler::metrics},
  };
  return r;
}

bool matches(const Route& r, const std::vector<std::string>& segs) {
  if (r.pattern.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i)
    if (std::string_view(r.pattern[i]) != "*" && segs[i] != r.pattern[i]) return false;
  return true;
}

bool allowed(Need need, Role role) {
  switch (need) {
    case Need::read: return true;
    case Need::analyst: return role == Role::analyst;
    case Need::approver: return role == Role::approver;
    case Need::admin: return role == Role::admin;
  }
  return false;
}

const char* need_name(Need n) {
  switch (n) {
    case Need::read: return "any";
    case Need::analyst: return "analyst";
    case Need::approver: return "approver";
    case Need::admin: return "admin";
  }
  return "?";
}

json page(const json& items, std::uint64_t total, std::uint64_t limit, std::uint64_t offset) {
  return json{{"items", items}, {"total", total}, {"limit", limit}, {"offset", offset}};
}

}  // namespace

unsigned status_for(const std::string& code) noexcept {
  if (code == "not_found") return 404;
  if (code == "conflict") return 409;
  if (code == "forbidden") return 403;
  if (code == "expired") return 410;
  return 400;
}

struct Api::Caller {
  std::optional<AgentInfo> agent;
  std::optional<TokenInfo> token;
  std::string who = "-";
  Actor actor() const {
    if (token) return Actor{"token:" + token->id, token->role};
    if (agent) return Actor{"agent:" + agent->id, std::nullopt};
    return Actor{"anonymous", std::nullopt};
  }
};

Api::Api(Store& store, const CertificateAuthority& ca, const Config& config, Metrics& metrics)
    : store_(store), ca_(ca), config_(config), metrics_(metrics), rate_(config.limits.reports_per_minute) {}

ApiResponse Api::handle(const ApiRequest& req) {
  Caller caller;
  ApiResponse r;
  try {
    r = dispatch(req, caller);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keyward-collector: internal error on %s %s: %s\n", req.method.c_str(),
                 req.target.substr(0, req.target.find('?')).c_str(), e.what());
    r = error(500, "internal", "the collector failed to answer this request; see its log");
  }
  r.who = caller.who;
  return r;
}

ApiResponse Api::dispatch(const ApiRequest& req, Caller& caller) {
  auto target = parse_target(req.target);
  if (!target) return error(400, "bad_request", "the request target is not a valid path and query");
  const Target& t = *target;

  if (t.path == protocol::kHealthPath) {
    if (req.method != "GET") {
      auto r = error(405, "method_not_allowed", "use GET");
      r.headers.emplace_back("Allow", "GET");
      return r;
    }
    return json_response(200, json{{"status", "ok"}});
  }

  // A client certificate means an agent: looked up on every request, so that a revoke refuses
  // the next request of an open keep-alive connection.
  if (req.peer_cert_sha256) {
    {
      std::lock_guard lock(store_mutex_);
      caller.agent = store_.agent_by_cert(*req.peer_cert_sha256);
    }
    if (!caller.agent) return error(403, "forbidden", "this client certificate belongs to no enrolled agent");
    caller.who = "agent:" + caller.agent->id;
    if (caller.agent->status == AgentStatus::revoked)
      return error(403, "revoked", "this agent was revoked; enroll it again to send reports");
    if (t.path != protocol::kReportsPath)
      return error(403, "forbidden", "agents may only send reports (POST /api/v1/reports)");
  }

  if (t.path == protocol::kReportsPath) {
    if (req.method != "POST") {
      auto r = error(405, "method_not_allowed", "use POST");
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    if (!caller.agent)
      return error(401, "unauthenticated", "reports need the agent's client certificate (keyward-agent enroll)");
    return reports(req, caller);
  }
  if (t.path == protocol::kEnrollPath) {
    if (req.method != "POST") {
      auto r = error(405, "method_not_allowed", "use POST");
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    return enroll(req, caller);
  }

  const Route* route = nullptr;
  std::string allow;
  for (const auto& r : routes()) {
    if (!matches(r, t.segments)) continue;
    if (req.method == r.method) {
      route = &r;
      break;
    }
    if (!allow.empty()) allow += ", ";
    allow += r.method;
  }
  if (route == nullptr) {
    if (allow.empty()) return error(404, "not_found", "no such endpoint: " + t.path.substr(0, 200));
    auto r = error(405, "method_not_allowed", "use " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  }

  const std::string secret = bearer(req.authorization);
  auto unauthenticated = [](std::string_view message) {
    auto r = error(401, "unauthenticated", message);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"keyward\"");
    return r;
  };
  if (secret.empty()) return unauthenticated("send an API token: Authorization: Bearer kwt_...");
  if (!starts_with(secret, "kwt_")) return unauthenticated("not an API token (they start with kwt_)");
  const std::int64_t now = now_seconds();
  {
    std::lock_guard lock(store_mutex_);
    caller.token = store_.find_token(secret, now);
  }
  if (!caller.token) return unauthenticated("unknown, expired or revoked API token");
  caller.who = "token:" + caller.token->id;
  if (!allowed(route->need, caller.token->role))
    return error(403, "forbidden",
                 std::string("this needs the ") + need_name(route->need) + " role; this token is " +
                     std::string(to_string(caller.token->role)));

  const Actor actor = caller.actor();
  const std::string id = t.segments.size() >= 4 ? t.segments[3] : std::string();
  if (route->pattern.size() == 5 && !valid_id(id)) return error(404, "not_found", "no such id");

  auto bad_query = [](const char* what) { return error(400, "invalid", what); };
  std::unique_lock lock(store_mutex_);
  switch (route->handler) {
    case Handler::hosts: {
      json items = json::array();
      for (const auto& h : store_.hosts()) items.push_back(to_json(h));
      const auto n = items.size();
      return json_response(200, json{{"items", std::move(items)}, {"total", n}});
    }
    case Handler::findings: {
      FindingQuery q;
      q.host = query_string(t, "host");
      q.severity = query_string(t, "severity");
      q.min_severity = query_string(t, "min_severity");
      q.kind = query_string(t, "kind");
      if (auto s = t.query.find("status"); s != t.query.end()) q.status = s->second;
      if (!q.severity.empty() && !rules::parse_severity(q.severity))
        return bad_query("severity must be info, low, medium, high or critical");
      if (!q.min_severity.empty() && !rules::parse_severity(q.min_severity))
        return bad_query("min_severity must be info, low, medium, high or critical");
      if (!q.kind.empty() && q.kind != "private_key" && q.kind != "certificate" && q.kind != "keystore" &&
          q.kind != "public_key")
        return bad_query("kind must be private_key, certificate, keystore or public_key");
      if (q.status != "open" && q.status != "resolved" && q.status != "excepted" && q.status != "managed" &&
          q.status != "all")
        return bad_query("status must be open, resolved, excepted, managed or all");
      auto limit = query_number(t, "limit", 100, 1, 1000);
      auto offset = query_number(t, "offset", 0, 0, 1ull << 40);
      if (!limit) return bad_query("limit must be a number from 1 to 1000");
      if (!offset) return bad_query("offset must be a non-negative number");
      q.limit = *limit;
      q.offset = *offset;
      auto p = store_.findings(q);
      json items = json::array();
      for (const auto& f : p.items) items.push_back(to_json(f));
      return json_response(200, page(items, p.total, q.limit, q.offset));
    }
    case Handler::keys: {
      auto limit = query_number(t, "limit", 100, 1, 1000);
      auto offset = query_number(t, "offset", 0, 0, 1ull << 40);
      if (!limit) return bad_query("limit must be a number from 1 to 1000");
      if (!offset) return bad_query("offset must be a non-negative number");
      auto p = store_.keys(*limit, *offset);
      json items = json::array();
      for (const auto& k : p.items) items.push_back(to_json(k));
      return json_response(200, page(items, p.total, *limit, *offset));
    }
    case Handler::certificates: {
      const std::string w = t.query.count("expiring_within") ? t.query.at("expiring_within") : "30d";
      auto within = parse_duration(w);
      if (!within) return bad_query("expiring_within must be a duration like 30d, 12h, 90m or 3600s");
      auto limit = query_number(t, "limit", 100, 1, 1000);
      auto offset = query_number(t, "offset", 0, 0, 1ull << 40);
      if (!limit) return bad_query("limit must be a number from 1 to 1000");
      if (!offset) return bad_query("offset must be a non-negative number");
      auto p = store_.expiring_certificates(*within, now, *limit, *offset);
      json items = json::array();
      for (const auto& f : p.items) items.push_back(to_json(f));
      return json_response(200, page(items, p.total, *limit, *offset));
    }
    case Handler::events: {
      auto since = query_number(t, "since", 0, 0, ~0ull >> 1);
      auto limit = query_number(t, "limit", 100, 1, 1000);
      if (!since) return bad_query("since must be an event number (seq)");
      if (!limit) return bad_query("limit must be a number from 1 to 1000");
      json items = json::array();
      std::uint64_t last = *since;
      for (const auto& e : store_.events(*since, *limit)) {
        items.push_back(to_json(e));
        last = std::max(last, e.seq);
      }
      return json_response(200, json{{"items", std::move(items)}, {"next_since", last}});
    }
    case Handler::agents: {
      json items = json::array();
      for (const auto& a : store_.list_agents()) items.push_back(to_json(a));
      const auto n = items.size();
      return json_response(200, json{{"items", std::move(items)}, {"total", n}});
    }
    case Handler::agent_approve: {
      auto r = store_.approve_agent(id, actor, now);
      if (!r) return refused(r.error());
      return json_response(200, to_json(*r));
    }
    case Handler::agent_revoke: {
      auto r = store_.revoke_agent(id, actor, now);
      if (!r) return refused(r.error());
      return json_response(200, to_json(*r));
    }
    case Handler::agent_tags: {
      auto body = json_object_body(req.body, false);
      if (!body) return error(400, "malformed_json", "the body must be a JSON object like {\"tags\": [\"build\"]}");
      auto tags = body->find("tags");
      if (tags == body->end() || !tags->is_array() || tags->size() > 32)
        return error(400, "invalid", "tags must be an array of at most 32 tags");
      std::vector<std::string> list;
      for (const auto& tag : *tags) {
        if (!tag.is_string() || !valid_tag(tag.get<std::string>()))
          return error(400, "invalid", "each tag is 1-64 characters of a-z, 0-9, '-', '_' or '.'");
        list.push_back(tag.get<std::string>());
      }
      auto r = store_.set_agent_tags(id, list, actor);
      if (!r) return refused(r.error());
      return json_response(200, to_json(*r));
    }
    case Handler::enrollment_tokens: {
      auto body = json_object_body(req.body, true);
      if (!body) return error(400, "malformed_json", "the body must be a JSON object like {\"ttl_seconds\": 86400}");
      std::int64_t ttl = 86400;
      if (auto it = body->find("ttl_seconds"); it != body->end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 60 || it->get<std::int64_t>() > 30 * 86400)
          return error(400, "invalid", "ttl_seconds must be a whole number from 60 to 2592000 (30 days)");
        ttl = it->get<std::int64_t>();
      }
      auto tok = store_.create_enrollment_token(now + ttl, actor);
      return json_response(201, json{{"id", tok.id}, {"expires_at", rfc3339(tok.expires_at)}, {"secret", tok.secret}});
    }
    case Handler::tokens_create: {
      auto body = json_object_body(req.body, false);
      if (!body) return error(400, "malformed_json", "the body must be a JSON object like {\"role\": \"viewer\", \"name\": \"grafana\"}");
      auto role_it = body->find("role");
      auto name_it = body->find("name");
      std::optional<Role> role;
      if (role_it != body->end() && role_it->is_string()) role = role_from_string(role_it->get<std::string>());
      if (!role) return error(400, "invalid", "role must be viewer, analyst, approver or admin");
      if (name_it == body->end() || !name_it->is_string() || name_it->get<std::string>().empty() ||
          name_it->get<std::string>().size() > 200)
        return error(400, "invalid", "name must be a string of 1 to 200 characters (who holds the token)");
      std::int64_t expires = 0;
      if (auto it = body->find("ttl_seconds"); it != body->end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 60 || it->get<std::int64_t>() > 3650LL * 86400)
          return error(400, "invalid", "ttl_seconds must be a whole number from 60 to 315360000 (10 years)");
        expires = now + it->get<std::int64_t>();
      }
      auto tok = store_.create_token(*role, name_it->get<std::string>(), expires, actor);
      json j = to_json(tok.info);
      j["secret"] = tok.secret;
      return json_response(201, j);
    }
    case Handler::tokens_list: {
      json items = json::array();
      for (const auto& tk : store_.list_tokens()) items.push_back(to_json(tk));
      const auto n = items.size();
      return json_response(200, json{{"items", std::move(items)}, {"total", n}});
    }
    case Handler::token_revoke: {
      auto r = store_.revoke_token(id, actor);
      if (!r) return refused(r.error());
      return json_response(200, to_json(*r));
    }
    case Handler::exceptions_create: {
      auto body = json_object_body(req.body, false);
      if (!body)
        return error(400, "malformed_json",
                     "the body must be a JSON object with identity, reason and expires_at (RFC 3339)");
      auto str = [&](const char* k) -> std::optional<std::string> {
        auto it = body->find(k);
        if (it == body->end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
        return it->get<std::string>();
      };
      auto identity = str("identity");
      auto reason = str("reason");
      auto expires = str("expires_at");
      if (!identity || identity->size() > 200) return error(400, "invalid", "identity must name a key identity (e.g. spki:<hex>)");
      if (!reason || reason->size() > 2000) return error(400, "invalid", "reason must be 1 to 2000 characters");
      if (!expires) return error(400, "invalid", "expires_at must be an RFC 3339 UTC time like 2030-01-31T00:00:00Z");
      auto at = parse_rfc3339(*expires);
      if (!at) return error(400, "invalid", "expires_at must be an RFC 3339 UTC time like 2030-01-31T00:00:00Z");
      if (*at <= now) return error(400, "invalid", "expires_at is in the past");
      auto r = store_.request_exception(*identity, *reason, *at, actor, now);
      if (!r) return refused(r.error());
      return json_response(201, to_json(*r));
    }
    case Handler::exceptions_list: {
      json items = json::array();
      for (const auto& x : store_.list_exceptions(now)) items.push_back(to_json(x));
      const auto n = items.size();
      return json_response(200, json{{"items", std::move(items)}, {"total", n}});
    }
    case Handler::exception_approve: {
      auto r = store_.approve_exception(id, actor, now);
      if (!r) return refused(r.error());
      return json_response(200, to_json(*r));
    }
    case Handler::audit: {
      auto since = query_number(t, "since", 0, 0, ~0ull >> 1);
      auto limit = query_number(t, "limit", 100, 1, 1000);
      if (!since) return bad_query("since must be an audit entry number (seq)");
      if (!limit) return bad_query("limit must be a number from 1 to 1000");
      json items = json::array();
      for (const auto& a : store_.audit_entries(*since, *limit)) items.push_back(to_json(a));
      return json_response(200, json{{"items", std::move(items)}});
    }
    case Handler::metrics: {
      const StoreCounts counts = store_.counts();
      lock.unlock();
      ApiResponse r;
      r.body = metrics_.render(counts);
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return r;
    }
  }
  return error(404, "not_found", "no such endpoint");
}

ApiResponse Api::reports(const ApiRequest& req, Caller& caller) {
  const AgentInfo& agent = *caller.agent;
  if (auto wait = rate_.take(agent.id, steady_seconds()); wait > 0) {
    ++metrics_.reports_rate_limited;
    auto r = error(429, "rate_limited",
                   "more than " + std::to_string(config_.limits.reports_per_minute) +
                       " reports a minute from this agent; retry later");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  std::string inflated;
  std::string_view body = req.body;
  if (!req.content_encoding.empty() && req.content_encoding != "identity") {
    std::string enc = req.content_encoding;
    for (auto& c : enc) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (enc != "gzip" && enc != "x-gzip") {
      ++metrics_.reports_rejected;
      return error(415, "unsupported_encoding", "Content-Encoding must be gzip or absent");
    }
    auto out = gunzip(req.body, config_.limits.max_request_bytes);
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
  auto report = protocol::parse_report(body);
  if (!report) {
    ++metrics_.reports_rejected;
    return error(400, report.error().code, report.error().message);
  }
  const std::int64_t now = now_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  IngestOutcome out;
  {
    std::lock_guard lock(store_mutex_);
    out = store_.ingest(agent, *report, now);
    store_.touch_agent(agent.id, now);
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  metrics_.ingest_microseconds += static_cast<std::uint64_t>(us.count());
  ++metrics_.ingest_count;
  metrics_.findings_ingested += out.findings;
  const char* status = "stored";
  switch (out.status) {
    case IngestOutcome::Status::stored: status = "stored"; ++metrics_.reports_stored; break;
    case IngestOutcome::Status::duplicate: status = "duplicate"; ++metrics_.reports_duplicate; break;
    case IngestOutcome::Status::held: status = "held"; ++metrics_.reports_held; break;
  }
  return json_response(202, json{{"status", status},
                                 {"report_id", report->report_id},
                                 {"findings", out.findings},
                                 {"new", out.new_places},
                                 {"resolved", out.resolved}});
}

ApiResponse Api::enroll(const ApiRequest& req, Caller& caller) {
  const std::string secret = bearer(req.authorization);
  if (!starts_with(secret, "kwe_")) {
    auto r = error(401, "unauthenticated", "enrollment needs a one-time enrollment token: Authorization: Bearer kwe_...");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"keyward-enroll\"");
    return r;
  }
  auto request = protocol::parse_enroll_request(req.body);
  if (!request) return error(400, request.error().code, request.error().message);
  const std::int64_t now = now_seconds();
  {
    std::lock_guard lock(store_mutex_);
    auto ok = store_.check_enrollment_token(secret, now);
    if (!ok) {
      // Unknown or used (the store says forbidden): the bearer does not authenticate.
      if (ok.error().code == "not_found" || ok.error().code == "forbidden")
        return error(401, "unauthenticated", "unknown or already used enrollment token");
      return refused(ok.error());
    }
  }
  auto signed_agent = ca_.sign_agent_csr(request->csr_pem);
  if (!signed_agent) return error(400, "bad_csr", signed_agent.error().message);
  Enrollment e;
  e.agent_id = signed_agent->agent_id;
  e.hostname = request->hostname;
  e.os = request->os;
  e.cert_sha256 = signed_agent->cert_sha256;
  e.cert_serial = signed_agent->serial_hex;
  e.spki_sha256 = signed_agent->spki_sha256;
  Outcome<AgentInfo> agent = Refusal{"invalid", "not enrolled"};
  {
    std::lock_guard lock(store_mutex_);
    agent = store_.enroll_agent(secret, e, now);
  }
  if (!agent) {
    if (agent.error().code == "not_found" || agent.error().code == "forbidden")
      return error(401, "unauthenticated", "unknown or already used enrollment token");
    return refused(agent.error());
  }
  caller.who = "agent:" + agent->id;
  protocol::EnrollResponse resp;
  resp.agent_id = agent->id;
  resp.certificate_pem = signed_agent->cert_pem;
  resp.ca_pem = ca_.ca_pem();
  resp.status = std::string(to_string(agent->status));
  return json_response(201, protocol::to_json(resp));
}

}  // namespace keyward::collector
