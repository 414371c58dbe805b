// SPDX-License-Identifier: Apache-2.0
// SqlStore, agents: enrollment (consumes the one-time token, the agent's key becomes a
// managed identity unless it was seen as a finding before), lookups, approval (ingests the
// snapshot held meanwhile), revocation (drops held reports, the key is no longer managed), tags
// (rescoring the host's identities: build-host depends on them) and last-seen bookkeeping.
#include "store/sql_store.hpp"

#include <keyward/common/terminal.hpp>
#include <keyward/protocol/protocol.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

namespace keyward::collector {

bool valid_agent_tag(std::string_view t) {
  if (t.empty() || t.size() > 64) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
  });
}

}  // namespace keyward::collector

namespace keyward::collector::detail {
namespace {

constexpr const char* kAgentColumns =
    "id, hostname, os, status, cert_sha256, cert_serial, spki_sha256, enrolled_at, approved_at, revoked_at, "
    "last_seen_at, last_report_at, source, remote_status, remote_message, remote_scanned_at";

AgentInfo agent_row(const Stmt& st) {
  AgentInfo a;
  a.id = st.text(0);
  a.hostname = st.text(1);
  a.os = st.text(2);
  const std::string s = st.text(3);
  a.status = s == "approved" ? AgentStatus::approved : s == "revoked" ? AgentStatus::revoked : AgentStatus::pending;
  a.cert_sha256 = st.text(4);
  a.cert_serial = st.text(5);
  a.spki_sha256 = st.text(6);
  a.enrolled_at = st.integer(7);
  a.approved_at = st.integer(8);
  a.revoked_at = st.integer(9);
  a.last_seen_at = st.integer(10);
  a.last_report_at = st.integer(11);
  a.source = st.text(12) == "remote" ? HostSource::remote : HostSource::agent;
  a.remote = {st.text(13), st.text(14), st.integer(15)};
  return a;
}

}  // namespace

Outcome<AgentInfo> SqlStore::enroll_agent(std::string_view enrollment_secret, const Enrollment& e, std::int64_t now) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto token = check_enrollment(enrollment_secret, now);
  if (!token) return token.error();
  if (load_agent(e.agent_id)) return refuse("conflict", fmt::format("agent {} already exists", e.agent_id));
  if (load_agent_by_cert(e.cert_sha256)) return refuse("conflict", "an agent with this certificate already exists");
  const std::string identity = identity_of_spki(e.spki_sha256);
  if (e.spki_sha256.empty()) return refuse("invalid", "the enrollment names no key");
  if (auto why = unmanageable(identity)) {
    Refusal r = refuse_enrollment(*why, e, *token, now);
    tx.commit();  // the token is used up and the attempt is in the audit log
    return r;
  }
  // Consumed only if still unused: the WHERE makes a concurrent second use change nothing.
  Stmt use = db_->prepare("UPDATE enrollment_tokens SET used_at = ?, agent_id = ? WHERE id = ? AND used_at = 0");
  use.bind_all(now, e.agent_id, *token).run();
  if (db_->changes() != 1) return refuse("forbidden", "the enrollment token was already used");
  db_->prepare(
         "INSERT INTO agents(id, hostname, os, status, cert_sha256, cert_serial, spki_sha256, enrolled_at, "
         "last_seen_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)")
      .bind_all(e.agent_id, e.hostname, e.os, e.cert_sha256, e.cert_serial, e.spki_sha256, now, now)
      .run();
  auto managed =
      set_managed(identity, fmt::format("keyward-agent key of {} ({})", e.hostname, e.agent_id), e.agent_id, now);
  if (!managed) return managed.error();  // checked above, in this transaction: not reached
  add_event(now, "agent_enrolled", e.agent_id, {}, {}, {{"hostname", e.hostname}, {"os", e.os}});
  append_audit(Actor{"agent:" + e.agent_id, std::nullopt}, "agent.enroll", e.agent_id,
               {{"hostname", e.hostname},
                {"os", e.os},
                {"cert_sha256", e.cert_sha256},
                {"cert_serial", e.cert_serial},
                {"spki_sha256", e.spki_sha256},
                {"enrollment_token", *token}},
               now);
  tx.commit();
  return *load_agent(e.agent_id);
}

Refusal SqlStore::refuse_enrollment(const Refusal& why, const Enrollment& e, const std::string& token_id,
                                    std::int64_t now) {
  db_->prepare("UPDATE enrollment_tokens SET used_at = ? WHERE id = ? AND used_at = 0").bind_all(now, token_id).run();
  append_audit(Actor{"enrollment:" + token_id, std::nullopt}, "agent.enroll_refused", identity_of_spki(e.spki_sha256),
               {{"reason", why.code},
                {"hostname", e.hostname},
                {"cert_sha256", e.cert_sha256},
                {"spki_sha256", e.spki_sha256},
                {"enrollment_token", token_id}},
               now);
  return why;
}

