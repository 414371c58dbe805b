// SqliteStore, audit: the hash-chained log (audit_chain.hpp computes and verifies the chain);
// every change elsewhere in the store appends its entry through append_audit in its transaction.
#include "store/sqlite_store.hpp"

#include "store/audit_chain.hpp"

#include <algorithm>

namespace keyward::collector::detail {

using nlohmann::json;

std::vector<AuditEntry> SqliteStore::audit_entries(std::uint64_t since, std::uint64_t limit) {
  std::lock_guard lock(mu_);
  return load_audit(since, std::clamp<std::uint64_t>(limit, 1, 100000));
}

AuditHead SqliteStore::audit_head() {
  std::lock_guard lock(mu_);
  Stmt st = db_->prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (!st.step()) return {};
  return {static_cast<std::uint64_t>(st.integer(0)), st.text(1)};
}

AuditVerdict SqliteStore::verify_audit(const std::optional<AuditHead>& head) {
  std::lock_guard lock(mu_);
  return verify_chain(load_audit(0, static_cast<std::uint64_t>(INT64_MAX)), head);
}

void SqliteStore::audit(const Actor& by, const std::string& action, const std::string& subject, const json& detail) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  append_audit(by, action, subject, detail, wall_clock());
  tx.commit();
}

void SqliteStore::append_audit(const Actor& by, const std::string& action, const std::string& subject,
                               const json& detail, std::int64_t now) {
  AuditEntry e;
  e.prev_hash = kZeroHash;
  {
    Stmt st = db_->prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (st.step()) {
      e.seq = static_cast<std::uint64_t>(st.integer(0));
      e.prev_hash = st.text(1);
    }
  }
  ++e.seq;
  e.time = now;
  e.actor = by.id;
  e.action = action;
  e.subject = subject;
  e.detail = detail.is_null() ? json::object() : detail;
  e.hash = audit_hash(e);
  db_->prepare(
         "INSERT INTO audit(seq, time, actor, action, subject, detail, prev_hash, hash) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(e.seq, e.time, e.actor, e.action, e.subject, e.detail.dump(), e.prev_hash, e.hash)
      .run();
}

std::vector<AuditEntry> SqliteStore::load_audit(std::uint64_t since, std::uint64_t limit) {
  std::vector<AuditEntry> out;
  Stmt st = db_->prepare(
      "SELECT seq, time, actor, action, subject, detail, prev_hash, hash FROM audit WHERE seq > ? "
      "ORDER BY seq LIMIT ?");
  st.bind_all(static_cast<std::int64_t>(std::min<std::uint64_t>(since, INT64_MAX)),
              static_cast<std::int64_t>(std::min<std::uint64_t>(limit, INT64_MAX)));
  while (st.step()) {
    AuditEntry e;
    e.seq = static_cast<std::uint64_t>(st.integer(0));
    e.time = st.integer(1);
    e.actor = st.text(2);
    e.action = st.text(3);
    e.subject = st.text(4);
    // A detail that no longer parses was changed: keep its text so the hash differs.
    json d = json::parse(st.text(5), nullptr, false);
    e.detail = d.is_discarded() ? json(st.text(5)) : d;
    e.prev_hash = st.text(6);
    e.hash = st.text(7);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace keyward::collector::detail
