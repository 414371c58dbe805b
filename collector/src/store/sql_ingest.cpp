// SPDX-License-Identifier: Apache-2.0
// SqlStore, ingest: one report of an agent, in named steps:
//   a duplicate report_id changes nothing; a pending agent's report is held (the newest
//   snapshot only); otherwise the report's places are made outside the lock (placed_report.hpp)
//   and written in chunks of kIngestChunk places, one transaction and one hold of the lock each,
//   so that readers interleave with a large report (issue 12). Each step upserts a chunk of
//   places; once all are in, a complete snapshot's steps resolve the places it no longer has,
//   a chunk at a time; each step rescores the identities it touched and adds its events. The
//   last step reopens the places of expired exceptions and records the report. A report cut
//   short (a crash, a failed write) has recorded nothing but places and their events: the agent
//   resends it (same report_id), and the resend ends as one whole ingest would have.
#include "store/sql_store.hpp"

#include "store/fleet_risk.hpp"
#include "store/placed_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace keyward::collector::detail {
namespace {

using nlohmann::json;

void bind_bits(Stmt& st, int i, const std::optional<std::uint32_t>& bits) {
  if (bits) st.bind(i, static_cast<std::int64_t>(*bits));
  else st.bind_null(i);
}

void insert_place(Stmt& insert, const std::string& agent_id, const PlacedFinding& p, std::int64_t now) {
  insert.bind_all(p.place_id, agent_id, p.finding_id, p.identity, p.kind, p.rule, p.path, p.member, p.algorithm);
  bind_bits(insert, 10, p.bits);
  insert.bind(11, p.holds_key)
      .bind(12, p.not_after)
      .bind(13, p.base_risk)
      .bind(14, p.score)
      .bind(15, p.severity)
      .bind(16, severity_rank(p.severity))
      .bind(17, now)
      .bind(18, now)
      .bind(19, p.finding_json)
      .bind(20, p.package_owned)
      .run();
}

void update_place(Stmt& update, const PlacedFinding& p, std::int64_t now) {
  update.bind_all(p.identity, p.kind, p.rule, p.path, p.member, p.algorithm);
  bind_bits(update, 7, p.bits);
  update.bind(8, p.holds_key)
      .bind(9, p.not_after)
      .bind(10, p.base_risk)
      .bind(11, now)
      .bind(12, p.finding_json)
      .bind(13, p.package_owned)
      .bind(14, p.place_id)
      .run();
}

}  // namespace

// What one ingest has done so far, passed from step to step and from chunk to chunk.
struct SqlStore::IngestRun {
  struct NewPlace {
    std::string place_id, identity, finding_id;
    json detail;
  };
  IngestRun(const std::string& agent, std::int64_t time, const PlacedReport& report, bool held, Actor actor)
      : agent_id(agent), now(time), placed(report), from_held(held), by(std::move(actor)) {}
  const std::string& agent_id;
  std::int64_t now;
  const PlacedReport& placed;
  bool from_held;
  Actor by;              // who brought the report: the agent, or the collector's remote scans
  std::size_t next = 0;  // the first place not upserted yet
  IngestOutcome out;
  // Identities to rescore (this chunk), each with its places that changed.
  std::map<std::string, std::set<std::string>> touched;
  std::vector<NewPlace> fresh;  // places first seen or reopened (this chunk): a "new" event each
};

// The agent's advisory lock on PostgreSQL (a session lock of the writer connection, keys
// "kw" and the hash of the agent id: apart from the write lock's one-key space).
constexpr const char* kTryAgentLock = "SELECT pg_try_advisory_lock(27511, hashtext(?))";
constexpr const char* kAgentUnlock = "SELECT pg_advisory_unlock(27511, hashtext(?))";
// How often a replica asks again for an agent another replica is ingesting.
constexpr auto kAgentLockPoll = std::chrono::milliseconds(10);

