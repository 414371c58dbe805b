// A thin RAII layer over the SQLite C API for the collector's store: one owned connection,
// prepared statements with bound parameters (never values spliced into SQL text) and a
// transaction guard. Every SQLite error becomes a StoreError naming what was being done.
// Used by: the SqliteStore units (sqlite_*.cpp), migrations.cpp. Not thread-safe: the store serialises access.
#pragma once

#include <keyward/collector/store.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace keyward::collector::detail {

// One prepared statement. Parameters are 1-based as in SQLite; columns 0-based.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&&) = delete;

  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind_null(int i);

  // Binds all arguments from parameter 1 on.
  template <class... A>
  Stmt& bind_all(const A&... a) {
    int i = 0;
    (bind(++i, a), ...);
    return *this;
  }

  // Steps once: true when a row is available, false when done.
  bool step();
  // Steps to completion (for statements that return no rows).
  void run();
  // Resets for another execution (bindings are kept until rebound).
  void reset();

  std::string text(int col) const;
  std::int64_t integer(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

class Db;

// A statement of the connection's cache, lent to one user at a time: reset (bindings cleared)
// when the lease ends, so the next user starts clean. Lease hot statements (one per place of a
// report) instead of preparing them again each time.
class CachedStmt {
 public:
  CachedStmt(Stmt& st, bool& leased) : st_(&st), leased_(&leased) {}
  ~CachedStmt();
  CachedStmt(const CachedStmt&) = delete;
  CachedStmt& operator=(const CachedStmt&) = delete;
  Stmt& operator*() const { return *st_; }
  Stmt* operator->() const { return st_; }

 private:
  Stmt* st_;
  bool* leased_;
};

// An open SQLite connection.
class Db {
 public:
  Db() = default;
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs SQL without parameters (schema, pragmas, BEGIN/COMMIT).
  void exec(std::string_view sql);
  Stmt prepare(std::string_view sql) { return Stmt(db_, sql); }
  // The cached statement of sql (prepared once per connection), reset and lent to the caller;
  // a statement already lent is a programming error (StoreError): prepare a second one instead.
  CachedStmt cached(std::string_view sql);
  // The single integer a query without parameters returns.
  std::int64_t scalar(std::string_view sql);
  // Rows changed by the last statement.
  int changes() const;

  sqlite3* handle() const { return db_; }

  // Called after each Transaction commits (not after a rollback): the store signs the audit
  // head there, once the change is durable.
  void on_commit(std::function<void()> f) { on_commit_ = std::move(f); }
  void committed() {
    if (on_commit_) on_commit_();
  }

 private:
  struct Cached {
    std::unique_ptr<Stmt> stmt;
    bool leased = false;
  };
  sqlite3* db_ = nullptr;
  std::function<void()> on_commit_;
  std::map<std::string, Cached, std::less<>> cache_;  // finalized before the connection closes
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless committed; commit() runs the
// connection's on_commit function after COMMIT.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

// Throws StoreError "what: <sqlite message>" for a failed call.
[[noreturn]] void fail(sqlite3* db, std::string_view what);

}  // namespace keyward::collector::detail
