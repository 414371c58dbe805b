// SPDX-License-Identifier: Apache-2.0
// SqlStore, migration into HSM storage (docs/migration.md, "The collector's part"): the fleet
// plan is built from the inventory on each read (migrate::build_plan) and each item's stored life
// is laid over it: an analyst requests, an approver who is not the requesting principal approves
// or refuses, the agent of the host that holds the key reports the run. An approval is bound to
// the places it was given for; a change there puts the item back to proposed. Every change is
// audited and evented in its transaction. Nothing secret is stored: items and results are facts.
#include "store/sql_store.hpp"

#include <keyward/migrate/execute.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace keyward::collector::detail {
namespace {

using json = nlohmann::json;
using migrate::ItemState;

// The open (or excepted: an accepted risk still wants its migration) places of private keys and
// key stores, and the certificates of those keys, on approved agents' hosts.
constexpr const char* kPlanPlaces =
    "SELECT p.place_id, p.agent_id, a.hostname, p.identity, p.finding_json, p.risk, COALESCE(i.key_hosts, 0), "
    "COALESCE(i.package_hosts, 0) FROM places p "
    "JOIN agents a ON a.id = p.agent_id LEFT JOIN identities i ON i.identity = p.identity WHERE a.status = 'approved' "
    "AND p.status IN ('open', 'excepted') AND "
    "(p.holds_key = 1 OR (p.kind = 'certificate' AND p.identity IN "
    "(SELECT k.identity FROM places k WHERE k.holds_key = 1 AND k.status IN ('open', 'excepted')))) "
    "ORDER BY p.place_id";

constexpr const char* kRowColumns =
    "SELECT item_id, identity, state, strategy, item_json, binding_json, requested_by, approved_by, refused_by, "
    "decision_reason, result_json, requested_at, decided_at FROM migration_items";

// What an approval is bound to: each place's host, path, finding id, file size and mtime, in
// one order. Another set of places, or a changed file at one, gives other text.
// A path that is not UTF-8 is compared by its text with U+FFFD for the bad bytes (the finding id
// beside it still tells two such places apart).
constexpr auto kReplaceBadUtf8 = nlohmann::json::error_handler_t::replace;

std::string binding_of(const migrate::PlanItem& item) {
  std::vector<std::string> places;
  for (const auto& p : item.places)
    places.push_back(json{
        {"agent_id", p.agent_id},
        {"host", p.host},
        {"path", p.path},
        {"member", p.member},
        {"finding_id", p.finding_id},
        {"file_size", p.file_size},
        {"file_mtime",
         p.file_mtime}}.dump(-1, ' ', false, kReplaceBadUtf8));
  std::sort(places.begin(), places.end());
  json out = json::array();
  for (const auto& p : places) out.push_back(json::parse(p));
  return out.dump(-1, ' ', false, kReplaceBadUtf8);
}

ItemState state_of(const std::string& name) {
  return migrate::item_state_from_string(name).value_or(ItemState::proposed);
}

void overlay(migrate::PlanItem& item, const MigrationRow& row) {
  item.state = state_of(row.state);
  item.requested_by = row.requested_by;
  item.requested_at = row.requested_at;
  item.approved_by = row.approved_by;
  item.refused_by = row.refused_by;
  item.decided_at = row.decided_at;
  item.decision_reason = row.decision_reason;
}

bool requested(const MigrationRow& row) { return row.state == "proposed" && !row.requested_by.empty(); }

// The facts of a result the audit log keeps (a result holds no secret; this is what a reader of
// the log needs).
json result_detail(const migrate::PlanItem& item, const migrate::ItemResult& r) {
  const auto& v = r.verification;
  json d{{"identity", item.identity},
         {"host", r.host},
         {"strategy", migrate::to_string(r.strategy)},
         {"outcome", migrate::to_string(r.outcome)},
         {"message", r.message.substr(0, kMaxReasonLength)}};
  if (r.outcome == migrate::Outcome::failed) d["failed_at"] = migrate::to_string(r.failed_at);
  if (!r.key_id.empty()) d["key_id"] = r.key_id;
  if (!r.label.empty()) d["label"] = r.label;
  if (!r.new_spki_sha256.empty()) d["new_spki_sha256"] = r.new_spki_sha256;
  d["verification"] = json{
      {"signature_ok", v.signature_ok}, {"public_key_matches", v.public_key_matches},       {"sensitive", v.sensitive},
      {"extractable", v.extractable},   {"private_value_refused", v.private_value_refused}, {"mechanism", v.mechanism}};
  return d;
}

// An event's detail: the audit entry's facts plus more.
json merged(json facts, const json& more) {
  facts.update(more);
  return facts;
}

bool verified(const migrate::ItemResult& r) { return r.verification.signature_ok && !r.verification.extractable; }

}  // namespace