SqlStore::AgentTurn::AgentTurn(SqlStore& store, const std::string& agent_id) : store_(store), agent_id_(agent_id) {
  {
    std::unique_lock lock(store_.turns_mu_);
    store_.turns_cv_.wait(lock, [&] { return !store_.busy_agents_.count(agent_id_); });
    store_.busy_agents_.insert(agent_id_);
  }
  if (!store_.db_->postgres()) return;
  // Replicas: the same agent's report may reach another collector (a retry, a replay). Asked
  // without waiting, so that this replica's other writers are not held up meanwhile.
  try {
    for (;;) {
      {
        std::lock_guard lock(store_.mu_);
        auto st = store_.db_->cached(kTryAgentLock);
        st->bind(1, agent_id_);
        if (st->step() && st->integer(0) == 1) return;
      }
      std::this_thread::sleep_for(kAgentLockPoll);
    }
  } catch (...) {
    release();
    throw;
  }
}

void SqlStore::AgentTurn::release() {
  {
    std::lock_guard lock(store_.turns_mu_);
    store_.busy_agents_.erase(agent_id_);
  }
  store_.turns_cv_.notify_all();
}

SqlStore::AgentTurn::~AgentTurn() {
  if (store_.db_->postgres()) {
    try {
      std::lock_guard lock(store_.mu_);
      auto st = store_.db_->cached(kAgentUnlock);
      st->bind(1, agent_id_);
      st->run();
    } catch (const StoreError&) {
      // A broken connection has dropped its session locks with it.
    }
  }
  release();
}

IngestOutcome SqlStore::ingest(const AgentInfo& agent, const protocol::Report& report, std::int64_t now,
                               const Actor& by) {
  const AgentTurn turn(*this, agent.id);
  std::optional<AgentInfo> current;
  std::string last_digest;
  {
    std::lock_guard lock(mu_);
    if (is_duplicate_report(agent.id, report.report_id)) return duplicate_outcome(report);
    current = load_agent(agent.id);
    last_digest = snapshot_digest(agent.id);
  }
  if (!current) throw StoreError(fmt::format("ingest: no agent {}", agent.id));
  // Pending until an admin approves (a revoked agent's report is refused before it gets here).
  if (current->status != AgentStatus::approved) return hold_report(*current, report, now);
  ScoredReport scored = score_report(agent.id, report, rules_, now);
  // The agent's turn keeps its other reports out: the digest read above is still its own.
  if (scored.complete && !last_digest.empty() && scored.digest == last_digest)
    if (auto out = record_unchanged(agent.id, scored, now, by)) return *out;
  const PlacedReport placed = place_report(std::move(scored));
  IngestRun run(agent.id, now, placed, /*held=*/false, by);
  for (bool done = false; !done;) {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    done = ingest_step(run);
    tx.commit();
  }
  return run.out;
}

IngestOutcome SqlStore::duplicate_outcome(const protocol::Report& report) {
  IngestOutcome out;
  out.findings = report.result.findings.size();
  out.status = IngestOutcome::Status::duplicate;
  return out;
}

std::optional<Refusal> SqlStore::ingest_held(const std::string& agent_id, const std::vector<HeldReport>& held,
                                             std::int64_t now, const std::function<std::optional<Refusal>()>& finish) {
  if (held.empty()) {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    if (auto refusal = finish()) return refusal;
    tx.commit();
    return std::nullopt;
  }
  for (std::size_t i = 0; i < held.size(); ++i) {
    IngestRun run(agent_id, now, held[i].placed, /*held=*/true, Actor{"agent:" + agent_id, std::nullopt});
    for (bool done = false; !done;) {
      std::lock_guard lock(mu_);
      Transaction tx(*db_);
      done = ingest_step(run);
      if (done) db_->prepare("DELETE FROM held_reports WHERE id = ?").bind_all(held[i].row).run();
      if (done && i + 1 == held.size())
        if (auto refusal = finish()) return refusal;
      tx.commit();
    }
  }
  return std::nullopt;
}

