// SPDX-License-Identifier: Apache-2.0
// The collector store's connection to its database, SQLite or PostgreSQL
// (docs/architecture.md, "Collector store"): one owned connection, prepared statements with
// bound parameters (never values spliced into SQL text) and transaction guards. Every database
// error becomes a StoreError naming what was being done.
// The store's SQL is written once, with `?` parameters, in the subset both engines read alike;
// where they differ the store asks Db::dialect(). The engines live behind DbBackend:
// sqlite_db.cpp and pg_db.cpp.
// Used by: the SqlStore units (sql_*.cpp), migrations.cpp, sqlite_backup.cpp. A Db is not
// thread-safe: the store's writer connection is behind its lock, and each reader connection is
// lent to one thread at a time (ReaderPool).
#pragma once

#include <keyward/collector/store.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace keyward::collector::detail {

enum class Dialect { sqlite, postgres };

// One engine's prepared statement (sqlite_db.cpp, pg_db.cpp).
class StmtBackend {
 public:
  virtual ~StmtBackend() = default;
  virtual void bind_text(int i, std::string_view v) = 0;
  virtual void bind_integer(int i, std::int64_t v) = 0;
  virtual void bind_null(int i) = 0;
  virtual bool step() = 0;
  // Executes for the side effect only (rows, if any, are dropped). An engine may send it and
  // collect its outcome later, before anything else reads from the connection: PostgreSQL
  // pipelines such writes inside a write transaction (an error then surfaces at the
  // connection's next read or at the commit, and the transaction rolls back).
  virtual void run() {
    while (step()) {
    }
  }
  virtual void reset() = 0;
  virtual std::string text(int col) const = 0;
  virtual std::int64_t integer(int col) const = 0;
  virtual bool is_null(int col) const = 0;
};

// One engine's connection.
class DbBackend {
 public:
  virtual ~DbBackend() = default;
  virtual Dialect dialect() const = 0;
  // reused: the statement cache's, executed many times (PostgreSQL prepares it server-side).
  virtual std::unique_ptr<StmtBackend> prepare(std::string_view sql, bool reused) = 0;
  virtual void exec(std::string_view sql) = 0;
  // Rows changed by the last statement (PostgreSQL: once its pipelined writes have answered).
  virtual int changes() = 0;
  // Starts a write transaction that excludes every other writer of the database, in any
  // process: SQLite's BEGIN IMMEDIATE; on PostgreSQL a transaction-scoped advisory lock, so
  // replicas write one at a time as one SQLite writer does (docs/deployment.md, "Replicas").
  virtual void begin_write() = 0;
  // Starts a read-only transaction over one committed state.
  virtual void begin_read() = 0;
  // Commits the transaction begin_write or begin_read started.
  virtual void commit() { exec("COMMIT"); }
  // COMMIT or ROLLBACK from a destructor: errors are dropped.
  virtual void end_quietly(bool commit) noexcept = 0;
  // The schema version (SQLite's user_version; a table on PostgreSQL).
  virtual std::int64_t schema_version() = 0;
  virtual void set_schema_version(int version) = 0;
};

// One prepared statement. Parameters are 1-based as in SQLite; columns 0-based.
class Stmt {
 public:
  explicit Stmt(std::unique_ptr<StmtBackend> b) : b_(std::move(b)) {}

