// SqliteStore, scoring: the fleet risk of every present place of an identity (rules engine's
// base risk plus fleet-spread, build-host and keyward-managed, fleet_risk.hpp) and its status
// (managed > excepted > open); keyward's own keys as managed identities.
#include "store/sqlite_store.hpp"

#include "store/fleet_risk.hpp"

#include <map>
#include <set>

namespace keyward::collector::detail {
namespace {

using nlohmann::json;

std::string identity_of_spki(const std::string& spki) { return spki.rfind("spki:", 0) == 0 ? spki : "spki:" + spki; }

}  // namespace

void SqliteStore::add_managed_identity(const std::string& spki_sha256, const std::string& what) {
  std::lock_guard lock(mu_);
  const std::int64_t now = wall_clock();
  Transaction tx(*db_);
  if (set_managed(spki_sha256, what, now)) {
    append_audit(Actor{"collector", std::nullopt}, "identity.managed", identity_of_spki(spki_sha256), {{"what", what}},
                 now);
    tx.commit();
  }
}

bool SqliteStore::set_managed(const std::string& spki, const std::string& what, std::int64_t now) {
  const std::string identity = identity_of_spki(spki);
  {
    Stmt st = db_->prepare("SELECT managed, managed_what FROM identities WHERE identity = ?");
    st.bind(1, identity);
    if (st.step() && st.integer(0) != 0 && st.text(1) == what) return false;
  }
  db_->prepare(
         "INSERT INTO identities(identity, managed, managed_what) VALUES (?, 1, ?) "
         "ON CONFLICT(identity) DO UPDATE SET managed = 1, managed_what = excluded.managed_what")
      .bind_all(identity, what)
      .run();
  recompute_identity(identity, now);
  return true;
}

void SqliteStore::recompute_identity(const std::string& identity, std::int64_t now) {
  bool managed = false;
  std::string managed_what;
  {
    Stmt st = db_->prepare("SELECT managed, managed_what FROM identities WHERE identity = ?");
    st.bind(1, identity);
    if (st.step()) {
      managed = st.integer(0) != 0;
      managed_what = st.text(1);
    }
  }
  const std::string exception_id = managed ? std::string() : live_exception(identity, now);

  struct Row {
    std::string place_id, agent_id, base_risk, finding_json;
    bool holds_key = false;
  };
  std::vector<Row> rows;
  {
    Stmt st = db_->prepare(
        "SELECT place_id, agent_id, holds_key, base_risk, finding_json FROM places "
        "WHERE identity = ? AND resolved_at = 0");
    st.bind(1, identity);
    while (st.step()) rows.push_back({st.text(0), st.text(1), st.text(3), st.text(4), st.integer(2) != 0});
  }
  std::set<std::string> key_hosts;
  for (const auto& r : rows)
    if (r.holds_key) key_hosts.insert(r.agent_id);
  std::map<std::string, bool> build;
  Stmt tag = db_->prepare("SELECT 1 FROM agent_tags WHERE agent_id = ? AND tag = 'build'");
  Stmt upd = db_->prepare(
      "UPDATE places SET score = ?, severity = ?, severity_rank = ?, status = ?, exception_id = ?, "
      "finding_json = ? WHERE place_id = ?");
  for (const auto& r : rows) {
    if (!build.count(r.agent_id)) {
      tag.reset();
      tag.bind(1, r.agent_id);
      build[r.agent_id] = tag.step();
    }
    FleetFacts facts;
    facts.holds_key = r.holds_key;
    facts.key_hosts = key_hosts.size();
    facts.build_host = build[r.agent_id];
    facts.managed = managed;
    facts.managed_what = managed_what;
    const scanner::RiskFacts risk = fleet_risk(risk_from_json(parse_json(r.base_risk)), facts, rules_);
    json finding = parse_json(r.finding_json);
    finding["risk"] = risk_to_json(risk);
    const char* status = managed ? "managed" : !exception_id.empty() ? "excepted" : "open";
    upd.reset();
    upd.bind_all(risk.score, risk.severity, severity_rank(risk.severity), status, exception_id, finding.dump(),
                 r.place_id)
        .run();
  }
}

}  // namespace keyward::collector::detail