bool SqlStore::ingest_step(IngestRun& run) {
  run.touched.clear();
  run.fresh.clear();
  const std::size_t begin = run.next;
  // From the first step on the host's places may differ from its last snapshot: no unchanged
  // report is recorded in O(1) until this one is recorded whole (a crash midway leaves it so).
  if (begin == 0)
    db_->cached("UPDATE agents SET snapshot_digest = '' WHERE id = ? AND snapshot_digest != ''")
        ->bind(1, run.agent_id)
        .run();
  run.next = std::min(run.placed.places.size(), begin + kIngestChunk);
  upsert_places(run, begin, run.next);
  bool done = run.next == run.placed.places.size();
  if (done && run.placed.complete) done = resolve_gone_places(run, kIngestChunk);
  if (done) touch_expired_exceptions(run);
  for (const auto& [identity, places] : run.touched) recompute_identity(identity, run.now, &places);
  add_new_place_events(run);
  if (done) {
    record_report(run);
  } else {
    append_audit(run.by, "report.ingest_part", run.agent_id,
                 {{"report_id", run.placed.report_id},
                  {"places", {begin, run.next}},
                  {"new", run.fresh.size()},
                  {"resolved", run.out.resolved}},
                 run.now);
  }
  return done;
}

std::string SqlStore::snapshot_digest(const std::string& agent_id) {
  auto st = db_->cached("SELECT snapshot_digest FROM agents WHERE id = ?");
  st->bind(1, agent_id);
  return st->step() ? st->text(0) : std::string();
}

// A complete snapshot whose digest is the host's last one: its places are the host's present
// places exactly, so it is recorded without reading or writing any of them (one report row, the
// agent's times, the audit entry). nullopt when an expired exception must reopen places first:
// the whole ingest does that.
std::optional<IngestOutcome> SqlStore::record_unchanged(const std::string& agent_id, const ScoredReport& placed,
                                                        std::int64_t now, const Actor& by) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  if (!expired_exception_identities(now).empty()) return std::nullopt;
  db_->cached(
         "INSERT INTO reports(agent_id, report_id, received_at, complete, findings, status) "
         "VALUES (?, ?, ?, 1, ?, 'stored')")
      ->bind_all(agent_id, placed.report_id, now, placed.findings)
      .run();
  db_->cached(
         "UPDATE agents SET last_report_at = ?, last_seen_at = GREATEST(last_seen_at, ?), snapshot_at = ? WHERE id = ?")
      ->bind_all(now, now, now, agent_id)
      .run();
  IngestOutcome out;
  out.findings = placed.findings;
  out.status = IngestOutcome::Status::stored;
  append_audit(by, "report.ingest", agent_id,
               {{"report_id", placed.report_id},
                {"complete", true},
                {"findings", out.findings},
                {"new", 0},
                {"resolved", 0},
                {"held", false},
                {"unchanged", true}},
               now);
  tx.commit();
  return out;
}

bool SqlStore::is_duplicate_report(const std::string& agent_id, const std::string& report_id) {
  auto st = db_->cached("SELECT 1 FROM reports WHERE agent_id = ? AND report_id = ?");
  st->bind_all(agent_id, report_id);
  return st->step();
}

// Each report is a full snapshot of the host: a complete one replaces every report held
// before it, an incomplete one the incomplete ones (at most two are held per agent, issue 12).
IngestOutcome SqlStore::hold_report(const AgentInfo& agent, const protocol::Report& report, std::int64_t now) {
  IngestOutcome out;
  out.findings = report.result.findings.size();
  out.status = IngestOutcome::Status::held;
  if (agent.status == AgentStatus::revoked) return out;  // revoked meanwhile: nothing is kept
  const std::string body = protocol::report_to_json(report.result, report.report_id).dump();
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  if (is_duplicate_report(agent.id, report.report_id)) return duplicate_outcome(report);
  db_->prepare(
         "DELETE FROM held_reports WHERE agent_id = ? AND (? OR report_id IN "
         "(SELECT report_id FROM reports WHERE agent_id = held_reports.agent_id AND complete = 0))")
      .bind_all(agent.id, report.result.complete)
      .run();
  const int replaced = db_->changes();
  db_->prepare("INSERT INTO held_reports(agent_id, report_id, received_at, body) VALUES (?, ?, ?, ?)")
      .bind_all(agent.id, report.report_id, now, body)
      .run();
  db_->prepare(
         "INSERT INTO reports(agent_id, report_id, received_at, complete, findings, status) "
         "VALUES (?, ?, ?, ?, ?, 'held')")
      .bind_all(agent.id, report.report_id, now, report.result.complete, out.findings)
      .run();
  db_->prepare("UPDATE agents SET last_seen_at = GREATEST(last_seen_at, ?) WHERE id = ?").bind_all(now, agent.id).run();
  append_audit(Actor{"agent:" + agent.id, std::nullopt}, "report.hold", agent.id,
               {{"report_id", report.report_id},
                {"findings", out.findings},
                {"agent_status", to_string(agent.status)},
                {"replaced", replaced}},
               now);
  tx.commit();
  return out;
}

