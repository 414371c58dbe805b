// SPDX-License-Identifier: Apache-2.0
// SqlStore, events: new, resolved, agent and exception events, numbered gap-free in the
// database and copied to the events file after each commit (and at open, after a crash).
#include "store/sql_store.hpp"

#include <algorithm>

namespace keyward::collector::detail {

std::vector<Event> SqlStore::events(std::uint64_t since, std::uint64_t limit) {
  auto db = readers_->lease();
  return load_events(*db, since, std::clamp<std::uint64_t>(limit, 1, 10000));
}

std::vector<Event> SqlStore::identity_events(const std::string& identity, std::uint64_t since, std::uint64_t limit) {
  if (identity.empty()) return {};
  auto db = readers_->lease();
  return load_events(*db, since, std::clamp<std::uint64_t>(limit, 1, 10000), identity);
}

void SqlStore::add_event(std::int64_t now, const std::string& type, const std::string& agent_id,
                         const std::string& identity, const std::string& finding_id, const nlohmann::json& detail) {
  // seq = max + 1 in the same statement (one round trip), under the write lock: gap-free.
  db_->cached(
         "INSERT INTO events(seq, time, type, agent_id, identity, finding_id, detail) "
         "SELECT COALESCE(MAX(seq), 0) + 1, CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), "
         "CAST(? AS TEXT), CAST(? AS TEXT) FROM events")
      ->bind_all(now, type, agent_id, identity, finding_id, detail.is_null() ? "{}" : detail.dump())
      .run();
}

std::vector<Event> SqlStore::load_events(Db& db, std::uint64_t since, std::uint64_t limit,
                                         const std::string& identity) {
  std::vector<Event> out;
  // One identity's events are read through the index events_identity (schema 7).
  Stmt st = db.prepare(
      std::string(
          "SELECT e.seq, e.time, e.type, e.agent_id, COALESCE(a.hostname, ''), e.identity, e.finding_id, e.detail "
          "FROM events e LEFT JOIN agents a ON a.id = e.agent_id WHERE e.seq > ?") +
      (identity.empty() ? "" : " AND e.identity = ?") + " ORDER BY e.seq LIMIT ?");
  const auto since_arg = static_cast<std::int64_t>(std::min<std::uint64_t>(since, INT64_MAX));
  const auto limit_arg = static_cast<std::int64_t>(std::min<std::uint64_t>(limit, INT64_MAX));
  if (identity.empty()) st.bind_all(since_arg, limit_arg);
  else st.bind_all(since_arg, identity, limit_arg);
  while (st.step()) {
    Event e;
    e.seq = static_cast<std::uint64_t>(st.integer(0));
    e.time = st.integer(1);
    e.type = st.text(2);
    e.agent_id = st.text(3);
    e.hostname = st.text(4);
    e.identity = st.text(5);
    e.finding_id = st.text(6);
    e.detail = parse_json(st.text(7));
    out.push_back(std::move(e));
  }
  return out;
}

void SqlStore::flush_events() {
  if (!events_) return;
  for (;;) {
    auto batch = load_events(*db_, events_->last_seq(), 1000);
    if (batch.empty()) return;
    events_->append(batch);
    if (batch.size() < 1000) return;
  }
}

}  // namespace keyward::collector::detail