std::optional<AgentInfo> SqlStore::agent(const std::string& id) {
  auto db = readers_->lease();
  return load_agent_where(*db, "id", id);
}

std::optional<AgentInfo> SqlStore::agent_by_cert(const std::string& cert_sha256) {
  auto db = readers_->lease();
  return load_agent_where(*db, "cert_sha256", cert_sha256);
}

std::vector<AgentInfo> SqlStore::list_agents() {
  auto db = readers_->lease();
  std::vector<AgentInfo> out;
  Stmt st = db->prepare(fmt::format("SELECT {} FROM agents ORDER BY hostname, id", kAgentColumns));
  while (st.step()) out.push_back(agent_row(st));
  for (auto& a : out) a.tags = load_tags(*db, a.id);
  return out;
}

Outcome<AgentInfo> SqlStore::approve_agent(const std::string& id, const Actor& by, std::int64_t now) {
  const AgentTurn turn(*this, id);
  auto checked = [&]() -> std::optional<Refusal> {
    auto a = load_agent(id);
    if (!a) return refuse("not_found", fmt::format("no agent {}", id));
    if (a->status == AgentStatus::revoked)
      return refuse("conflict", fmt::format("agent {} is revoked; a revoked agent stays revoked", id));
    if (a->status == AgentStatus::approved) return refuse("conflict", fmt::format("agent {} is already approved", id));
    return std::nullopt;
  };
  std::vector<std::pair<std::int64_t, std::string>> held;
  {
    std::lock_guard lock(mu_);
    if (auto refusal = checked()) return *refusal;
    held = held_reports(id);
  }
  // Parsed and scored outside the lock; this agent's turn keeps its held reports as they are.
  std::vector<HeldReport> placed;
  for (const auto& [row, body] : held) {
    auto report = protocol::parse_report(body);
    if (!report)
      throw StoreError(fmt::format("held report {} of agent {} is unreadable: {}", row, id, report.error().message));
    placed.push_back({row, place_report(id, *report, rules_, now)});
  }
  auto approve = [&]() -> std::optional<Refusal> {
    if (auto refusal = checked()) return refusal;
    const auto a = load_agent(id);
    db_->prepare("UPDATE agents SET status = 'approved', approved_at = ? WHERE id = ?").bind_all(now, id).run();
    add_event(now, "agent_approved", id, {}, {}, {{"hostname", a->hostname}});
    append_audit(by, "agent.approve", id, {{"hostname", a->hostname}, {"held_reports", held.size()}}, now);
    return std::nullopt;
  };
  if (auto refusal = ingest_held(id, placed, now, approve)) return *refusal;
  std::lock_guard lock(mu_);
  return *load_agent(id);
}

std::vector<std::pair<std::int64_t, std::string>> SqlStore::held_reports(const std::string& agent_id) {
  std::vector<std::pair<std::int64_t, std::string>> held;
  Stmt st = db_->prepare("SELECT id, body FROM held_reports WHERE agent_id = ? ORDER BY id");
  st.bind(1, agent_id);
  while (st.step()) held.emplace_back(st.integer(0), st.text(1));
  return held;
}

Outcome<AgentInfo> SqlStore::revoke_agent(const std::string& id, const Actor& by, std::int64_t now) {
  const AgentTurn turn(*this, id);
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto a = load_agent(id);
  if (!a) return refuse("not_found", fmt::format("no agent {}", id));
  if (a->status == AgentStatus::revoked) return refuse("conflict", fmt::format("agent {} is already revoked", id));
  db_->prepare("UPDATE agents SET status = 'revoked', revoked_at = ? WHERE id = ?").bind_all(now, id).run();
  db_->prepare("DELETE FROM held_reports WHERE agent_id = ?").bind_all(id).run();
  const int dropped = db_->changes();
  const std::string unmanaged = unmanage_agent_key(id, now);
  add_event(now, "agent_revoked", id, {}, {}, {{"hostname", a->hostname}});
  append_audit(by, "agent.revoke", id,
               {{"hostname", a->hostname},
                {"was", to_string(a->status)},
                {"held_reports_dropped", dropped},
                {"unmanaged", unmanaged}},
               now);
  tx.commit();
  return *load_agent(id);
}

