// SPDX-License-Identifier: Apache-2.0
// SqlStore, scoring: the fleet risk of every present place of an identity (rules engine's
// base risk plus fleet-spread, build-host, keyward-managed and known-public-key, fleet_risk.hpp),
// its raw and positive factors (the total order's keys), and its status (managed > excepted or
// false_positive, by the live exception's kind > open); keyward's own keys as managed identities.
// A key is managed only when keyward made it and no place of it was seen before (issue 12): an
// agent's key is managed on that agent's host only, and no longer once the agent is revoked.
#include "store/sql_store.hpp"

#include "store/fleet_risk.hpp"

#include <keyward/rules/rank.hpp>

#include <fmt/format.h>

#include <map>
#include <set>

namespace keyward::collector::detail {
namespace {

using nlohmann::json;

// How keyward knows an identity: managed (by whom, on which host) or not.
struct Ownership {
  bool managed = false;
  std::string what;
  std::string agent_id;  // an agent's key: managed on this agent's host only
  bool on(const std::string& host_agent) const { return managed && (agent_id.empty() || agent_id == host_agent); }
};

}  // namespace

std::string identity_of_spki(const std::string& spki) { return spki.rfind("spki:", 0) == 0 ? spki : "spki:" + spki; }

bool SqlStore::add_managed_identity(const std::string& spki_sha256, const std::string& what) {
  std::lock_guard lock(mu_);
  const std::int64_t now = wall_clock();
  Transaction tx(*db_);
  const std::string identity = identity_of_spki(spki_sha256);
  auto managed = set_managed(identity, what, {}, now);
  if (!managed) {
    append_audit(Actor{"collector", std::nullopt}, "identity.manage_refused", identity,
                 {{"what", what}, {"reason", managed.error().code}}, now);
    tx.commit();
    return false;
  }
  if (*managed) {
    append_audit(Actor{"collector", std::nullopt}, "identity.managed", identity, {{"what", what}}, now);
    tx.commit();
  }
  return true;
}

std::optional<Refusal> SqlStore::unmanageable(const std::string& identity) {
  {
    auto st = db_->cached("SELECT managed, managed_what FROM identities WHERE identity = ?");
    st->bind(1, identity);
    if (st->step() && st->integer(0) != 0)
      return refuse("key_in_use", fmt::format("this key is already keyward's own ({})", st->text(1)));
  }
  auto st = db_->cached("SELECT 1 FROM places WHERE identity = ? LIMIT 1");
  st->bind(1, identity);
  if (st->step())
    return refuse("key_exposed",
                  "this key was already reported as a finding: an exposed key cannot become keyward's own; "
                  "make a new key (keyward-agent enroll makes one)");
  return std::nullopt;
}

Outcome<bool> SqlStore::set_managed(const std::string& identity, const std::string& what, const std::string& agent_id,
                                    std::int64_t now) {
  bool managed = false;
  {
    auto st = db_->cached("SELECT managed, managed_what, managed_agent FROM identities WHERE identity = ?");
    st->bind(1, identity);
    if (st->step() && st->integer(0) != 0) {
      if (st->text(2) != agent_id) return refuse("key_in_use", "this key is already keyward's own for another owner");
      if (st->text(1) == what) return false;  // nothing changes
      managed = true;
    }
  }
  if (!managed)
    if (auto why = unmanageable(identity)) return *why;
  db_->cached(
         "INSERT INTO identities(identity, managed, managed_what, managed_agent) VALUES (?, 1, ?, ?) "
         "ON CONFLICT(identity) DO UPDATE SET managed = 1, managed_what = excluded.managed_what, "
         "managed_agent = excluded.managed_agent")
      ->bind_all(identity, what, agent_id)
      .run();
  recompute_identity(identity, now);
  return true;
}

std::string SqlStore::unmanage_agent_key(const std::string& agent_id, std::int64_t now) {
  std::vector<std::string> identities;
  {
    auto st = db_->cached("SELECT identity FROM identities WHERE managed = 1 AND managed_agent = ?");
    st->bind(1, agent_id);
    while (st->step()) identities.push_back(st->text(0));
  }
  for (const auto& identity : identities) {
    db_->cached("UPDATE identities SET managed = 0 WHERE identity = ?")->bind(1, identity).run();
    recompute_identity(identity, now);
  }
  return identities.empty() ? std::string() : identities.front();
}

// An identity's fleet facts, and the signature of what in them can change a place's score or
// factors (the counts only show in texts, by mark: fleet_risk.hpp).
struct SqlStore::IdentityFacts {
  Ownership own;
  std::optional<ExceptionInfo> exception;
  std::uint64_t key_hosts = 0, package_hosts = 0;
  std::string signature;
  std::string stored_signature;  // the signature the identity's places were last scored with
};

SqlStore::IdentityFacts SqlStore::identity_facts(const std::string& identity, std::int64_t now) {
  IdentityFacts f;
  bool has_exception = false;
  {
    // One statement (one round trip on PostgreSQL): the identity's row, its counts from the
    // indexes of places, and whether it has any exception at all.
    auto st = db_->cached(
        "SELECT COALESCE(i.managed, 0), COALESCE(i.managed_what, ''), COALESCE(i.managed_agent, ''), "
        "COALESCE(i.fleet_signature, ''), "
        "(SELECT COUNT(DISTINCT p.agent_id) FROM places p WHERE p.identity = q.id AND p.resolved_at = 0 "
        "AND p.holds_key = 1), "
        "(SELECT COUNT(DISTINCT p.agent_id) FROM places p WHERE p.identity = q.id AND p.package_owned = 1), "
        "CASE WHEN EXISTS (SELECT 1 FROM exceptions x WHERE x.identity = q.id) THEN 1 ELSE 0 END "
        "FROM (SELECT CAST(? AS TEXT) AS id) q LEFT JOIN identities i ON i.identity = q.id");
    st->bind(1, identity);
    if (st->step()) {
      f.own = {st->integer(0) != 0, st->text(1), st->text(2)};
      f.stored_signature = st->text(3);
      f.key_hosts = static_cast<std::uint64_t>(st->integer(4));
      f.package_hosts = static_cast<std::uint64_t>(st->integer(5));
      has_exception = st->integer(6) != 0;
    }
  }
  // Most identities have no exception at all: ask the exceptions unit only when one exists.
  if (has_exception) f.exception = live_exception(identity, now);
  f.signature = fmt::format("spread={} package={} managed={}:{}:{} exception={}:{}", f.key_hosts >= 2,
                            f.package_hosts > 0, f.own.managed, f.own.what, f.own.agent_id,
                            f.exception ? f.exception->id : "", f.exception ? to_string(f.exception->kind) : "");
  return f;
}

void SqlStore::recompute_identity(const std::string& identity, std::int64_t now, const std::set<std::string>* changed) {
  const IdentityFacts f = identity_facts(identity, now);
  // Facts that score the same as before: only the places that changed are scored.
  const bool only_changed = changed != nullptr && f.stored_signature == f.signature;
  std::vector<ScoredPlace> rows;
  const auto add_rows = [&](Stmt& st) {
    while (st.step())
      rows.push_back({st.text(0), st.text(1), st.text(3), st.text(4), st.text(5), st.text(6), st.integer(2) != 0});
  };
  constexpr const char* kColumns =
      "SELECT place_id, agent_id, holds_key, base_risk, risk, status, exception_id FROM places ";
  if (only_changed) {
    auto st = db_->cached(std::string(kColumns) + "WHERE place_id = ? AND resolved_at = 0");
    for (const auto& place_id : *changed) {
      st->reset();
      st->bind(1, place_id);
      add_rows(*st);
    }
  } else {
    auto st = db_->cached(std::string(kColumns) + "WHERE identity = ? AND resolved_at = 0");
    st->bind(1, identity);
    add_rows(*st);
  }
  std::map<std::string, bool> build;
  for (const auto& r : rows) {
    if (!build.count(r.agent_id)) build[r.agent_id] = is_build_host(r.agent_id);
    FleetFacts facts;
    facts.key_hosts = f.key_hosts;
    facts.managed_what = f.own.what;
    facts.package_hosts = f.package_hosts;
    facts.marks = true;
    facts.holds_key = r.holds_key;
    facts.build_host = build[r.agent_id];
    facts.managed = f.own.on(r.agent_id);
    write_place_risk(r, facts, facts.managed ? std::nullopt : f.exception);
  }
  db_->cached(
         "UPDATE identities SET key_hosts = ?, package_hosts = ?, fleet_signature = ? WHERE identity = ? AND "
         "(key_hosts != ? OR package_hosts != ? OR fleet_signature != ?)")
      ->bind_all(f.key_hosts, f.package_hosts, f.signature, identity, f.key_hosts, f.package_hosts, f.signature)
      .run();
  rank_identity(identity);
}

// The identity's standing among the keys (schema 8): its riskiest present place in the total
// order, and its hosts, top score, exception and false-positive flag, as keys() lists them.
void SqlStore::rank_identity(const std::string& identity) {
  // One statement (one round trip on PostgreSQL); each subquery reads an index of places alone
  // (places_identity_facts, places_identity_rank).
  // clang-format off
  constexpr const char* kRank =
      "UPDATE identities SET "
      "present = CASE WHEN EXISTS (SELECT 1 "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0) THEN 1 ELSE 0 END, "
      "hosts = (SELECT COUNT(DISTINCT p.agent_id) "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0), "
      "max_score = COALESCE((SELECT MAX(p.score) "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0), 0), "
      "exception_id = COALESCE((SELECT MAX(p.exception_id) "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0), ''), "
      "false_positive = COALESCE((SELECT MAX(CASE WHEN p.status = 'false_positive' THEN 1 ELSE 0 END) "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0), 0), "
      "rank_severity = COALESCE((SELECT p.severity_rank "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0 "
      " ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0), "
      "rank_raw = COALESCE((SELECT p.raw "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0 "
      " ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0), "
      "rank_positive = COALESCE((SELECT p.positive_factors "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0 "
      " ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0), "
      "rank_last_seen = COALESCE((SELECT p.last_seen "
      "  FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0 "
      " ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0) "
      "WHERE identity = ?";
  // clang-format on
  db_->cached(kRank)->bind(1, identity).run();
}