  Stmt& bind(int i, std::string_view v) {
    b_->bind_text(i, v);
    return *this;
  }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, std::int64_t v) {
    b_->bind_integer(i, v);
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind_null(int i) {
    b_->bind_null(i);
    return *this;
  }

  // Binds all arguments from parameter 1 on.
  template <class... A>
  Stmt& bind_all(const A&... a) {
    int i = 0;
    (bind(++i, a), ...);
    return *this;
  }

  // Steps once: true when a row is available, false when done.
  bool step() { return b_->step(); }
  // Runs for the side effect (statements whose rows are not read): StmtBackend::run.
  void run() { b_->run(); }
  // Resets for another execution (bindings are cleared).
  void reset() { b_->reset(); }

  std::string text(int col) const { return b_->text(col); }
  // An integer column; a boolean expression reads as 0 or 1 on both engines.
  std::int64_t integer(int col) const { return b_->integer(col); }
  bool is_null(int col) const { return b_->is_null(col); }

 private:
  std::unique_ptr<StmtBackend> b_;
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

// How a connection opens its database.
enum class DbAccess { read_write, read_only };

// An open connection.
class Db {
 public:
  explicit Db(std::unique_ptr<DbBackend> b) : b_(std::move(b)) {}
  // SQLite: the database file at path.
  static std::unique_ptr<Db> open_sqlite(const std::string& path, DbAccess access = DbAccess::read_write);
  // PostgreSQL: a libpq connection string (postgres://... or key=value) and the password apart
  // (may be null); neither is ever logged or put in an error.
  static std::unique_ptr<Db> open_postgres(const PostgresTarget& target, DbAccess access = DbAccess::read_write);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Dialect dialect() const { return b_->dialect(); }
  bool postgres() const { return dialect() == Dialect::postgres; }
  // Runs SQL without parameters (schema, pragmas).
  void exec(std::string_view sql) { b_->exec(sql); }
  Stmt prepare(std::string_view sql) { return Stmt(b_->prepare(sql, false)); }
  // The cached statement of sql (prepared once per connection), reset and lent to the caller;
  // a statement already lent is a programming error (StoreError): prepare a second one instead.
  CachedStmt cached(std::string_view sql);
  // The single integer a query without parameters returns.
  std::int64_t scalar(std::string_view sql);
  // Rows changed by the last statement.
  int changes() { return b_->changes(); }
  DbBackend& backend() { return *b_; }
  // The SQLite handle (the online backup); null on PostgreSQL.
  sqlite3* sqlite_handle() const;

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
  std::unique_ptr<DbBackend> b_;
  std::function<void()> on_commit_;
  std::map<std::string, Cached, std::less<>> cache_;  // finalized before the connection closes
};

// A write transaction (DbBackend::begin_write) on construction; ROLLBACK on destruction unless
// committed; commit() runs the connection's on_commit function after COMMIT.
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

// A read transaction: the statements inside see one committed state of the database (SQLite
// WAL, PostgreSQL REPEATABLE READ), whatever the writer commits meanwhile; it never blocks it.
class ReadTransaction {
 public:
  explicit ReadTransaction(Db& db);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Db& db_;
};

// Read-only connections to one database, opened on demand up to a maximum and lent one per
// reading call (docs/architecture.md, "Collector store"): reads run beside the writer and each
// other instead of queueing behind the store's write lock. A lease is also a read transaction.
class ReaderPool {
 public:
  // open: makes one more read-only connection (with its settings, e.g. a cache size).
  ReaderPool(std::function<std::unique_ptr<Db>()> open, std::size_t max_connections);
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  class Lease {
   public:
    Lease(ReaderPool& pool, std::unique_ptr<Db> db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Db& operator*() const { return *db_; }
    Db* operator->() const { return db_.get(); }

   private:
    ReaderPool& pool_;
    std::unique_ptr<Db> db_;
    std::optional<ReadTransaction> tx_;
  };
  // A connection of the pool, in a read transaction until the lease ends; waits while all
  // max_connections are lent.
  Lease lease();

 private:
  void give_back(std::unique_ptr<Db> db);
  std::function<std::unique_ptr<Db>()> open_;
  std::size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Db>> idle_;
  std::size_t opened_ = 0;
};

// Defines on a SQLite connection the functions the store's SQL uses that SQLite lacks:
// GREATEST(a, b, ...) as PostgreSQL's. Every Db::open_sqlite connection has them.
void define_sqlite_functions(sqlite3* db);

// Throws StoreError "what: <sqlite message>" for a failed SQLite call.
[[noreturn]] void fail(sqlite3* db, std::string_view what);

// A translation of SQL written with `?` parameters into PostgreSQL's `$1, $2, ...` (a `?` inside
// a quoted string or identifier is left as it is); pg_db.cpp, public for its test.
std::string numbered_parameters(std::string_view sql);

}  // namespace keyward::collector::detail
