// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL engine of a store connection (db.hpp), on libpq. Every statement is prepared
// once per connection by its text (PQprepare, then PQexecPrepared): the store runs the same few
// hundred texts over and over, and a parse and plan per execution cost as much as the round trip. Values always travel
// as parameters in text form, results come back whole (the store nests statements on one connection, which single-row
// mode would forbid). Writes whose rows nobody reads (Stmt::run) are pipelined: sent at once, their outcomes read in
// one go before the connection's next read, commit or change count (libpq's pipeline mode). A
// report's ingest is mostly such writes, so its round trips no longer grow with its places.
// Errors carry PostgreSQL's primary message only: its DETAIL field can quote a row's values.
// A connection that breaks (a server restart, a failover) is reset at the next transaction.
#include "store/db.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace keyward::collector::detail {

std::string numbered_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;  // inside '...' or "..."
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += fmt::format("${}", ++n);
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

// Every write transaction of every replica takes this one advisory lock first
// (docs/deployment.md, "Replicas"): "keyward" in ASCII.
constexpr long long kWriteLock = 0x6b657977617264LL;

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

constexpr Oid kByteaOid = 17;  // pg_type.oid of bytea

// A BYTEA column's text form, \x and two hex digits a byte, back to its bytes.
std::string from_hex(std::string_view v) {
  if (v.size() < 2 || v[0] != '\\' || v[1] != 'x') return std::string(v);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  out.reserve((v.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < v.size(); i += 2) out += static_cast<char>((nibble(v[i]) << 4) | nibble(v[i + 1]));
  return out;
}

std::string primary_message(const PGresult* r, PGconn* conn) {
  const char* m = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string msg = m != nullptr ? m : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const auto nl = msg.find('\n');
  return nl == std::string::npos ? msg : msg.substr(0, nl);
}

class PgConn;

class PgStmt final : public StmtBackend {
 public:
  PgStmt(PgConn& conn, std::string_view sql);
  void bind_text(int i, std::string_view v) override {
    param(i) = std::string(v);
    format(i) = 1;
  }
  void bind_integer(int i, std::int64_t v) override {
    param(i) = std::to_string(v);
    format(i) = 0;
  }
  void bind_null(int i) override { param(i).reset(); }
  bool step() override;
  void run() override;
  void reset() override {
    result_.reset();
    row_ = -1;
    params_.clear();
    formats_.clear();
  }
  std::string text(int col) const override {
    const char* v = PQgetvalue(result_.get(), row_, col);
    const auto len = static_cast<std::size_t>(PQgetlength(result_.get(), row_, col));
    if (PQftype(result_.get(), col) == kByteaOid) return from_hex(std::string_view(v, len));
    return std::string(v, len);
  }
  std::int64_t integer(int col) const override {
    const char* v = PQgetvalue(result_.get(), row_, col);
    const auto len = static_cast<std::size_t>(PQgetlength(result_.get(), row_, col));
    if (len == 1 && (v[0] == 't' || v[0] == 'f')) return v[0] == 't' ? 1 : 0;  // a boolean
    std::int64_t out = 0;
    // A numeric with a fraction (an average) reads as its integer part, as in SQLite.
    std::from_chars(v, v + len, out);
    return out;
  }
  bool is_null(int col) const override { return PQgetisnull(result_.get(), row_, col) != 0; }

 private:
  std::optional<std::string>& param(int i) {
    if (i < 1) throw StoreError("parameters are numbered from 1");
    if (params_.size() < static_cast<std::size_t>(i)) {
      params_.resize(static_cast<std::size_t>(i));
      formats_.resize(static_cast<std::size_t>(i), 0);
    }
    return params_[static_cast<std::size_t>(i - 1)];
  }
  int& format(int i) {
    param(i);
    return formats_[static_cast<std::size_t>(i - 1)];
  }
  // The statement's name on the connection (prepared on first use, again after a reconnection).
  const std::string& statement();
  struct Values {
    std::vector<const char*> data;
    std::vector<int> lengths;
  };
  Values values() const;
  void execute();

  PgConn& conn_;
  std::string sql_;                // with $n parameters
  std::string name_;               // its prepared statement's name on the connection
  std::uint64_t prepared_in_ = 0;  // the connection generation name_ belongs to
  std::vector<std::optional<std::string>> params_;
  // Strings go in binary form, their bytes as they are: text (checked as UTF-8 by the server)
  // and BYTEA alike. Integers go as decimal text.
  std::vector<int> formats_;
  Result result_{nullptr, &PQclear};
  int row_ = -1;
};

class PgConn final : public DbBackend {
 public:
  PgConn(const PostgresTarget& target, DbAccess access) : access_(access) {
    // The connection string is expanded in place of dbname; the password, after it, wins.
    const char* keys[] = {"dbname", "password", nullptr};
    const char* values[] = {target.conninfo.c_str(), target.password ? target.password->c_str() : nullptr, nullptr};
    if (values[1] == nullptr) keys[1] = nullptr;
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr) throw StoreError("cannot connect to PostgreSQL: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string msg = primary_message(nullptr, conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      throw StoreError(fmt::format("cannot connect to PostgreSQL: {}", msg));
    }
    set_up();
  }
  ~PgConn() override { PQfinish(conn_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  Dialect dialect() const override { return Dialect::postgres; }
  std::unique_ptr<StmtBackend> prepare(std::string_view sql, bool /*reused: all are*/) override {
    return std::make_unique<PgStmt>(*this, sql);
  }
  void exec(std::string_view sql) override {
    settle();
    Result r(PQexec(conn_, std::string(sql).c_str()), &PQclear);
    check(r.get(), sql);
    changes_ = affected(r.get());
  }
  int changes() override {
    settle();
    return changes_;
  }
  void begin_write() override {
    begin("BEGIN");
    exec(fmt::format("SELECT pg_advisory_xact_lock({})", kWriteLock));
    writing_ = true;
  }
  void commit() override {
    writing_ = false;
    exec("COMMIT");  // settles the pipelined writes first: a failed one fails the commit
  }
  // Writes are pipelined inside a write transaction only: one outside of it (autocommit) must
  // reach the server before the call that made it returns.
  bool pipelining() const { return writing_; }
  void begin_read() override { begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); }
  void end_quietly(bool commit) noexcept override {
    writing_ = false;
    try {
      settle();
    } catch (const StoreError&) {
      commit = false;  // a pipelined write failed: nothing of the transaction may stay
    }
    PQclear(PQexec(conn_, commit ? "COMMIT" : "ROLLBACK"));
  }
  std::int64_t schema_version() override {
    settle();
    // A query of pg_tables under the statement's own snapshot: to_regclass() may answer from a
    // catalog cache that has not yet seen a table another replica just committed (two replicas
    // migrating a new database at once, one waiting on the write lock for the other).
    Result r(PQexec(conn_,
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                    "AND tablename = 'keyward_schema')"),
             &PQclear);
    check(r.get(), "the schema version");
    if (PQntuples(r.get()) != 1 || PQgetvalue(r.get(), 0, 0)[0] != 't') return 0;
    Result v(PQexec(conn_, "SELECT COALESCE(MAX(version), 0) FROM keyward_schema"), &PQclear);
    check(v.get(), "the schema version");
    return std::strtoll(PQgetvalue(v.get(), 0, 0), nullptr, 10);
  }
  void set_schema_version(int version) override {
    exec("CREATE TABLE IF NOT EXISTS keyward_schema(version BIGINT NOT NULL)");
    exec("DELETE FROM keyward_schema");
    exec(fmt::format("INSERT INTO keyward_schema(version) VALUES ({})", version));
  }

  PGconn* handle() { return conn_; }

  // Sends a prepared statement without waiting for its outcome (pipeline mode).
  void send(const std::string& name, const std::string& sql, int n, const char* const* values, const int* lengths,
            const int* formats) {
    if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) != 1)
      throw StoreError("cannot pipeline a statement: " + primary_message(nullptr, conn_));
    if (PQsendQueryPrepared(conn_, name.c_str(), n, values, lengths, formats, 0) != 1)
      throw StoreError(fmt::format("'{}' failed: {}", sql.substr(0, 60), primary_message(nullptr, conn_)));
    pending_.push_back(sql.substr(0, 60));
    if (pending_.size() >= kMaxPending) settle();
  }
  // Reads the outcome of every pipelined statement and leaves pipeline mode; throws the first
  // failure (the statements after it were not run).
  void settle() {
    if (pending_.empty()) return;
    std::string failure;
    if (PQpipelineSync(conn_) != 1) failure = "cannot end a pipeline: " + primary_message(nullptr, conn_);
    for (const auto& sql : pending_) {
      for (PGresult* r; (r = PQgetResult(conn_)) != nullptr;) {
        const auto st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) changes_ = affected(r);
        else if (st != PGRES_PIPELINE_ABORTED && failure.empty())
          failure = fmt::format("'{}' failed: {}", sql, primary_message(r, conn_));
        PQclear(r);
      }
    }
    // The sync's own result, then out of pipeline mode.
    for (PGresult* r; (r = PQgetResult(conn_)) != nullptr;) PQclear(r);
    pending_.clear();
    PQexitPipelineMode(conn_);
    if (!failure.empty()) throw StoreError(failure);
  }
  std::uint64_t generation() const { return generation_; }
  // The name of sql's prepared statement on this connection, prepared on first use. Past
  // kMaxPrepared texts (queries built from filters vary) all are dropped and made again.
  std::string prepared(const std::string& sql) {
    if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
    settle();
    if (prepared_.size() >= kMaxPrepared) {
      exec("DEALLOCATE ALL");
      prepared_.clear();
      ++generation_;
    }
    std::string name = fmt::format("k{}", ++names_);
    Result r(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), &PQclear);
    check(r.get(), sql);
    prepared_.emplace(sql, name);
    return name;
  }
  void check(const PGresult* r, std::string_view sql) {
    const auto st = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
    throw StoreError(fmt::format("'{}' failed: {}", sql.substr(0, 60), primary_message(r, conn_)));
  }
  static int affected(const PGresult* r) {
    const char* n = PQcmdTuples(const_cast<PGresult*>(r));
    return n != nullptr && *n != 0 ? std::atoi(n) : 0;
  }
  void set_changes(int n) { changes_ = n; }

 private:
  // Settings of every session: no notices on stderr; readers are read-only.
  void set_up() {
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    exec("SET client_min_messages = warning");
    if (access_ == DbAccess::read_only) exec("SET default_transaction_read_only = on");
  }
  // Starts a transaction. A connection the server dropped since its last statement (a restart,
  // a failover) is only found broken now: it is reset and the transaction, with nothing done in
  // it yet, started again once.
  void begin(const char* sql) {
    revive();
    try {
      exec(sql);
    } catch (const StoreError&) {
      if (PQstatus(conn_) == CONNECTION_OK) throw;
      revive();
      exec(sql);
    }
  }
  // A broken connection is reset; its prepared statements are gone with it.
  void revive() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
      throw StoreError(fmt::format("cannot reconnect to PostgreSQL: {}", primary_message(nullptr, conn_)));
    ++generation_;
    prepared_.clear();
    pending_.clear();
    writing_ = false;
    set_up();
  }

  static constexpr std::size_t kMaxPrepared = 1000;
  // Pipelined statements in flight at most: their outcomes are read before more are sent, so
  // neither side's socket buffer fills while the other waits.
  static constexpr std::size_t kMaxPending = 128;

  PGconn* conn_ = nullptr;
  DbAccess access_;
  int changes_ = 0;
  std::uint64_t generation_ = 1;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::vector<std::string> pending_;                       // pipelined statements (their SQL's start)
  bool writing_ = false;                                   // inside begin_write's transaction
  std::uint64_t names_ = 0;
};

