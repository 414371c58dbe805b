// SqliteStore, ingest: one report of an agent in one transaction, in named steps:
//   a duplicate report_id changes nothing; a pending agent's report is held;
//   otherwise: score the findings (rules engine), upsert one place per finding, resolve the
//   places a complete snapshot no longer has, rescore every touched identity (fleet factors,
//   exceptions that expired meanwhile), add the "new" events with their fleet severity, record
//   the report and its audit entry.
#include "store/sqlite_store.hpp"

#include "store/fleet_risk.hpp"
#include "store/secrets.hpp"

#include <keyward/rules/engine.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <set>

namespace keyward::collector::detail {
namespace {

using nlohmann::json;

// A place's path and member for an event detail, copied from its finding JSON, which writes a
// name that is not UTF-8 (e.g. Latin-1 on an agent's host) losslessly as path + path_b64: the
// raw bytes would make json::dump throw and fail the agent's every report with a 500.
void put_location(json& detail, const json& finding) {
  auto loc = finding.find("location");
  if (loc == finding.end() || !loc->is_object()) return;
  for (const char* k : {"path", "path_b64", "member", "member_b64"})
    if (auto it = loc->find(k); it != loc->end()) detail[k] = *it;
}

// Facts of a finding the places table keeps in columns (for queries).
struct PlaceColumns {
  std::string algorithm;
  std::optional<std::uint32_t> bits;
  std::int64_t not_after = 0;
};

// The key of a key store: its first private key's, else its first certificate's.
void entries_key(const scanner::Finding& f, PlaceColumns& c) {
  for (const auto& e : f.entries) {
    if (e.kind == scanner::Kind::private_key && e.key) {
      c.algorithm = e.key->algorithm;
      c.bits = e.key->bits;
      return;
    }
  }
  for (const auto& e : f.entries)
    if (e.certificate) {
      c.algorithm = e.certificate->key_algorithm;
      c.bits = e.certificate->key_bits;
      return;
    }
}

PlaceColumns place_columns(const scanner::Finding& f) {
  PlaceColumns c;
  if (f.key) {
    c.algorithm = f.key->algorithm;
    c.bits = f.key->bits;
  } else if (f.certificate) {
    c.algorithm = f.certificate->key_algorithm;
    c.bits = f.certificate->key_bits;
  } else {
    entries_key(f, c);
  }
  if (f.certificate && f.certificate->not_after != 0) {
    c.not_after = f.certificate->not_after;
  } else {
    for (const auto& e : f.entries)
      if (e.certificate && e.certificate->not_after != 0 &&
          (c.not_after == 0 || e.certificate->not_after < c.not_after))
        c.not_after = e.certificate->not_after;
  }
  return c;
}

// One finding as a place of one agent: its id and every column the places table keeps.
struct Place {
  std::string place_id;
  std::string identity;
  std::string kind;
  PlaceColumns cols;
  scanner::RiskFacts base;  // the rules engine's risk
  std::string base_json;
  json finding_doc;
  std::string finding_json;
};

Place place_of(const std::string& agent_id, const scanner::Finding& f) {
  Place p;
  p.identity = identity_of(f);
  p.place_id = sha256_hex(agent_id + std::string(1, '\0') + f.id);
  p.kind = std::string(scanner::to_string(f.kind));
  p.cols = place_columns(f);
  p.base = f.risk.value_or(scanner::RiskFacts{});
  p.base_json = risk_to_json(p.base).dump();
  p.finding_doc = scanner::to_json(f);
  p.finding_json = p.finding_doc.dump();
  return p;
}

void insert_place(Stmt& insert, const std::string& agent_id, const scanner::Finding& f, const Place& p,
                  std::int64_t now) {
  insert.reset();
  insert.bind_all(p.place_id, agent_id, f.id, p.identity, p.kind, f.rule, f.location.path, f.location.member,
                  p.cols.algorithm);
  if (p.cols.bits) insert.bind(10, static_cast<std::int64_t>(*p.cols.bits));
  else insert.bind_null(10);
  insert.bind(11, f.holds_private_key())
      .bind(12, p.cols.not_after)
      .bind(13, p.base_json)
      .bind(14, p.base.score)
      .bind(15, p.base.severity)
      .bind(16, severity_rank(p.base.severity))
      .bind(17, now)
      .bind(18, now)
      .bind(19, p.finding_json)
      .run();
}

void update_place(Stmt& update, const scanner::Finding& f, const Place& p, std::int64_t now) {
  update.reset();
  update.bind_all(p.identity, p.kind, f.rule, f.location.path, f.location.member, p.cols.algorithm);
  if (p.cols.bits) update.bind(7, static_cast<std::int64_t>(*p.cols.bits));
  else update.bind_null(7);
  update.bind(8, f.holds_private_key())
      .bind(9, p.cols.not_after)
      .bind(10, p.base_json)
      .bind(11, p.base.score)
      .bind(12, p.base.severity)
      .bind(13, severity_rank(p.base.severity))
      .bind(14, now)
      .bind(15, p.finding_json)
      .bind(16, p.place_id)
      .run();
}

}  // namespace

// What one ingest has done so far, passed from step to step.
struct SqliteStore::IngestRun {
  struct NewPlace {
    std::string place_id, identity, finding_id;
    json detail;
  };
  const std::string& agent_id;
  std::int64_t now;
  IngestOutcome out;
  std::set<std::string> seen;     // place ids in this report
  std::set<std::string> touched;  // identities to rescore
  std::vector<NewPlace> fresh;    // places first seen or reopened: a "new" event each
};

IngestOutcome SqliteStore::ingest(const AgentInfo& agent, const protocol::Report& report, std::int64_t now) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  IngestOutcome out = ingest_in_tx(agent.id, report, now, /*from_held=*/false);
  if (out.status == IngestOutcome::Status::duplicate) return out;  // rolled back: nothing changed
  tx.commit();
  flush_events();
  return out;
}