bool SqlStore::is_build_host(const std::string& agent_id) {
  auto tag = db_->cached("SELECT 1 FROM agent_tags WHERE agent_id = ? AND tag = 'build'");
  tag->bind(1, agent_id);
  return tag->step();
}

// One place's fleet risk, raw, positive factors and status (managed > the exception's kind >
// open); unchanged places are not written.
void SqlStore::write_place_risk(const ScoredPlace& r, const FleetFacts& facts,
                                const std::optional<ExceptionInfo>& exception) {
  const scanner::RiskFacts risk = fleet_risk(risk_from_json(parse_json(r.base_risk)), facts, rules_);
  const std::string risk_json = risk_to_json(risk).dump();
  const std::string place_exception = exception ? exception->id : std::string();
  const char* status = facts.managed                                      ? "managed"
                       : !exception                                       ? "open"
                       : exception->kind == ExceptionKind::false_positive ? "false_positive"
                                                                          : "excepted";
  if (risk_json == r.risk && status == r.status && place_exception == r.exception_id) return;  // unchanged
  db_->cached(
         "UPDATE places SET score = ?, severity = ?, severity_rank = ?, status = ?, exception_id = ?, risk = ?, "
         "raw = ?, positive_factors = ? WHERE place_id = ?")
      ->bind_all(risk.score, risk.severity, severity_rank(risk.severity), status, place_exception, risk_json, risk.raw,
                 rules::adding_factors(risk), r.place_id)
      .run();
}

void SqlStore::rescore_stale_managed() {
  std::vector<std::string> stale;
  {
    Stmt st = db_->prepare(
        "SELECT DISTINCT p.identity FROM places p JOIN identities i ON i.identity = p.identity "
        "WHERE p.resolved_at = 0 AND p.status = 'managed' AND "
        "(i.managed = 0 OR (i.managed_agent != '' AND i.managed_agent != p.agent_id))");
    while (st.step()) stale.push_back(st.text(0));
  }
  if (stale.empty()) return;
  const std::int64_t now = wall_clock();
  Transaction tx(*db_);
  for (const auto& identity : stale) recompute_identity(identity, now);
  append_audit(Actor{"collector", std::nullopt}, "identity.rescore", "", {{"no_longer_managed", stale}}, now);
  tx.commit();
}

}  // namespace keyward::collector::detail
