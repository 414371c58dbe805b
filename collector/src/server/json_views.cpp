// SPDX-License-Identifier: Apache-2.0
#include "server/json_views.hpp"

#include "server/config.hpp"

namespace keyward::collector {
namespace {

using json = nlohmann::json;

json time_or_null(std::int64_t t) { return t == 0 ? json(nullptr) : json(rfc3339(t)); }
json string_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// How a remote target's last scan ended; null for an agent, or before its first scan.
json remote_json(HostSource source, const RemoteScanStatus& r) {
  if (source != HostSource::remote || r.scanned_at == 0) return nullptr;
  return json{{"status", r.status}, {"message", string_or_null(r.message)}, {"scanned_at", time_or_null(r.scanned_at)}};
}

}  // namespace

json to_json(const TokenInfo& t) {
  return json{{"id", t.id},
              {"role", std::string(to_string(t.role))},
              {"name", t.name},
              {"principal", t.principal},
              {"created_at", time_or_null(t.created_at)},
              {"expires_at", time_or_null(t.expires_at)},
              {"revoked", t.revoked}};
}

json to_json(const AgentInfo& a) {
  return json{{"id", a.id},
              {"hostname", a.hostname},
              {"os", a.os},
              {"status", std::string(to_string(a.status))},
              {"cert_sha256", a.cert_sha256},
              {"cert_serial", a.cert_serial},
              {"spki_sha256", a.spki_sha256},
              {"enrolled_at", time_or_null(a.enrolled_at)},
              {"approved_at", time_or_null(a.approved_at)},
              {"revoked_at", time_or_null(a.revoked_at)},
              {"last_seen_at", time_or_null(a.last_seen_at)},
              {"last_report_at", time_or_null(a.last_report_at)},
              {"tags", a.tags},
              {"source", std::string(to_string(a.source))}};
}

json to_json(const HostRow& h) {
  return json{{"agent_id", h.agent_id},
              {"hostname", h.hostname},
              {"os", h.os},
              {"agent_status", h.agent_status},
              {"tags", h.tags},
              {"last_report_at", time_or_null(h.last_report_at)},
              {"open_findings", h.open_findings},
              {"max_severity", string_or_null(h.max_severity)},
              {"source", std::string(to_string(h.source))},
              {"last_remote_scan", remote_json(h.source, h.remote)}};
}

json to_json(const FindingRow& f) {
  return json{{"place_id", f.place_id},
              {"agent_id", f.agent_id},
              {"hostname", f.hostname},
              {"identity", f.identity},
              {"status", f.status},
              {"first_seen", time_or_null(f.first_seen)},
              {"last_seen", time_or_null(f.last_seen)},
              {"resolved_at", time_or_null(f.resolved_at)},
              {"exception_id", string_or_null(f.exception_id)},
              {"finding", f.finding}};
}

json to_json(const KeyRow& k) {
  json places = json::array();
  for (const auto& p : k.places)
    places.push_back(json{{"agent_id", p.agent_id},
                          {"hostname", p.hostname},
                          {"path", p.path},
                          {"member", string_or_null(p.member)},
                          {"finding_id", p.finding_id},
                          {"status", p.status}});
  return json{{"identity", k.identity},
              {"kind", k.kind},
              {"algorithm", k.algorithm},
              {"bits", k.bits ? json(*k.bits) : json(nullptr)},
              {"hosts", k.hosts},
              {"max_score", k.max_score},
              {"raw", k.raw},
              {"max_severity", string_or_null(k.max_severity)},
              {"managed", k.managed},
              {"exception_id", string_or_null(k.exception_id)},
              {"places", places},
              {"places_total", k.places_total}};
}

json to_json(const Event& e) {
  return json{{"seq", e.seq},
              {"time", time_or_null(e.time)},
              {"type", e.type},
              {"agent_id", string_or_null(e.agent_id)},
              {"hostname", string_or_null(e.hostname)},
              {"identity", string_or_null(e.identity)},
              {"finding_id", string_or_null(e.finding_id)},
              {"detail", e.detail.is_null() ? json::object() : e.detail}};
}

json to_json(const ExceptionInfo& x) {
  return json{{"id", x.id},
              {"kind", to_string(x.kind)},
              {"identity", x.identity},
              {"reason", x.reason},
              {"expires_at", time_or_null(x.expires_at)},
              {"requested_by", x.requested_by},
              {"approved_by", string_or_null(x.approved_by)},
              {"requested_at", time_or_null(x.requested_at)},
              {"approved_at", time_or_null(x.approved_at)},
              {"status", x.status}};
}

json to_json(const AuditEntry& a) {
  return json{{"seq", a.seq},
              {"time", time_or_null(a.time)},
              {"actor", a.actor},
              {"via", string_or_null(a.via)},
              {"action", a.action},
              {"subject", a.subject},
              {"detail", a.detail.is_null() ? json::object() : a.detail},
              {"prev_hash", a.prev_hash},
              {"hash", a.hash}};
}

}  // namespace keyward::collector