IngestOutcome SqliteStore::ingest_in_tx(const std::string& agent_id, const protocol::Report& report, std::int64_t now,
                                        bool from_held) {
  const auto agent = load_agent(agent_id);
  if (!agent) throw StoreError(fmt::format("ingest: no agent {}", agent_id));
  if (!from_held && is_duplicate_report(agent_id, report.report_id)) {
    IngestOutcome out;
    out.findings = report.result.findings.size();
    out.status = IngestOutcome::Status::duplicate;
    return out;
  }
  // Pending (or revoked: kept, never ingested) until an admin approves.
  if (!from_held && agent->status != AgentStatus::approved) return hold_report(*agent, report, now);

  IngestRun run{agent_id, now, {}, {}, {}, {}};
  run.out.findings = report.result.findings.size();
  // The rules engine's risk; paths are absolute on the agent's host, so the default context.
  scanner::ScanResult scored = report.result;
  rules::ScoreContext ctx;
  ctx.now = now;
  rules::score(scored, rules_, ctx);

  upsert_places(run, scored);
  if (report.result.complete) resolve_gone_places(run);
  touch_expired_exceptions(run);
  for (const auto& identity : run.touched) recompute_identity(identity, now);
  add_new_place_events(run);
  record_report(run, report, from_held);
  return run.out;
}

bool SqliteStore::is_duplicate_report(const std::string& agent_id, const std::string& report_id) {
  Stmt st = db_->prepare("SELECT 1 FROM reports WHERE agent_id = ? AND report_id = ?");
  st.bind_all(agent_id, report_id);
  return st.step();
}

IngestOutcome SqliteStore::hold_report(const AgentInfo& agent, const protocol::Report& report, std::int64_t now) {
  IngestOutcome out;
  out.findings = report.result.findings.size();
  db_->prepare("INSERT INTO held_reports(agent_id, report_id, received_at, body) VALUES (?, ?, ?, ?)")
      .bind_all(agent.id, report.report_id, now, protocol::report_to_json(report.result, report.report_id).dump())
      .run();
  db_->prepare(
         "INSERT INTO reports(agent_id, report_id, received_at, complete, findings, status) "
         "VALUES (?, ?, ?, ?, ?, 'held')")
      .bind_all(agent.id, report.report_id, now, report.result.complete, out.findings)
      .run();
  db_->prepare("UPDATE agents SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?").bind_all(now, agent.id).run();
  append_audit(Actor{"agent:" + agent.id, std::nullopt}, "report.hold", agent.id,
               {{"report_id", report.report_id}, {"findings", out.findings}, {"agent_status", to_string(agent.status)}},
               now);
  out.status = IngestOutcome::Status::held;
  return out;
}

