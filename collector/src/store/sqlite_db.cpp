// RAII over sqlite3 handles and statements; errors become StoreError.
#include "store/sqlite_db.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <utility>

namespace keyward::collector::detail {

void fail(sqlite3* db, std::string_view what) {
  throw StoreError(fmt::format("{}: {}", what, db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt_, nullptr) != SQLITE_OK) {
    fail(db_, fmt::format("cannot prepare '{}'", sql.substr(0, 60)));
  }
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt::Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_), sql_(std::move(o.sql_)) { o.stmt_ = nullptr; }

Stmt& Stmt::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, "cannot bind a parameter");
  return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) fail(db_, "cannot bind a parameter");
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) fail(db_, "cannot bind a parameter");
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, fmt::format("'{}' failed", sql_.substr(0, 60)));
}

void Stmt::run() {
  while (step()) {
  }
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::int64_t Stmt::integer(int col) const { return sqlite3_column_int64(stmt_, col); }

bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Db::Db(const std::string& path, DbAccess access) {
  // One thread at a time uses a connection (the store's lock, or a reader's lease), so the
  // connection needs none of SQLite's mutexes.
  const int flags =
      (access == DbAccess::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(fmt::format("cannot open the database {}: {}", path, msg));
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

CachedStmt::~CachedStmt() {
  st_->reset();
  *leased_ = false;
}

CachedStmt Db::cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(std::string(sql), Cached{std::make_unique<Stmt>(db_, sql)}).first;
  if (it->second.leased) throw StoreError(fmt::format("statement '{}' is already in use", sql.substr(0, 60)));
  it->second.leased = true;
  return CachedStmt(*it->second.stmt, it->second.leased);
}

void Db::exec(std::string_view sql) {
  const std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StoreError(fmt::format("'{}' failed: {}", s.substr(0, 60), msg));
  }
}

std::int64_t Db::scalar(std::string_view sql) {
  Stmt st = prepare(sql);
  if (!st.step()) return 0;
  return st.integer(0);
}

int Db::changes() const { return sqlite3_changes(db_); }

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
  db_.committed();
}

ReadTransaction::ReadTransaction(Db& db) : db_(db) { db_.exec("BEGIN DEFERRED"); }

ReadTransaction::~ReadTransaction() { sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr); }

ReaderPool::ReaderPool(std::string path, std::size_t max_connections, std::string pragmas)
    : path_(std::move(path)), max_(std::max<std::size_t>(1, max_connections)), pragmas_(std::move(pragmas)) {}

ReaderPool::Lease::Lease(ReaderPool& pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {
  try {
    tx_.emplace(*db_);
  } catch (...) {
    pool_.give_back(std::move(db_));
    throw;
  }
}

ReaderPool::Lease::~Lease() {
  tx_.reset();
  pool_.give_back(std::move(db_));
}

ReaderPool::Lease ReaderPool::lease() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || opened_ < max_; });
  if (!idle_.empty()) {
    std::unique_ptr<Db> db = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(db));
  }
  ++opened_;
  lock.unlock();
  std::unique_ptr<Db> db;
  try {
    db = std::make_unique<Db>(path_, DbAccess::read_only);
    db->exec("PRAGMA busy_timeout = 5000");
    if (!pragmas_.empty()) db->exec(pragmas_);
  } catch (...) {
    give_back(nullptr);
    throw;
  }
  return Lease(*this, std::move(db));
}

void ReaderPool::give_back(std::unique_ptr<Db> db) {
  {
    std::lock_guard lock(mu_);
    if (db) idle_.push_back(std::move(db));
    else --opened_;  // a connection that failed to open
  }
  cv_.notify_one();
}

}  // namespace keyward::collector::detail
