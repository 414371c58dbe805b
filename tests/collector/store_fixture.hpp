// SPDX-License-Identifier: Apache-2.0
// Test helpers for the collector store: a temporary store, enrolled and approved agents, and
// findings built in C++ (facts and fingerprints only: no key bytes ever reach the store).
#pragma once

#include <keyward/collector/store.hpp>
#include <keyward/protocol/protocol.hpp>
#include <keyward/scanner/finding.hpp>

#include <support/pg_database.hpp>
#include <support/temp_tree.hpp>

#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace keyward::test {

inline constexpr std::int64_t kNow = 1'760'000'000;  // 2025-10-09

// A 64-hex-digit fingerprint made from a small number (distinct per n).
inline std::string fp(int n) {
  std::string s = std::to_string(n);
  return std::string(64 - s.size(), 'a') + s;
}

// An unencrypted private key finding at path with SPKI fp(key).
inline scanner::Finding key_finding(const std::string& id, const std::string& path, int key) {
  scanner::Finding f;
  f.id = id;
  f.rule = "private-key/pkcs8";
  f.kind = scanner::Kind::private_key;
  f.format = scanner::Format::pem_pkcs8;
  f.location.path = path;
  f.file.mode = 0600;
  f.file.owner = "svc";
  f.key = scanner::KeyFacts{};
  f.key->algorithm = "ec";
  f.key->bits = 256;
  f.key->curve = "P-256";
  f.key->spki_sha256 = fp(key);
  return f;
}

// A certificate finding (of key `key`) that expires at not_after.
inline scanner::Finding cert_finding(const std::string& id, const std::string& path, int key, std::int64_t not_after) {
  scanner::Finding f;
  f.id = id;
  f.rule = "certificate/pem";
  f.kind = scanner::Kind::certificate;
  f.format = scanner::Format::pem_cert;
  f.location.path = path;
  f.certificate = scanner::CertFacts{};
  f.certificate->subject = "CN=svc";
  f.certificate->issuer = "CN=svc";
  f.certificate->serial = "01";
  f.certificate->not_before = kNow - 86400;
  f.certificate->not_after = not_after;
  f.certificate->self_signed = true;
  f.certificate->sha256 = fp(9000 + key);
  f.certificate->spki_sha256 = fp(key);
  f.certificate->key_algorithm = "ec";
  return f;
}

inline protocol::Report report(std::vector<scanner::Finding> findings, bool complete = true,
                               std::string id = protocol::new_report_id()) {
  protocol::Report r;
  r.report_id = std::move(id);
  r.result.tool_version = "test";
  r.result.host = {"host", "linux"};
  r.result.scan_id = "s";
  r.result.started_at = kNow;
  r.result.finished_at = kNow;
  r.result.roots = {"/"};
  r.result.complete = complete;
  r.result.findings = std::move(findings);
  return r;
}

inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs SQL on a database file directly, as someone with access to the file could (the store
// must be closed).
inline void tamper(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
}

// One integer a query of the database file reads (through a connection of the test's own).
inline std::int64_t db_integer(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const std::int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// SQL that takes schema 8's additions out of a database (run first by the tests that put a
// database back to an older version: an index must go before the columns it names).
inline const std::string kUndoSchema8 =
    "DROP INDEX places_identity_facts; DROP INDEX places_identity_rank; DROP INDEX identities_spread; "
    "DROP INDEX identities_rank; "
    "ALTER TABLE agents DROP COLUMN snapshot_digest; ALTER TABLE agents DROP COLUMN snapshot_at; "
    "ALTER TABLE identities DROP COLUMN key_hosts; ALTER TABLE identities DROP COLUMN package_hosts; "
    "ALTER TABLE identities DROP COLUMN fleet_signature; "
    "ALTER TABLE identities DROP COLUMN present; ALTER TABLE identities DROP COLUMN hosts; "
    "ALTER TABLE identities DROP COLUMN max_score; ALTER TABLE identities DROP COLUMN exception_id; "
    "ALTER TABLE identities DROP COLUMN false_positive; ALTER TABLE identities DROP COLUMN rank_severity; "
    "ALTER TABLE identities DROP COLUMN rank_raw; ALTER TABLE identities DROP COLUMN rank_positive; "
    "ALTER TABLE identities DROP COLUMN rank_last_seen; ";

// A store in a temporary directory, with helpers to make agents. On SQLite; on PostgreSQL, in a
// database of its own, when the test runs under the CTest fixture `pg` (KEYWARD_TEST_PG): the
// shared store tests run on both engines, and those marked test_suite("sqlite") on SQLite only.
struct StoreFixture {
  TempTree dir;
  std::string db_path = dir.path("keyward.db");
  std::string events_path = dir.path("events.jsonl");
  std::unique_ptr<PgDatabase> pg = PgDatabase::if_configured();
  std::unique_ptr<collector::Store> store = open();
  collector::Actor admin{"token:admin0000000001", collector::Role::admin};
  int agents = 0;

  std::unique_ptr<collector::Store> open() {
    if (pg) return collector::open_postgres_store({pg->conninfo(), nullptr}, events_path, {});
    return collector::open_sqlite_store(db_path, events_path, {});
  }
  bool postgres() const { return pg != nullptr; }
  // Runs SQL on the store's database directly, as someone with access to it could (SQLite: the
  // store must be closed).
  void tamper(const std::string& sql) {
    if (pg) pg->sql(sql);
    else test::tamper(db_path, sql);
  }
  // Everything the store's database holds, as bytes to search for a secret: SQLite's file and
  // its WAL (close the store first to checkpoint it); PostgreSQL's pg_dump of the database.
  std::string database_bytes() {
    if (pg) return pg->dump();
    return file_bytes(db_path) + file_bytes(db_path + "-wal");
  }
  // One integer a query of the store's database reads, through a connection of the test's own.
  std::int64_t integer(const std::string& sql) { return pg ? pg->integer(sql) : test::db_integer(db_path, sql); }
  void reopen() {
    store.reset();
    store = open();
  }

  // Enrolls an agent (pending).
  collector::AgentInfo enroll(const std::string& hostname) {
    const auto token = store->create_enrollment_token(kNow + 3600, admin);
    collector::Enrollment e;
    ++agents;
    e.agent_id = "00000000000000a" + std::to_string(agents);
    e.hostname = hostname;
    e.os = "linux";
    e.cert_sha256 = fp(5000 + agents);
    e.cert_serial = std::to_string(agents);
    e.spki_sha256 = fp(6000 + agents);
    auto a = store->enroll_agent(token.secret, e, kNow);
    REQUIRE(a.has_value());
    return *a;
  }
  // Enrolls and approves an agent.
  collector::AgentInfo agent(const std::string& hostname) {
    auto a = enroll(hostname);
    auto ok = store->approve_agent(a.id, admin, kNow);
    REQUIRE(ok.has_value());
    return *ok;
  }

  collector::Page<collector::FindingRow> all_findings(const std::string& host = {}) {
    collector::FindingQuery q;
    q.status = "all";
    q.host = host;
    return store->findings(q);
  }

  std::vector<collector::Event> events_of(const std::string& type) {
    std::vector<collector::Event> out;
    for (auto& e : store->events(0, 10000))
      if (e.type == type) out.push_back(e);
    return out;
  }
};

// Ids of a finding's risk factors.
inline std::vector<std::string> factor_ids(const nlohmann::json& finding) {
  std::vector<std::string> out;
  for (const auto& f : finding.at("risk").at("factors")) out.push_back(f.at("id").get<std::string>());
  return out;
}

inline bool has_factor(const nlohmann::json& finding, const std::string& id) {
  for (const auto& f : factor_ids(finding))
    if (f == id) return true;
  return false;
}

// Two build hosts, each with one key whose score is at the cap of 100: "/a/low.pem" on a-host
// (the smaller raw) and "/z/high.pem" on z-host (also a weak RSA-1024 key: the larger raw). By
// host name, path or id the smaller raw would come first, so an order by raw is visible.
inline void ingest_two_keys_at_cap(StoreFixture& fx) {
  const auto a = fx.agent("a-host");
  const auto z = fx.agent("z-host");
  for (const auto& h : {a, z}) REQUIRE(fx.store->set_agent_tags(h.id, {"build"}, fx.admin).has_value());
  auto low = key_finding("f1", "/a/low.pem", 1);
  low.file.mode = 0644;
  auto high = key_finding("g1", "/z/high.pem", 2);
  high.file.mode = 0644;
  high.key->algorithm = "rsa";
  high.key->curve.clear();
  high.key->bits = 1024;
  fx.store->ingest(a, report({low}), kNow);
  fx.store->ingest(z, report({high}), kNow);
}

}  // namespace keyward::test
