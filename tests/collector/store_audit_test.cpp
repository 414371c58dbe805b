// The audit log's hash chain: every state change is recorded; a changed, deleted or cut-off
// entry is named by verify.
#include "store_fixture.hpp"

#include <keyward/collector/store.hpp>

#include <openssl/evp.h>
#include <sqlite3.h>

#include <cstdio>

using namespace keyward;
using test::kNow;

namespace {

// Runs SQL on the database file directly, as someone with access to the file could.
void tamper(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
}

// A store with ten audit entries.
struct AuditFixture : test::StoreFixture {
  AuditFixture() {
    const auto a = agent("web-1");  // enrollment token, enroll, approve: 3 entries
    store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
    for (int i = 0; i < 6; ++i) store->audit(admin, "collector.start", "collector", {{"n", i}});
    REQUIRE(store->audit_head().seq == 10);
  }
};

std::string fmt_hex(unsigned char c) {
  char buf[3];
  std::snprintf(buf, sizeof buf, "%02x", c);
  return buf;
}

}  // namespace

TEST_CASE("every state change appends a chained audit entry and the chain verifies") {
  AuditFixture fx;
  const auto entries = fx.store->audit_entries(0, 100);
  REQUIRE(entries.size() == 10);
  CHECK(entries[0].seq == 1);
  CHECK(entries[0].prev_hash == std::string(64, '0'));
  CHECK(entries[0].action == "enrollment_token.create");
  CHECK(entries[1].action == "agent.enroll");
  CHECK(entries[2].action == "agent.approve");
  CHECK(entries[2].actor == fx.admin.id);
  CHECK(entries[3].action == "report.ingest");
  CHECK(entries[3].actor == "agent:00000000000000a1");
  CHECK(entries[3].detail.at("new") == 1);
  for (std::size_t i = 1; i < entries.size(); ++i) CHECK(entries[i].prev_hash == entries[i - 1].hash);
  CHECK(fx.store->audit_entries(8, 100).size() == 2);

  const auto v = fx.store->verify_audit(fx.store->audit_head());
  CHECK(v.ok);
  CHECK(v.entries == 10);
  CHECK(v.problem.empty());
}

TEST_CASE("an audit entry changed in the database file is named by verify") {
  AuditFixture fx;
  fx.store.reset();
  tamper(fx.db_path, "UPDATE audit SET actor = 'token:someoneelse' WHERE seq = 3");
  fx.reopen();
  const auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 3);
  CHECK(v.problem == "entry 3 was changed");
}

TEST_CASE("an audit entry changed with its hash recomputed breaks the link and is named") {
  AuditFixture fx;
  const auto entries = fx.store->audit_entries(0, 100);
  auto e = entries[4];  // seq 5
  e.detail = {{"n", 999}};
  // Recompute the hash as an attacker who knows the scheme would (canonical JSON of the entry).
  const nlohmann::json canon = {
      {"seq", e.seq},         {"time", e.time},     {"actor", e.actor},        {"action", e.action},
      {"subject", e.subject}, {"detail", e.detail}, {"prev_hash", e.prev_hash}};
  unsigned char md[32];
  const std::string text = canon.dump();
  EVP_Digest(text.data(), text.size(), md, nullptr, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned char c : md) hex += fmt_hex(c);
  fx.store.reset();
  tamper(fx.db_path, "UPDATE audit SET detail = '{\"n\":999}', hash = '" + hex + "' WHERE seq = 5");
  fx.reopen();
  const auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 5);
  CHECK(v.problem == "entry 5 was changed");
}

TEST_CASE("a deleted middle audit entry is reported missing") {
  AuditFixture fx;
  fx.store.reset();
  tamper(fx.db_path, "DELETE FROM audit WHERE seq = 6");
  fx.reopen();
  const auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 6);
  CHECK(v.problem == "entry 6 is missing");
}

TEST_CASE("a cut-off tail verifies alone but not against a head exported before the cut") {
  AuditFixture fx;
  const auto head = fx.store->audit_head();
  CHECK(head.seq == 10);
  CHECK(head.hash.size() == 64);
  fx.store.reset();
  tamper(fx.db_path, "DELETE FROM audit WHERE seq > 7");
  fx.reopen();
  CHECK(fx.store->verify_audit(std::nullopt).ok);  // a prefix of a chain is a chain
  const auto v = fx.store->verify_audit(head);
  CHECK_FALSE(v.ok);
  CHECK(v.problem == "the log ends at 7, before the exported head 10");
}

TEST_CASE("a log rewritten from the exported head on is caught by the head's hash") {
  AuditFixture fx;
  const auto head = fx.store->audit_head();
  fx.store.reset();
  tamper(fx.db_path, "DELETE FROM audit WHERE seq = 10");
  fx.reopen();
  fx.store->audit(fx.admin, "collector.start", "collector", {{"n", "replacement"}});
  const auto v = fx.store->verify_audit(head);
  CHECK(fx.store->verify_audit(std::nullopt).ok);
  CHECK_FALSE(v.ok);
  CHECK(v.problem == "entry 10 was changed");
}
