// SPDX-License-Identifier: Apache-2.0
// SqlStore, tokens: API tokens (role, name, principal, expiry; only the secret's SHA-256 is kept) and
// one-time enrollment tokens (consumed by enroll_agent in sql_agents.cpp).
#include "store/sql_store.hpp"

#include "store/secrets.hpp"

#include <fmt/format.h>

namespace keyward::collector::detail {
namespace {

std::string token_select(const char* tail) {
  return fmt::format("SELECT id, role, name, created_at, expires_at, revoked_at, principal FROM tokens {}", tail);
}

TokenInfo token_row(const Stmt& st) {
  TokenInfo t;
  t.id = st.text(0);
  t.role = role_from_string(st.text(1)).value_or(Role::viewer);
  t.name = st.text(2);
  t.created_at = st.integer(3);
  t.expires_at = st.integer(4);
  t.revoked = st.integer(5) != 0;
  t.principal = st.text(6);
  return t;
}

}  // namespace

Outcome<NewToken> SqlStore::create_token(Role role, const std::string& name, const std::string& principal,
                                         std::int64_t expires_at, const Actor& by) {
  const std::string& holder = principal.empty() ? name : principal;
  if (auto bad = check_text("the token's name", name, kMaxNameLength)) return *bad;
  if (auto bad = check_text("the token's principal", holder, kMaxNameLength)) return *bad;
  std::lock_guard lock(mu_);
  NewToken t;
  t.secret = new_secret("kwt_");
  t.info.id = random_hex(8);
  t.info.role = role;
  t.info.name = name;
  t.info.principal = holder;
  t.info.created_at = wall_clock();
  t.info.expires_at = expires_at;
  Transaction tx(*db_);
  db_->prepare(
         "INSERT INTO tokens(id, hash, role, name, principal, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind_all(t.info.id, sha256_hex(t.secret), std::string(to_string(role)), name, holder, t.info.created_at,
                expires_at)
      .run();
  append_audit(by, "token.create", t.info.id,
               {{"role", to_string(role)}, {"name", name}, {"principal", holder}, {"expires_at", expires_at}},
               t.info.created_at);
  tx.commit();
  return t;
}

std::optional<TokenInfo> SqlStore::find_token(std::string_view secret, std::int64_t now) {
  auto db = readers_->lease();
  Stmt st = db->prepare(token_select("WHERE hash = ?"));
  st.bind(1, sha256_hex(secret));
  if (!st.step()) return std::nullopt;
  TokenInfo t = token_row(st);
  if (t.revoked || (t.expires_at != 0 && t.expires_at <= now)) return std::nullopt;
  return t;
}

std::vector<TokenInfo> SqlStore::list_tokens() {
  auto db = readers_->lease();
  std::vector<TokenInfo> out;
  Stmt st = db->prepare(token_select("ORDER BY created_at, id"));
  while (st.step()) out.push_back(token_row(st));
  return out;
}

Outcome<TokenInfo> SqlStore::revoke_token(const std::string& id, const Actor& by) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  Stmt st = db_->prepare(token_select("WHERE id = ?"));
  st.bind(1, id);
  if (!st.step()) return refuse("not_found", fmt::format("no token {}", id));
  TokenInfo t = token_row(st);
  if (t.revoked) return refuse("conflict", fmt::format("token {} is already revoked", id));
  const std::int64_t now = wall_clock();
  db_->prepare("UPDATE tokens SET revoked_at = ? WHERE id = ?").bind_all(now, id).run();
  append_audit(by, "token.revoke", id, {{"name", t.name}, {"principal", t.principal}, {"role", to_string(t.role)}},
               now);
  tx.commit();
  t.revoked = true;
  return t;
}

NewEnrollmentToken SqlStore::create_enrollment_token(std::int64_t expires_at, const Actor& by) {
  std::lock_guard lock(mu_);
  NewEnrollmentToken t;
  t.secret = new_secret("kwe_");
  t.id = random_hex(8);
  t.expires_at = expires_at;
  const std::int64_t now = wall_clock();
  Transaction tx(*db_);
  db_->prepare("INSERT INTO enrollment_tokens(id, hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?)")
      .bind_all(t.id, sha256_hex(t.secret), now, by.id, expires_at)
      .run();
  append_audit(by, "enrollment_token.create", t.id, {{"expires_at", expires_at}}, now);
  tx.commit();
  return t;
}

Outcome<std::string> SqlStore::check_enrollment_token(std::string_view secret, std::int64_t now) {
  std::lock_guard lock(mu_);
  return check_enrollment(secret, now);
}

Outcome<std::string> SqlStore::check_enrollment(std::string_view secret, std::int64_t now) {
  Stmt st = db_->prepare("SELECT id, expires_at, used_at FROM enrollment_tokens WHERE hash = ?");
  st.bind(1, sha256_hex(secret));
  if (!st.step()) return refuse("forbidden", "unknown enrollment token");
  if (st.integer(2) != 0) return refuse("forbidden", "the enrollment token was already used");
  if (st.integer(1) != 0 && st.integer(1) <= now) return refuse("expired", "the enrollment token has expired");
  // in_place: Refusal is an aggregate, so a bare string would be ambiguous (C++20 paren-init).
  return Outcome<std::string>(boost::system::in_place_value, st.text(0));
}

}  // namespace keyward::collector::detail