// Places [begin, end) of the report: inserted when new, updated (and reopened when it was
// resolved) when known. A place whose finding is the same as before is only seen again: its
// fleet risk cannot have changed, so its identity is not rescored. A new or reopened place is
// remembered for its "new" event.
void SqlStore::upsert_places(IngestRun& run, std::size_t begin, std::size_t end) {
  auto find = db_->cached("SELECT resolved_at, identity, finding_json = ? FROM places WHERE place_id = ?");
  auto add_identity = db_->cached("INSERT INTO identities(identity) VALUES (?) ON CONFLICT(identity) DO NOTHING");
  auto insert = db_->cached(
      "INSERT INTO places(place_id, agent_id, finding_id, identity, kind, rule, path, member, algorithm, bits, "
      "holds_key, not_after, base_risk, score, severity, severity_rank, status, first_seen, last_seen, "
      "finding_json, package_owned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)");
  auto update = db_->cached(
      "UPDATE places SET identity = ?, kind = ?, rule = ?, path = ?, member = ?, algorithm = ?, bits = ?, "
      "holds_key = ?, not_after = ?, base_risk = ?, "
      "status = CASE WHEN resolved_at != 0 THEN 'open' ELSE status END, resolved_at = 0, last_seen = ?, "
      "finding_json = ?, package_owned = ? WHERE place_id = ?");
  auto seen_again = db_->cached("UPDATE places SET last_seen = ? WHERE place_id = ?");
  for (std::size_t i = begin; i < end; ++i) {
    const PlacedFinding& p = run.placed.places[i];
    find->reset();
    find->bind_all(p.finding_json, p.place_id);
    const bool exists = find->step();
    const bool reopened = exists && find->integer(0) != 0;
    if (exists && !reopened && find->integer(2) != 0) {
      // A complete snapshot's places were all seen at its snapshot_at (record_report): only a
      // partial report's sighting is written place by place.
      if (!run.placed.complete) {
        seen_again->reset();
        seen_again->bind_all(run.now, p.place_id).run();
        run.touched[p.identity];  // its standing among the keys breaks ties by that time
      }
      continue;
    }
    if (exists) run.touched[find->text(1)];  // its identity may have changed: its old one has a host less
    run.touched[p.identity].insert(p.place_id);
    add_identity->reset();
    add_identity->bind(1, p.identity).run();
    if (exists) {
      update->reset();
      update_place(*update, p, run.now);
    } else {
      insert->reset();
      insert_place(*insert, run.agent_id, p, run.now);
    }
    if (!exists || reopened) {
      ++run.out.new_places;
      json d = p.event;
      if (reopened) d["reopened"] = true;
      run.fresh.push_back({p.place_id, p.identity, p.finding_id, std::move(d)});
    }
  }
}

