// SPDX-License-Identifier: Apache-2.0
// SqlStore, exceptions: an analyst requests one for a key identity the fleet has seen, an
// approver who is not the requesting principal approves it (its places become excepted, or
// false_positive for that kind, until it expires).
#include "store/sql_store.hpp"

#include "store/secrets.hpp"

#include <fmt/format.h>

namespace keyward::collector::detail {
namespace {

std::string exception_select(const char* tail) {
  return fmt::format(
      "SELECT id, identity, reason, expires_at, requested_by, approved_by, requested_at, approved_at, kind "
      "FROM exceptions {}",
      tail);
}

ExceptionInfo exception_row(const Stmt& st, std::int64_t now) {
  ExceptionInfo x;
  x.id = st.text(0);
  x.identity = st.text(1);
  x.reason = st.text(2);
  x.expires_at = st.integer(3);
  x.requested_by = st.text(4);
  x.approved_by = st.text(5);
  x.requested_at = st.integer(6);
  x.approved_at = st.integer(7);
  // The column's CHECK admits the two spellings only.
  x.kind = exception_kind_from_string(st.text(8)).value_or(ExceptionKind::accepted_risk);
  x.status = x.expires_at <= now ? "expired" : x.approved_by.empty() ? "pending" : "approved";
  return x;
}

}  // namespace

Outcome<ExceptionInfo> SqlStore::request_exception(const std::string& identity, ExceptionKind kind,
                                                   const std::string& reason, std::int64_t expires_at, const Actor& by,
                                                   std::int64_t now) {
  if (auto bad = check_text("an exception's reason", reason, kMaxReasonLength)) return *bad;
  std::lock_guard lock(mu_);
  if (expires_at <= now) return refuse("invalid", "an exception must expire in the future");
  Transaction tx(*db_);
  {
    Stmt st = db_->prepare("SELECT 1 FROM identities WHERE identity = ?");
    st.bind(1, identity);
    if (!st.step()) return refuse("not_found", fmt::format("no key identity {}", identity));
  }
  ExceptionInfo x;
  x.id = random_hex(8);
  x.kind = kind;
  x.identity = identity;
  x.reason = reason;
  x.expires_at = expires_at;
  x.requested_by = by.id;
  x.requested_at = now;
  x.status = "pending";
  db_->prepare(
         "INSERT INTO exceptions(id, identity, reason, expires_at, requested_by, requested_at, kind) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind_all(x.id, identity, reason, expires_at, by.id, now, std::string(to_string(kind)))
      .run();
  add_event(now, "exception_requested", {}, identity, {},
            {{"exception_id", x.id},
             {"kind", to_string(kind)},
             {"reason", reason},
             {"expires_at", expires_at},
             {"requested_by", by.id}});
  append_audit(by, "exception.request", x.id,
               {{"identity", identity}, {"kind", to_string(kind)}, {"reason", reason}, {"expires_at", expires_at}},
               now);
  tx.commit();
  return x;
}

Outcome<ExceptionInfo> SqlStore::approve_exception(const std::string& id, const Actor& by, std::int64_t now) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  auto x = load_exception(id, now);
  if (!x) return refuse("not_found", fmt::format("no exception {}", id));
  // Separation of duties: whoever asked for it cannot also allow it, with whichever of their
  // tokens (the actor id names the principal, not the token).
  if (x->requested_by == by.id)
    return refuse("separation_of_duties",
                  fmt::format("{} requested exception {} and so cannot approve it: another approver must", by.id, id));
  if (!x->approved_by.empty()) return refuse("conflict", fmt::format("exception {} is already approved", id));
  if (x->expires_at <= now) return refuse("expired", fmt::format("exception {} has expired", id));
  db_->prepare("UPDATE exceptions SET approved_by = ?, approved_at = ? WHERE id = ?").bind_all(by.id, now, id).run();
  recompute_identity(x->identity, now);
  add_event(
      now, "exception_approved", {}, x->identity, {},
      {{"exception_id", id}, {"kind", to_string(x->kind)}, {"approved_by", by.id}, {"expires_at", x->expires_at}});
  append_audit(by, "exception.approve", id,
               {{"identity", x->identity},
                {"kind", to_string(x->kind)},
                {"requested_by", x->requested_by},
                {"expires_at", x->expires_at}},
               now);
  tx.commit();
  return *load_exception(id, now);
}

std::vector<ExceptionInfo> SqlStore::list_exceptions(std::int64_t now) {
  auto db = readers_->lease();
  std::vector<ExceptionInfo> out;
  Stmt st = db->prepare(exception_select("ORDER BY requested_at, id"));
  while (st.step()) out.push_back(exception_row(st, now));
  return out;
}

std::optional<ExceptionInfo> SqlStore::load_exception(const std::string& id, std::int64_t now) {
  Stmt st = db_->prepare(exception_select("WHERE id = ?"));
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return exception_row(st, now);
}

std::optional<ExceptionInfo> SqlStore::live_exception(const std::string& identity, std::int64_t now) {
  Stmt st = db_->prepare(exception_select(
      "WHERE identity = ? AND approved_at != 0 AND expires_at > ? ORDER BY approved_at DESC, id LIMIT 1"));
  st.bind_all(identity, now);
  if (!st.step()) return std::nullopt;
  return exception_row(st, now);
}

}  // namespace keyward::collector::detail