// One place per finding id (the first wins): inserted when new, updated (and reopened when it
// was resolved) when known. A new or reopened place is remembered for its "new" event.
void SqliteStore::upsert_places(IngestRun& run, const scanner::ScanResult& scored) {
  Stmt find = db_->prepare("SELECT resolved_at, identity FROM places WHERE place_id = ?");
  Stmt add_identity = db_->prepare("INSERT INTO identities(identity) VALUES (?) ON CONFLICT(identity) DO NOTHING");
  Stmt insert = db_->prepare(
      "INSERT INTO places(place_id, agent_id, finding_id, identity, kind, rule, path, member, algorithm, bits, "
      "holds_key, not_after, base_risk, score, severity, severity_rank, status, first_seen, last_seen, "
      "finding_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)");
  Stmt update = db_->prepare(
      "UPDATE places SET identity = ?, kind = ?, rule = ?, path = ?, member = ?, algorithm = ?, bits = ?, "
      "holds_key = ?, not_after = ?, base_risk = ?, score = ?, severity = ?, severity_rank = ?, "
      "status = CASE WHEN resolved_at != 0 THEN 'open' ELSE status END, resolved_at = 0, last_seen = ?, "
      "finding_json = ? WHERE place_id = ?");
  for (const auto& f : scored.findings) {
    const Place p = place_of(run.agent_id, f);
    if (!run.seen.insert(p.place_id).second) continue;  // the same finding id twice: first wins
    run.touched.insert(p.identity);
    add_identity.reset();
    add_identity.bind(1, p.identity).run();

    find.reset();
    find.bind(1, p.place_id);
    const bool exists = find.step();
    const bool reopened = exists && find.integer(0) != 0;
    if (exists) run.touched.insert(find.text(1));  // its identity may have changed: rescore the old one too
    if (exists) update_place(update, f, p, run.now);
    else insert_place(insert, run.agent_id, f, p, run.now);
    if (!exists || reopened) {
      ++run.out.new_places;
      json d = {{"rule", f.rule}, {"kind", p.kind}};
      put_location(d, p.finding_doc);
      if (reopened) d["reopened"] = true;
      run.fresh.push_back({p.place_id, p.identity, f.id, std::move(d)});
    }
  }
}

// A complete report is a snapshot: the places this host no longer has are resolved.
void SqliteStore::resolve_gone_places(IngestRun& run) {
  struct Gone {
    std::string place_id, finding_id, identity, finding_json, rule;
  };
  std::vector<Gone> gone;
  Stmt st = db_->prepare(
      "SELECT place_id, finding_id, identity, finding_json, rule FROM places WHERE agent_id = ? AND resolved_at = 0");
  st.bind(1, run.agent_id);
  while (st.step())
    if (!run.seen.count(st.text(0))) gone.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4)});
  Stmt resolve = db_->prepare("UPDATE places SET status = 'resolved', resolved_at = ? WHERE place_id = ?");
  for (const auto& g : gone) {
    resolve.reset();
    resolve.bind_all(run.now, g.place_id).run();
    run.touched.insert(g.identity);
    json d = {{"rule", g.rule}};
    put_location(d, parse_json(g.finding_json));
    add_event(run.now, "resolved", run.agent_id, g.identity, g.finding_id, d);
    ++run.out.resolved;
  }
}

// Exceptions that expired since: their places are open again once rescored.
void SqliteStore::touch_expired_exceptions(IngestRun& run) {
  Stmt st = db_->prepare(
      "SELECT DISTINCT p.identity FROM places p JOIN exceptions x ON x.id = p.exception_id "
      "WHERE p.status = 'excepted' AND x.expires_at <= ?");
  st.bind(1, run.now);
  while (st.step()) run.touched.insert(st.text(0));
}

// "new" events carry the fleet severity, known only after the rescoring.
void SqliteStore::add_new_place_events(IngestRun& run) {
  Stmt sev = db_->prepare("SELECT severity, score FROM places WHERE place_id = ?");
  for (auto& n : run.fresh) {
    sev.reset();
    sev.bind(1, n.place_id);
    if (sev.step()) {
      n.detail["severity"] = sev.text(0);
      n.detail["score"] = sev.integer(1);
    }
    add_event(run.now, "new", run.agent_id, n.identity, n.finding_id, n.detail);
  }
}

void SqliteStore::record_report(IngestRun& run, const protocol::Report& report, bool from_held) {
  db_->prepare(
         "INSERT INTO reports(agent_id, report_id, received_at, complete, findings, status) "
         "VALUES (?, ?, ?, ?, ?, 'stored') ON CONFLICT(agent_id, report_id) DO UPDATE SET status = 'stored'")
      .bind_all(run.agent_id, report.report_id, run.now, report.result.complete, run.out.findings)
      .run();
  db_->prepare("UPDATE agents SET last_report_at = ?, last_seen_at = MAX(last_seen_at, ?) WHERE id = ?")
      .bind_all(run.now, run.now, run.agent_id)
      .run();
  append_audit(Actor{"agent:" + run.agent_id, std::nullopt}, "report.ingest", run.agent_id,
               {{"report_id", report.report_id},
                {"complete", report.result.complete},
                {"findings", run.out.findings},
                {"new", run.out.new_places},
                {"resolved", run.out.resolved},
                {"held", from_held}},
               run.now);
  run.out.status = IngestOutcome::Status::stored;
}

}  // namespace keyward::collector::detail