std::map<std::string, MigrationRow> SqlStore::load_migration_rows() {
  std::map<std::string, MigrationRow> out;
  Stmt st = db_->prepare(kRowColumns);
  while (st.step()) {
    MigrationRow r;
    r.item_id = st.text(0);
    r.identity = st.text(1);
    r.state = st.text(2);
    r.strategy = st.text(3);
    r.item_json = st.text(4);
    r.binding_json = st.text(5);
    r.requested_by = st.text(6);
    r.approved_by = st.text(7);
    r.refused_by = st.text(8);
    r.decision_reason = st.text(9);
    r.result_json = st.text(10);
    r.requested_at = st.integer(11);
    r.decided_at = st.integer(12);
    out.emplace(r.item_id, std::move(r));
  }
  return out;
}

void SqlStore::write_migration_row(const MigrationRow& r, std::int64_t now) {
  db_->prepare(
         "INSERT INTO migration_items(item_id, identity, state, strategy, item_json, binding_json, "
         "requested_by, requested_at, approved_by, refused_by, decided_at, decision_reason, result_json, updated_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(item_id) DO UPDATE SET "
         "identity = excluded.identity, state = excluded.state, strategy = excluded.strategy, "
         "item_json = excluded.item_json, binding_json = excluded.binding_json, requested_by = excluded.requested_by, "
         "requested_at = excluded.requested_at, approved_by = excluded.approved_by, refused_by = excluded.refused_by, "
         "decided_at = excluded.decided_at, decision_reason = excluded.decision_reason, "
         "result_json = excluded.result_json, updated_at = excluded.updated_at")
      .bind_all(r.item_id, r.identity, r.state, r.strategy, r.item_json, r.binding_json, r.requested_by, r.requested_at,
                r.approved_by, r.refused_by, r.decided_at, r.decision_reason, r.result_json, now)
      .run();
}

migrate::Plan SqlStore::inventory_plan(std::int64_t now) {
  std::vector<migrate::PlacedFinding> placed;
  Stmt st = db_->prepare(kPlanPlaces);
  while (st.step()) {
    json j = parse_json(st.text(4));
    if (const std::string risk = st.text(5); !risk.empty()) j["risk"] = parse_json(risk);
    if (auto risk = j.find("risk"); risk != j.end())
      fill_fleet_counts(*risk, static_cast<std::uint64_t>(st.integer(6)), static_cast<std::uint64_t>(st.integer(7)));
    auto finding = scanner::finding_from_json(j);
    if (!finding) continue;  // stored by this collector: a place that no longer decodes is skipped
    placed.push_back(migrate::PlacedFinding{st.text(2), st.text(1), st.text(0), st.text(3), std::move(*finding)});
  }
  migrate::PlanOptions options;
  options.now = scanner::rfc3339(now);
  options.scope = "fleet";
  return migrate::build_plan(placed, targets_, options);
}

void SqlStore::invalidate_changed(const migrate::Plan& plan, std::map<std::string, MigrationRow>& rows,
                                  std::int64_t now) {
  for (auto& [id, row] : rows) {
    if (row.state != "approved") continue;
    const std::string& item_id = row.item_id;  // a structured binding cannot be captured (clang 14)
    const auto it =
        std::find_if(plan.items.begin(), plan.items.end(), [&](const migrate::PlanItem& i) { return i.id == item_id; });
    const std::string binding = it == plan.items.end() ? "[]" : binding_of(*it);
    if (binding == row.binding_json) continue;
    const json before = parse_json(row.binding_json);
    const json after = parse_json(binding);
    const std::string approved_by = row.approved_by;
    row.state = "proposed";
    row.approved_by.clear();
    row.decided_at = 0;
    row.binding_json.clear();
    write_migration_row(row, now);
    db_->prepare("DELETE FROM migration_cleanups WHERE item_id = ?").bind_all(row.item_id).run();
    const json detail{{"identity", row.identity},
                      {"approved_by", approved_by},
                      {"places_approved", before.size()},
                      {"places_now", after.size()},
                      {"why",
                       "a place of the key changed (file, size or mtime) or the set of places changed since "
                       "the approval"}};
    const std::string agent = it == plan.items.end() ? std::string() : it->migrate_on.agent_id;
    add_event(now, "migration_invalidated", agent, row.identity, {}, merged(detail, {{"item_id", row.item_id}}));
    append_audit(Actor{"collector", std::nullopt}, "migration.invalidated", row.item_id, detail, now);
  }
}

