// SPDX-License-Identifier: Apache-2.0
// Tokens, enrollment and files: secrets are stored as hashes only, one-time tokens are used
// once, the database and events files are private (0600).
#include "store_fixture.hpp"

#include <thread>

#include <sys/stat.h>

using namespace keyward;
using test::kNow;

namespace {

unsigned file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("an API token is found by its secret until revoked and its secret never reaches the database") {
  test::StoreFixture fx;
  const auto t = fx.store->create_token(collector::Role::analyst, "alice", "", 0, fx.admin).value();
  CHECK(t.secret.rfind("kwt_", 0) == 0);
  CHECK(t.secret.size() == 4 + 43);
  CHECK(t.secret.find_first_not_of("kwt_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(t.info.id.size() == 16);

  auto found = fx.store->find_token(t.secret, kNow);
  REQUIRE(found.has_value());
  CHECK(found->id == t.info.id);
  CHECK(found->role == collector::Role::analyst);
  CHECK(found->name == "alice");
  CHECK_FALSE(fx.store->find_token(t.secret + "x", kNow).has_value());
  CHECK_FALSE(fx.store->find_token("", kNow).has_value());

  const auto other = fx.store->create_token(collector::Role::viewer, "bob", "", kNow + 10, fx.admin).value();
  CHECK(fx.store->find_token(other.secret, kNow).has_value());
  CHECK_FALSE(fx.store->find_token(other.secret, kNow + 10).has_value());  // expired

  auto revoked = fx.store->revoke_token(t.info.id, fx.admin);
  REQUIRE(revoked.has_value());
  CHECK(revoked->revoked);
  CHECK_FALSE(fx.store->find_token(t.secret, kNow).has_value());
  CHECK(fx.store->revoke_token(t.info.id, fx.admin).error().code == "conflict");
  CHECK(fx.store->revoke_token("0000000000000000", fx.admin).error().code == "not_found");
  CHECK(fx.store->list_tokens().size() == 2);

  const auto e = fx.store->create_enrollment_token(kNow + 60, fx.admin);
  CHECK(e.secret.rfind("kwe_", 0) == 0);
  CHECK(e.secret.size() == 4 + 43);

  // No secret, nor its random part, in any file of the store.
  fx.store.reset();  // checkpoint the WAL into the database file
  for (const auto& bytes : {fx.database_bytes(), test::file_bytes(fx.events_path)}) {
    CHECK(bytes.find(t.secret.substr(4)) == std::string::npos);
    CHECK(bytes.find(other.secret.substr(4)) == std::string::npos);
    CHECK(bytes.find(e.secret.substr(4)) == std::string::npos);
  }
  CHECK(fx.database_bytes().find(t.info.id) != std::string::npos);  // the database was really read
}

TEST_CASE("a token belongs to a principal, by default its name, and names and principals are bounded text") {
  test::StoreFixture fx;
  const auto laptop = fx.store->create_token(collector::Role::analyst, "alice laptop", "alice", 0, fx.admin).value();
  CHECK(laptop.info.principal == "alice");
  const auto found = fx.store->find_token(laptop.secret, kNow);
  REQUIRE(found.has_value());
  CHECK(found->principal == "alice");
  CHECK(found->name == "alice laptop");
  const auto grafana = fx.store->create_token(collector::Role::viewer, "grafana", "", 0, fx.admin).value();
  CHECK(grafana.info.principal == "grafana");
  for (const auto& t : fx.store->list_tokens()) CHECK(t.principal == (t.id == grafana.info.id ? "grafana" : "alice"));
  // The audit entry names the principal it made the token for.
  CHECK(fx.store->audit_entries(0, 10).at(0).detail.at("principal") == "alice");

  for (const std::string bad : {"al\nice", "\x1b[31malice", "ali\tce", "al\xc2\x9bice", "   ", "\xff\xfe"}) {
    CAPTURE(bad);
    CHECK(fx.store->create_token(collector::Role::viewer, bad, "", 0, fx.admin).error().code == "invalid");
    CHECK(fx.store->create_token(collector::Role::viewer, "ok", bad, 0, fx.admin).error().code == "invalid");
  }
  CHECK(fx.store->create_token(collector::Role::viewer, std::string(201, 'n'), "", 0, fx.admin).error().code ==
        "invalid");
  CHECK(fx.store->create_token(collector::Role::viewer, "ok", std::string(201, 'p'), 0, fx.admin).error().code ==
        "invalid");
  CHECK(fx.store->create_token(collector::Role::viewer, std::string(200, 'n'), "Zoë", 0, fx.admin).has_value());
  CHECK(fx.store->list_tokens().size() == 3);
}

TEST_CASE("the principals migration gives existing tokens their name and existing requests their principal" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  const auto alice = fx.store->create_token(collector::Role::analyst, "alice", "", 0, fx.admin).value();
  const auto alice2 = fx.store->create_token(collector::Role::approver, "alice", "", 0, fx.admin).value();
  const collector::Actor requester{"token:" + alice.info.id, collector::Role::analyst};
  const auto x = fx.store->request_exception("spki:" + test::fp(1), "lab key", kNow + 86400, requester, kNow).value();
  // Back to the first schema: tokens without principals, the request naming its token.
  fx.store.reset();
  test::tamper(
      fx.db_path,
      test::kUndoSchema8 +
          "DROP TABLE migration_cleanups; DROP TABLE migration_items; "
          "ALTER TABLE tokens DROP COLUMN principal; ALTER TABLE audit DROP COLUMN chain; "
          "ALTER TABLE audit DROP COLUMN via; ALTER TABLE identities DROP COLUMN managed_agent; "
          "DROP INDEX places_agent_status; DROP INDEX places_status_rank; ALTER TABLE places DROP COLUMN risk; "
          "ALTER TABLE places DROP COLUMN raw; ALTER TABLE places DROP COLUMN positive_factors; "
          "ALTER TABLE places DROP COLUMN package_owned; ALTER TABLE exceptions DROP COLUMN kind; "
          "ALTER TABLE agents DROP COLUMN source; ALTER TABLE agents DROP COLUMN remote_status; "
          "ALTER TABLE agents DROP COLUMN remote_message; ALTER TABLE agents DROP COLUMN remote_scanned_at; "
          "CREATE INDEX places_status ON places(status, severity_rank); PRAGMA user_version = 1;");
  fx.reopen();
  CHECK(fx.store->schema_version() >= 2);
  for (const auto& t : fx.store->list_tokens()) CHECK(t.principal == t.name);
  CHECK(fx.store->list_exceptions(kNow).at(0).requested_by == "principal:alice");
  // The other token of alice, an approver's, is alice too.
  const collector::Actor alice_approver{collector::principal_actor_id("alice"), collector::Role::approver,
                                        "token:" + alice2.info.id};
  CHECK(fx.store->approve_exception(x.id, alice_approver, kNow + 1).error().code == "separation_of_duties");
}

TEST_CASE("an enrollment token is checked without being consumed and then enrolls exactly one agent") {
  test::StoreFixture fx;
  const auto e = fx.store->create_enrollment_token(kNow + 60, fx.admin);
  auto checked = fx.store->check_enrollment_token(e.secret, kNow);
  REQUIRE(checked.has_value());
  CHECK(*checked == e.id);
  CHECK(fx.store->check_enrollment_token(e.secret, kNow).has_value());  // still unused

  collector::Enrollment en{"0123456789abcdef", "web-9", "linux", test::fp(1), "99", test::fp(2)};
  auto agent = fx.store->enroll_agent(e.secret, en, kNow);
  REQUIRE(agent.has_value());
  CHECK(agent->status == collector::AgentStatus::pending);
  CHECK(agent->hostname == "web-9");
  CHECK(fx.store->agent_by_cert(test::fp(1))->id == "0123456789abcdef");
  CHECK(fx.events_of("agent_enrolled").size() == 1);

  collector::Enrollment second{"0123456789abcde0", "web-10", "linux", test::fp(3), "98", test::fp(4)};
  auto reused = fx.store->enroll_agent(e.secret, second, kNow);
  REQUIRE(reused.has_error());
  CHECK(reused.error().code == "forbidden");
  CHECK(fx.store->check_enrollment_token(e.secret, kNow).error().code == "forbidden");
  CHECK_FALSE(fx.store->agent("0123456789abcde0").has_value());

  const auto late = fx.store->create_enrollment_token(kNow + 60, fx.admin);
  CHECK(fx.store->enroll_agent(late.secret, second, kNow + 61).error().code == "expired");
  CHECK(fx.store->enroll_agent("kwe_unknown", second, kNow).error().code == "forbidden");
  CHECK(fx.store->list_agents().size() == 1);
}

TEST_CASE("the database and events files are created with mode 0600 and kept so at open" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  CHECK(file_mode(fx.db_path) == 0600);
  CHECK(file_mode(fx.db_path + "-wal") == 0600);
  CHECK(file_mode(fx.db_path + "-shm") == 0600);
  CHECK(file_mode(fx.events_path) == 0600);

  fx.store.reset();
  ::chmod(fx.db_path.c_str(), 0644);
  ::chmod(fx.events_path.c_str(), 0644);
  fx.reopen();
  CHECK(file_mode(fx.db_path) == 0600);
  CHECK(file_mode(fx.events_path) == 0600);
}

TEST_CASE("reopening the store keeps its data and its schema version") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  const int version = fx.store->schema_version();
  CHECK(version >= 1);
  fx.reopen();
  CHECK(fx.store->schema_version() == version);
  CHECK(fx.store->findings({}).total == 1);
  CHECK(fx.store->verify_audit(std::nullopt).ok);
}

TEST_CASE("the store is safe to use from several threads at once") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&fx, &a, t] {
      for (int i = 0; i < 10; ++i) {
        fx.store->ingest(
            a, test::report({test::key_finding("f" + std::to_string(t * 100 + i), "/srv/k", t * 100 + i)}, false),
            kNow + i);
        fx.store->findings({});
      }
    });
  for (auto& th : threads) th.join();
  CHECK(fx.store->findings({}).total == 40);
  CHECK(fx.store->counts().reports == 40);
  CHECK(fx.store->verify_audit(std::nullopt).ok);
}
