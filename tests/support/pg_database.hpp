// SPDX-License-Identifier: Apache-2.0
// A fresh PostgreSQL database per test, in the cluster the CTest fixture `pg` started
// (tests/support/pg_cluster.py): KEYWARD_TEST_PG names the file with the cluster's connection
// string. Without it, nothing (the tests run on SQLite). Dropped, with its connections, when the
// test ends.
#pragma once

#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

namespace keyward::test {

class PgDatabase {
 public:
  // A database when KEYWARD_TEST_PG is set; an empty object otherwise.
  static std::unique_ptr<PgDatabase> if_configured() {
    const char* file = std::getenv("KEYWARD_TEST_PG");
    if (file == nullptr || *file == 0) return nullptr;
    std::ifstream in(file);
    std::string admin;
    std::getline(in, admin);
    REQUIRE_MESSAGE(!admin.empty(), "KEYWARD_TEST_PG names no connection string: is the pg fixture running?");
    return std::make_unique<PgDatabase>(admin);
  }

  explicit PgDatabase(std::string admin) : admin_(std::move(admin)) {
    static std::atomic<int> counter{0};
    name_ = "kw_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    run(admin_, "CREATE DATABASE " + name_ +
                    " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' "
                    "LC_CTYPE 'C.UTF-8'");
  }
  ~PgDatabase() {
    PGconn* c = PQconnectdb(admin_.c_str());
    PQclear(PQexec(c, ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
    PQfinish(c);
  }
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  // The test database's connection string.
  std::string conninfo() const { return admin_ + " dbname=" + name_; }

  // Runs SQL in the test database, as someone with access to it could.
  void sql(const std::string& statement) const { run(conninfo(), statement); }
  // The whole database as pg_dump writes it (schema and data, as SQL text).
  std::string dump() const {
    const std::string cmd = "pg_dump --no-owner \"" + conninfo() + "\" 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    REQUIRE(::pclose(p) == 0);
    return out;
  }
  // The integer of the first column of the first row.
  std::int64_t integer(const std::string& query) const {
    PGconn* c = PQconnectdb(conninfo().c_str());
    PGresult* r = PQexec(c, query.c_str());
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    const std::string msg = ok ? "" : PQerrorMessage(c);
    const std::int64_t v = ok ? std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10) : 0;
    PQclear(r);
    PQfinish(c);
    REQUIRE_MESSAGE(ok, msg);
    return v;
  }

 private:
  static void run(const std::string& conninfo, const std::string& statement) {
    PGconn* c = PQconnectdb(conninfo.c_str());
    REQUIRE_MESSAGE(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
    PGresult* r = PQexec(c, statement.c_str());
    const auto st = PQresultStatus(r);
    const std::string msg = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    REQUIRE_MESSAGE((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK), msg);
  }

  std::string admin_;
  std::string name_;
};

}  // namespace keyward::test