migrate::Plan SqlStore::current_plan(std::int64_t now) {
  migrate::Plan plan = inventory_plan(now);
  auto rows = load_migration_rows();
  invalidate_changed(plan, rows, now);
  std::set<std::string> seen;
  for (auto& item : plan.items) {
    seen.insert(item.id);
    if (auto it = rows.find(item.id); it != rows.end()) overlay(item, it->second);
  }
  // Items that ran stay visible after their places are gone (a removed source, a cleaned copy).
  for (const auto& [id, row] : rows) {
    if (seen.count(id) != 0 || (row.state != "running" && row.state != "done" && row.state != "failed")) continue;
    try {
      migrate::PlanItem item = migrate::item_from_json(parse_json(row.item_json));
      overlay(item, row);
      plan.items.push_back(std::move(item));
    } catch (const std::exception&) {
      // Written by this collector; an item that no longer decodes is left out of the view.
    }
  }
  return plan;
}

Outcome<migrate::PlanItem> SqlStore::plan_item(const std::string& item_id, std::int64_t now) {
  migrate::Plan plan = current_plan(now);
  for (auto& item : plan.items)
    if (item.id == item_id) return std::move(item);
  return refuse("not_found", fmt::format("no plan item {}", item_id));
}

migrate::Plan SqlStore::fleet_plan(std::int64_t now) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  migrate::Plan plan = current_plan(now);
  tx.commit();
  return plan;
}

Outcome<migrate::PlanItem> SqlStore::request_migration(const std::string& item_id, const std::string& reason,
                                                       const Actor& by, std::int64_t now) {
  if (auto bad = check_text("a migration request's reason", reason, kMaxReasonLength)) return *bad;
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto item = plan_item(item_id, now);
  if (!item) return item.error();
  auto rows = load_migration_rows();
  MigrationRow row;
  if (auto it = rows.find(item_id); it != rows.end()) row = it->second;
  const ItemState state = row.state.empty() ? ItemState::proposed : state_of(row.state);
  if (requested(row)) return refuse("conflict", fmt::format("plan item {} is already requested", item_id));
  if (state != ItemState::proposed && state != ItemState::refused && state != ItemState::failed)
    return refuse("conflict",
                  fmt::format("plan item {} is {}: it cannot be requested again", item_id, migrate::to_string(state)));
  row.item_id = item_id;
  row.identity = item->identity;
  row.state = "proposed";
  row.strategy = std::string(migrate::to_string(item->strategy));
  row.item_json = migrate::item_to_json(*item).dump();
  row.binding_json.clear();
  row.requested_by = by.id;
  row.requested_at = now;
  row.approved_by.clear();
  row.refused_by.clear();
  row.decided_at = 0;
  row.decision_reason = reason;
  write_migration_row(row, now);
  const json detail{{"identity", item->identity},
                    {"strategy", row.strategy},
                    {"host", item->migrate_on.host},
                    {"places", item->places.size()},
                    {"reason", reason}};
  add_event(now, "migration_requested", item->migrate_on.agent_id, item->identity, {},
            merged(detail, {{"item_id", item_id}, {"requested_by", by.id}}));
  append_audit(by, "migration.request", item_id, detail, now);
  tx.commit();
  overlay(*item, row);
  return item;
}

