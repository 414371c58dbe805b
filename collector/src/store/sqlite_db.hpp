// A thin RAII layer over the SQLite C API for the collector's store: one owned connection,
// prepared statements with bound parameters (never values spliced into SQL text) and a
// transaction guard. Every SQLite error becomes a StoreError naming what was being done.
// Used by: the SqliteStore units (sqlite_*.cpp), migrations.cpp. A Db is not thread-safe: the
// store's writer connection is behind its lock, and each reader connection is lent to one
// thread at a time (ReaderPool).
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

// How a connection opens its database.
enum class DbAccess { read_write, read_only };

// An open SQLite connection.
class Db {
 public:
  Db() = default;
  explicit Db(const std::string& path, DbAccess access = DbAccess::read_write);
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

// A read transaction (BEGIN DEFERRED ... COMMIT): the statements inside see one committed state
// of the WAL database, whatever the writer commits meanwhile; it never blocks the writer.
class ReadTransaction {
 public:
  explicit ReadTransaction(Db& db);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Db& db_;
};

// Read-only connections to one WAL database, opened on demand up to a maximum and lent one per
// reading call (docs/architecture.md, "Collector store"): reads run beside the writer and each
// other instead of queueing behind the store's write lock. A lease is also a read transaction.
class ReaderPool {
 public:
  // pragmas: run on each connection as it opens (e.g. its cache size).
  ReaderPool(std::string path, std::size_t max_connections, std::string pragmas = {});
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
  std::string path_;
  std::size_t max_;
  std::string pragmas_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Db>> idle_;
  std::size_t opened_ = 0;
};

// Throws StoreError "what: <sqlite message>" for a failed call.
[[noreturn]] void fail(sqlite3* db, std::string_view what);

}  // namespace keyward::collector::detail