// A complete report is a snapshot: the places this host no longer has are resolved, at most
// `limit` of them per step; true when none is left.
bool SqlStore::resolve_gone_places(IngestRun& run, std::size_t limit) {
  std::vector<std::string> gone;
  {
    auto st = db_->cached("SELECT place_id FROM places WHERE agent_id = ? AND resolved_at = 0");
    st->bind(1, run.agent_id);
    while (gone.size() <= limit && st->step())
      if (!run.placed.place_ids.count(st->text(0))) gone.push_back(st->text(0));
  }
  const bool all = gone.size() <= limit;
  if (!all) gone.pop_back();
  for (const auto& place_id : gone) {
    std::string finding_id, identity, finding_json, rule;
    {
      auto st = db_->cached("SELECT finding_id, identity, finding_json, rule FROM places WHERE place_id = ?");
      st->bind(1, place_id);
      if (!st->step()) continue;
      finding_id = st->text(0);
      identity = st->text(1);
      finding_json = st->text(2);
      rule = st->text(3);
    }
    db_->cached("UPDATE places SET status = 'resolved', resolved_at = ? WHERE place_id = ?")
        ->bind_all(run.now, place_id)
        .run();
    run.touched[identity];  // a host less may change its other places' facts
    json d = {{"rule", rule}};
    put_location(d, parse_json(finding_json));
    add_event(run.now, "resolved", run.agent_id, identity, finding_id, d);
    ++run.out.resolved;
  }
  return all;
}

// Exceptions that expired since: their places are open again once rescored.
void SqlStore::touch_expired_exceptions(IngestRun& run) {
  // The live exception is part of the facts' signature: its expiry rescores every place.
  for (auto& identity : expired_exception_identities(run.now)) run.touched[std::move(identity)];
}

// Read from the exceptions (a few hundred), each checked through its identity's places: the
// cost does not grow with the fleet's excepted places.
std::vector<std::string> SqlStore::expired_exception_identities(std::int64_t now) {
  std::vector<std::string> out;
  auto st = db_->cached(
      "SELECT DISTINCT x.identity FROM exceptions x WHERE x.approved_at != 0 AND x.expires_at <= ? AND EXISTS "
      "(SELECT 1 FROM places p WHERE p.identity = x.identity AND p.exception_id = x.id "
      "AND p.status IN ('excepted', 'false_positive'))");
  st->bind(1, now);
  while (st->step()) out.push_back(st->text(0));
  return out;
}

// "new" events carry the fleet severity, known only after the rescoring.
void SqlStore::add_new_place_events(IngestRun& run) {
  for (auto& n : run.fresh) {
    {
      auto sev = db_->cached("SELECT severity, score FROM places WHERE place_id = ?");
      sev->bind(1, n.place_id);
      if (sev->step()) {
        n.detail["severity"] = sev->text(0);
        n.detail["score"] = sev->integer(1);
      }
    }
    add_event(run.now, "new", run.agent_id, n.identity, n.finding_id, n.detail);
  }
}

void SqlStore::record_report(IngestRun& run) {
  db_->prepare(
         "INSERT INTO reports(agent_id, report_id, received_at, complete, findings, status) "
         "VALUES (?, ?, ?, ?, ?, 'stored') ON CONFLICT(agent_id, report_id) DO UPDATE SET status = 'stored'")
      .bind_all(run.agent_id, run.placed.report_id, run.now, run.placed.complete, run.placed.findings)
      .run();
  // A complete snapshot is now the host's state: the next identical one is recorded in O(1).
  db_->prepare(
         "UPDATE agents SET last_report_at = ?, last_seen_at = GREATEST(last_seen_at, ?), "
         "snapshot_digest = CASE WHEN ? THEN ? ELSE '' END, "
         "snapshot_at = CASE WHEN ? THEN ? ELSE snapshot_at END WHERE id = ?")
      .bind_all(run.now, run.now, run.placed.complete, run.placed.digest, run.placed.complete, run.now, run.agent_id)
      .run();
  run.out.findings = run.placed.findings;
  append_audit(run.by, "report.ingest", run.agent_id,
               {{"report_id", run.placed.report_id},
                {"complete", run.placed.complete},
                {"findings", run.out.findings},
                {"new", run.out.new_places},
                {"resolved", run.out.resolved},
                {"held", run.from_held}},
               run.now);
  run.out.status = IngestOutcome::Status::stored;
}

}  // namespace keyward::collector::detail