Outcome<migrate::PlanItem> SqlStore::approve_migration(const std::string& item_id, const Actor& by, std::int64_t now) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto item = plan_item(item_id, now);
  if (!item) return item.error();
  auto rows = load_migration_rows();
  auto it = rows.find(item_id);
  if (it == rows.end() || !requested(it->second))
    return refuse("conflict", fmt::format("plan item {} is {}: only a requested item can be approved", item_id,
                                          migrate::to_string(item->state)));
  MigrationRow& row = it->second;
  // Separation of duties, as for exceptions: the requesting principal cannot approve, with
  // whichever of their tokens.
  if (row.requested_by == by.id)
    return refuse("separation_of_duties", fmt::format("{} requested plan item {} and so cannot approve it: another "
                                                      "approver must",
                                                      by.id, item_id));
  if (!item->blockers.empty())
    return refuse("invalid", fmt::format("plan item {} has a blocker ({}): resolve it before approval", item_id,
                                         item->blockers.front().code));
  row.state = "approved";
  row.strategy = std::string(migrate::to_string(item->strategy));
  row.item_json = migrate::item_to_json(*item).dump();
  row.binding_json = binding_of(*item);
  row.approved_by = by.id;
  row.refused_by.clear();
  row.decided_at = now;
  write_migration_row(row, now);
  db_->prepare("DELETE FROM migration_cleanups WHERE item_id = ?").bind_all(item_id).run();
  for (const auto& p : item->places)
    db_->prepare(
           "INSERT INTO migration_cleanups(item_id, agent_id, path, state, updated_at) "
           "VALUES (?, ?, ?, 'pending', ?) ON CONFLICT(item_id, agent_id, path) DO UPDATE SET "
           "state = excluded.state, updated_at = excluded.updated_at")
        .bind_all(item_id, p.agent_id, p.path, now)
        .run();
  const json detail{{"identity", item->identity},
                    {"strategy", row.strategy},
                    {"host", item->migrate_on.host},
                    {"requested_by", row.requested_by},
                    {"binding", parse_json(row.binding_json)}};
  add_event(now, "migration_approved", item->migrate_on.agent_id, item->identity, {},
            json{{"item_id", item_id}, {"approved_by", by.id}, {"strategy", row.strategy}});
  append_audit(by, "migration.approve", item_id, detail, now);
  tx.commit();
  overlay(*item, row);
  return item;
}

Outcome<migrate::PlanItem> SqlStore::refuse_migration(const std::string& item_id, const std::string& reason,
                                                      const Actor& by, std::int64_t now) {
  if (auto bad = check_text("a refusal's reason", reason, kMaxReasonLength)) return *bad;
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto item = plan_item(item_id, now);
  if (!item) return item.error();
  auto rows = load_migration_rows();
  auto it = rows.find(item_id);
  if (it == rows.end() || (!requested(it->second) && it->second.state != "approved"))
    return refuse("conflict", fmt::format("plan item {} is {}: only a requested or approved item can be refused",
                                          item_id, migrate::to_string(item->state)));
  MigrationRow& row = it->second;
  row.state = "refused";
  row.refused_by = by.id;
  row.approved_by.clear();
  row.binding_json.clear();
  row.decided_at = now;
  row.decision_reason = reason;
  write_migration_row(row, now);
  db_->prepare("DELETE FROM migration_cleanups WHERE item_id = ?").bind_all(item_id).run();
  const json detail{{"identity", item->identity}, {"requested_by", row.requested_by}, {"reason", reason}};
  add_event(now, "migration_refused", item->migrate_on.agent_id, item->identity, {},
            merged(detail, {{"item_id", item_id}, {"refused_by", by.id}}));
  append_audit(by, "migration.refuse", item_id, detail, now);
  tx.commit();
  overlay(*item, row);
  return item;
}

std::vector<migrate::PlanItem> SqlStore::migrations_for_agent(const std::string& agent_id, std::int64_t now) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  migrate::Plan plan = current_plan(now);
  std::vector<migrate::PlanItem> out;
  for (auto& item : plan.items) {
    const bool run_here = item.state == ItemState::approved && item.migrate_on.agent_id == agent_id;
    const bool clean_here = item.state == ItemState::done && cleanup_pending(item.id, agent_id);
    if (run_here || clean_here) out.push_back(std::move(item));
  }
  tx.commit();
  return out;
}

bool SqlStore::cleanup_pending(const std::string& item_id, const std::string& agent_id) {
  Stmt st =
      db_->prepare("SELECT 1 FROM migration_cleanups WHERE item_id = ? AND agent_id = ? AND state = 'pending' LIMIT 1");
  st.bind_all(item_id, agent_id);
  return st.step();
}

std::vector<std::string> SqlStore::record_cleanups(const migrate::PlanItem& item, const migrate::ItemResult& r,
                                                   const std::string& agent_id, std::int64_t now) {
  std::vector<std::string> done;
  for (const auto& c : r.cleanups) {
    if (!c.removed) continue;
    for (const auto& p : item.places) {
      const bool here = agent_id.empty() ? p.host == r.host : p.agent_id == agent_id;
      if (!here || p.path != c.path) continue;
      db_->prepare(
             "UPDATE migration_cleanups SET state = 'done', updated_at = ? "
             "WHERE item_id = ? AND agent_id = ? AND path = ? AND state = 'pending'")
          .bind_all(now, item.id, p.agent_id, p.path)
          .run();
      if (db_->changes() > 0) done.push_back(p.host + ":" + p.path);
    }
  }
  return done;
}