Outcome<AgentInfo> SqlStore::set_agent_tags(const std::string& id, const std::vector<std::string>& tags,
                                            const Actor& by) {
  std::lock_guard lock(mu_);
  std::set<std::string> unique;
  for (const auto& t : tags) {
    if (!valid_agent_tag(t)) return refuse("invalid", std::string(kAgentTagRule));
    unique.insert(t);
  }
  if (unique.size() > 32) return refuse("invalid", "an agent has at most 32 tags");
  const std::int64_t now = wall_clock();
  Transaction tx(*db_);
  auto a = load_agent(id);
  if (!a) return refuse("not_found", fmt::format("no agent {}", id));
  db_->prepare("DELETE FROM agent_tags WHERE agent_id = ?").bind_all(id).run();
  Stmt ins = db_->prepare("INSERT INTO agent_tags(agent_id, tag) VALUES (?, ?)");
  for (const auto& t : unique) {
    ins.reset();
    ins.bind_all(id, t).run();
  }
  // build-host depends on the tags: rescore every identity present on this host.
  for (const auto& identity : agent_identities(id)) recompute_identity(identity, now);
  append_audit(by, "agent.tag", id, {{"tags", unique}, {"was", a->tags}}, now);
  tx.commit();
  return *load_agent(id);
}

Outcome<AgentInfo> SqlStore::remote_host(const std::string& name, const Actor& by, std::int64_t now) {
  if (name.empty() || name.size() > protocol::kMaxHostnameBytes || common::has_control_characters(name))
    return refuse("invalid", "a remote host's name is 1 to 253 bytes without control characters");
  const std::string id = remote_host_id(name);
  std::lock_guard lock(mu_);
  if (auto a = load_agent(id)) return *a;
  Transaction tx(*db_);
  // No certificate: "remote:" + the id stands in for its digest, which no TLS peer can match.
  db_->prepare(
         "INSERT INTO agents(id, hostname, os, status, cert_sha256, cert_serial, spki_sha256, enrolled_at, "
         "approved_at, source) VALUES (?, ?, '', 'approved', ?, '', '', ?, ?, 'remote')")
      .bind_all(id, name, "remote:" + id, now, now)
      .run();
  append_audit(by, "remote.add", id, {{"hostname", name}}, now);
  tx.commit();
  return *load_agent(id);
}

Outcome<AgentInfo> SqlStore::record_remote_scan(const std::string& id, const RemoteScanStatus& status,
                                                const Actor& by) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto a = load_agent(id);
  if (!a || a->source != HostSource::remote) return refuse("not_found", fmt::format("no remote host {}", id));
  db_->prepare(
         "UPDATE agents SET remote_status = ?, remote_message = ?, remote_scanned_at = ?, "
         "last_seen_at = CASE WHEN ? THEN GREATEST(last_seen_at, ?) ELSE last_seen_at END WHERE id = ?")
      .bind_all(status.status, status.message, status.scanned_at, status.status == "ok" || status.status == "partial",
                status.scanned_at, id)
      .run();
  append_audit(by, "remote.scan", id, {{"status", status.status}, {"message", status.message}}, status.scanned_at);
  tx.commit();
  return *load_agent(id);
}

void SqlStore::touch_agent(const std::string& id, std::int64_t now) {
  // Not audited: it is bookkeeping on every request, not a decision.
  std::lock_guard lock(mu_);
  db_->prepare("UPDATE agents SET last_seen_at = GREATEST(last_seen_at, ?) WHERE id = ?").bind_all(now, id).run();
}

std::vector<std::string> SqlStore::load_tags(Db& db, const std::string& id) {
  std::vector<std::string> out;
  auto st = db.cached("SELECT tag FROM agent_tags WHERE agent_id = ? ORDER BY tag");
  st->bind(1, id);
  while (st->step()) out.push_back(st->text(0));
  return out;
}

std::optional<AgentInfo> SqlStore::load_agent_where(Db& db, const char* column, const std::string& value) {
  // column is one of this file's literals, never input.
  auto st = db.cached(fmt::format("SELECT {} FROM agents WHERE {} = ?", kAgentColumns, column));
  st->bind(1, value);
  if (!st->step()) return std::nullopt;
  AgentInfo a = agent_row(*st);
  a.tags = load_tags(db, a.id);
  return a;
}

std::optional<AgentInfo> SqlStore::load_agent(const std::string& id) { return load_agent_where(*db_, "id", id); }

std::optional<AgentInfo> SqlStore::load_agent_by_cert(const std::string& sha) {
  return load_agent_where(*db_, "cert_sha256", sha);
}

std::vector<std::string> SqlStore::agent_identities(const std::string& agent_id) {
  std::vector<std::string> out;
  Stmt st = db_->prepare("SELECT DISTINCT identity FROM places WHERE agent_id = ? AND resolved_at = 0");
  st.bind(1, agent_id);
  while (st.step()) out.push_back(st.text(0));
  return out;
}

}  // namespace keyward::collector::detail