PgStmt::PgStmt(PgConn& conn, std::string_view sql) : conn_(conn), sql_(numbered_parameters(sql)) {}

const std::string& PgStmt::statement() {
  if (name_.empty() || prepared_in_ != conn_.generation()) {
    name_ = conn_.prepared(sql_);
    prepared_in_ = conn_.generation();
  }
  return name_;
}

PgStmt::Values PgStmt::values() const {
  Values v;
  v.data.reserve(params_.size());
  v.lengths.reserve(params_.size());
  for (const auto& p : params_) {
    v.data.push_back(p ? p->data() : nullptr);
    v.lengths.push_back(p ? static_cast<int>(p->size()) : 0);
  }
  return v;
}

void PgStmt::execute() {
  conn_.settle();
  const std::string& name = statement();
  const Values v = values();
  result_.reset(PQexecPrepared(conn_.handle(), name.c_str(), static_cast<int>(v.data.size()), v.data.data(),
                               v.lengths.data(), formats_.data(), 0));
  conn_.check(result_.get(), sql_);
  conn_.set_changes(PgConn::affected(result_.get()));
}

void PgStmt::run() {
  if (!conn_.pipelining()) {
    StmtBackend::run();
    return;
  }
  const std::string& name = statement();
  const Values v = values();
  conn_.send(name, sql_, static_cast<int>(v.data.size()), v.data.data(), v.lengths.data(), formats_.data());
}

bool PgStmt::step() {
  if (!result_) {
    execute();
    row_ = -1;
  }
  if (PQresultStatus(result_.get()) != PGRES_TUPLES_OK) return false;
  ++row_;
  return row_ < PQntuples(result_.get());
}

}  // namespace

std::unique_ptr<Db> Db::open_postgres(const PostgresTarget& target, DbAccess access) {
  return std::make_unique<Db>(std::make_unique<PgConn>(target, access));
}

}  // namespace keyward::collector::detail

namespace keyward::collector {

bool is_postgres_url(std::string_view database) {
  return database.rfind("postgres://", 0) == 0 || database.rfind("postgresql://", 0) == 0;
}

std::string postgres_conninfo_problem(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    // libpq's message names the part it could not read, never a value.
    std::string msg = err != nullptr ? err : "out of memory";
    PQfreemem(err);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return "it is not a PostgreSQL connection string: " + msg;
  }
  bool password = false;
  for (auto* o = opts; o->keyword != nullptr; ++o)
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr && *o->val != 0) password = true;
  PQconninfoFree(opts);
  if (password)
    return "it holds a password: put the password in database_password_file (or PGPASSWORD), never in the config";
  return {};
}

}  // namespace keyward::collector
