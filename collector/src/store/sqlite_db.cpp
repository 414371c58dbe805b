// SPDX-License-Identifier: Apache-2.0
// The SQLite engine of a store connection (db.hpp): RAII over sqlite3 handles and statements;
// errors become StoreError.
#include "store/db.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <utility>

namespace keyward::collector::detail {

void fail(sqlite3* db, std::string_view what) {
  throw StoreError(fmt::format("{}: {}", what, db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

namespace {

// GREATEST(a, b, ...) as PostgreSQL has it (the largest integer argument, NULLs left out), so the
// store's SQL says it once for both engines; SQLite's own MAX(a, b) is not PostgreSQL's.
void greatest(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  bool any = false;
  sqlite3_int64 best = 0;
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    const sqlite3_int64 v = sqlite3_value_int64(argv[i]);
    if (!any || v > best) best = v;
    any = true;
  }
  if (any) sqlite3_result_int64(ctx, best);
  else sqlite3_result_null(ctx);
}

class SqliteStmt final : public StmtBackend {
 public:
  SqliteStmt(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt_, nullptr) != SQLITE_OK) {
      fail(db_, fmt::format("cannot prepare '{}'", sql.substr(0, 60)));
    }
  }
  ~SqliteStmt() override { sqlite3_finalize(stmt_); }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  void bind_text(int i, std::string_view v) override {
    if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
      fail(db_, "cannot bind a parameter");
  }
  void bind_integer(int i, std::int64_t v) override {
    if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) fail(db_, "cannot bind a parameter");
  }
  void bind_null(int i) override {
    if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) fail(db_, "cannot bind a parameter");
  }
  bool step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, fmt::format("'{}' failed", sql_.substr(0, 60)));
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) const override {
    const auto* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  std::int64_t integer(int col) const override { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

class SqliteConn final : public DbBackend {
 public:
  SqliteConn(const std::string& path, DbAccess access) {
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
    define_sqlite_functions(db_);
  }
  ~SqliteConn() override { sqlite3_close_v2(db_); }
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  Dialect dialect() const override { return Dialect::sqlite; }
  std::unique_ptr<StmtBackend> prepare(std::string_view sql, bool /*reused*/) override {
    return std::make_unique<SqliteStmt>(db_, sql);
  }
  void exec(std::string_view sql) override {
    const std::string s(sql);
    char* err = nullptr;
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw StoreError(fmt::format("'{}' failed: {}", s.substr(0, 60), msg));
    }
  }
  int changes() override { return sqlite3_changes(db_); }
  void begin_write() override { exec("BEGIN IMMEDIATE"); }
  void begin_read() override { exec("BEGIN DEFERRED"); }
  void end_quietly(bool commit) noexcept override {
    sqlite3_exec(db_, commit ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr);
  }
  std::int64_t schema_version() override {
    SqliteStmt st(db_, "PRAGMA user_version");
    return st.step() ? st.integer(0) : 0;
  }
  // PRAGMA takes no bound parameters; the number comes from the store's code, never from input.
  void set_schema_version(int version) override { exec(fmt::format("PRAGMA user_version = {}", version)); }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

void define_sqlite_functions(sqlite3* db) {
  if (sqlite3_create_function_v2(db, "GREATEST", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, &greatest, nullptr,
                                 nullptr, nullptr) != SQLITE_OK)
    fail(db, "cannot define GREATEST");
}

std::unique_ptr<Db> Db::open_sqlite(const std::string& path, DbAccess access) {
  return std::make_unique<Db>(std::make_unique<SqliteConn>(path, access));
}

sqlite3* Db::sqlite_handle() const {
  const auto* conn = dynamic_cast<const SqliteConn*>(b_.get());
  return conn != nullptr ? conn->handle() : nullptr;
}

}  // namespace keyward::collector::detail