Outcome<migrate::PlanItem> SqlStore::record_migration_result(const std::string& item_id, const migrate::ItemResult& r,
                                                             const Actor& by, std::int64_t now) {
  if (!r.item_id.empty() && r.item_id != item_id)
    return refuse("invalid", fmt::format("the result is of item {}, not {}", r.item_id, item_id));
  if (r.outcome == migrate::Outcome::dry_run) return refuse("invalid", "a dry run changes nothing and is not recorded");
  const bool person = by.role == Role::analyst;
  const std::string agent_id = by.id.rfind("agent:", 0) == 0 ? by.id.substr(6) : std::string();
  if (!person && agent_id.empty()) return refuse("forbidden", "results come from an agent or an analyst");
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto item = plan_item(item_id, now);
  if (!item) return item.error();
  auto rows = load_migration_rows();
  auto it = rows.find(item_id);
  if (it == rows.end() ||
      (it->second.state != "approved" && it->second.state != "running" && it->second.state != "done"))
    return refuse("conflict", fmt::format("plan item {} is {}: only an approved item runs", item_id,
                                          migrate::to_string(item->state)));
  MigrationRow& row = it->second;
  if (row.state == "done") {
    if (!person && !cleanup_pending(item_id, agent_id))
      return refuse("forbidden", fmt::format("plan item {} has no clean-up pending on this agent's host", item_id));
    auto cleaned = record_cleanups(*item, r, agent_id, now);
    if (cleaned.empty())
      return refuse("conflict", fmt::format("plan item {} is done: nothing left to record", item_id));
    audit_cleanups(*item, cleaned, by, now);
  } else {
    if (!person && item->migrate_on.agent_id != agent_id)
      return refuse("forbidden", fmt::format("plan item {} migrates on host {}: only that host's agent reports it",
                                             item_id, item->migrate_on.host));
    if (auto bad = apply_result(*item, row, r, by, now)) return *bad;
    write_migration_row(row, now);
  }
  tx.commit();
  overlay(*item, row);
  return item;
}

std::optional<Refusal> SqlStore::apply_result(const migrate::PlanItem& item, MigrationRow& row,
                                              const migrate::ItemResult& r, const Actor& by, std::int64_t now) {
  const bool failed = r.outcome == migrate::Outcome::failed || r.outcome == migrate::Outcome::refused;
  const json detail = result_detail(item, r);
  const std::string& agent = item.migrate_on.agent_id;
  if (r.finished_at.empty() && !failed) {  // the run starts
    if (row.state == "running") return refuse("conflict", fmt::format("plan item {} is running already", item.id));
    row.state = "running";
    add_event(now, "migration_started", agent, item.identity, {}, json{{"item_id", item.id}, {"host", r.host}});
    append_audit(by, "migration.start", item.id, json{{"identity", item.identity}, {"host", r.host}}, now);
    return std::nullopt;
  }
  row.result_json = migrate::result_to_json(r).dump();
  if (failed) {
    row.state = "failed";
    add_event(now, "migration_failed", agent, item.identity, {},
              json{{"item_id", item.id}, {"outcome", migrate::to_string(r.outcome)}, {"host", r.host}});
    append_audit(by, "migration.failed", item.id, detail, now);
    return std::nullopt;
  }
  // done (or skipped: already in the token) counts only with its proof from inside the token.
  if (!verified(r))
    return refuse("invalid",
                  "a done result needs its verification: a signature made in the token and checked "
                  "(verification.signature_ok) and a key that cannot be extracted (verification.extractable false)");
  row.state = "done";
  add_event(now, "migration_done", agent, item.identity, {},
            json{{"item_id", item.id}, {"outcome", migrate::to_string(r.outcome)}, {"host", r.host}});
  append_audit(by, "migration.done", item.id, detail, now);
  if (auto cleaned = record_cleanups(item, r, by.role == Role::analyst ? std::string() : agent, now); !cleaned.empty())
    audit_cleanups(item, cleaned, by, now);
  return std::nullopt;
}

void SqlStore::audit_cleanups(const migrate::PlanItem& item, const std::vector<std::string>& cleaned, const Actor& by,
                              std::int64_t now) {
  Stmt st = db_->prepare("SELECT COUNT(*) FROM migration_cleanups WHERE item_id = ? AND state = 'pending'");
  st.bind_all(item.id);
  const std::int64_t pending = st.step() ? st.integer(0) : 0;
  const json detail{{"identity", item.identity}, {"removed", cleaned}, {"pending", pending}};
  add_event(now, "migration_cleaned", item.migrate_on.agent_id, item.identity, {},
            merged(detail, {{"item_id", item.id}}));
  append_audit(by, "migration.cleanup", item.id, detail, now);
}

}  // namespace keyward::collector::detail
