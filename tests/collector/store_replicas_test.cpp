// SPDX-License-Identifier: Apache-2.0
// Two collectors (replicas) on one PostgreSQL database (issue 19, docs/deployment.md
// "Replicas"): each is a store with connections of its own, as two `keyward-collector serve`
// processes are, and both take reports and changes at once. Run under the CTest fixture pg only.
#include "store_fixture.hpp"

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

using namespace keyward;
using test::kNow;

namespace {

// The first replica is the fixture's store; the second opens the same database.
struct Replicas : test::StoreFixture {
  std::string events_b = dir.path("events-b.jsonl");
  std::unique_ptr<collector::Store> b;
  Replicas() {
    REQUIRE_MESSAGE(postgres(), "replica tests need the pg fixture (KEYWARD_TEST_PG)");
    b = collector::open_postgres_store({pg->conninfo(), nullptr}, events_b, {});
  }
};

std::vector<std::uint64_t> event_seqs(const std::string& path) {
  std::vector<std::uint64_t> out;
  std::istringstream in(test::file_bytes(path));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("seq") && j.value("type", "") != "audit_checkpoint") out.push_back(j.at("seq").get<std::uint64_t>());
  }
  return out;
}

std::vector<scanner::Finding> many_keys(const std::string& prefix, int n) {
  std::vector<scanner::Finding> out;
  for (int i = 0; i < n; ++i)
    out.push_back(test::key_finding(prefix + std::to_string(i), "/srv/" + prefix + std::to_string(i) + ".pem", i));
  return out;
}

}  // namespace

TEST_CASE("a report sent to both replicas at once is stored once, and its places and events once") {
  Replicas fx;
  const auto a = fx.agent("web-1");
  // 2,500 places: three transactions each, so the two ingests would interleave without the
  // agent's lock across replicas.
  const auto r = test::report(many_keys("k", 2500));
  collector::IngestOutcome first, second;
  std::thread t([&] { second = fx.b->ingest(a, r, kNow); });
  first = fx.store->ingest(a, r, kNow);
  t.join();
  const auto stored = static_cast<int>(first.status == collector::IngestOutcome::Status::stored) +
                      static_cast<int>(second.status == collector::IngestOutcome::Status::stored);
  const auto duplicate = static_cast<int>(first.status == collector::IngestOutcome::Status::duplicate) +
                         static_cast<int>(second.status == collector::IngestOutcome::Status::duplicate);
  CHECK(stored == 1);
  CHECK(duplicate == 1);
  CHECK(fx.integer("SELECT COUNT(*) FROM reports WHERE report_id = '" + r.report_id + "'") == 1);
  CHECK(fx.integer("SELECT COUNT(*) FROM audit WHERE action = 'report.ingest'") == 1);
  CHECK(fx.all_findings().total == 2500);
  CHECK(fx.events_of("new").size() == 2500);
  // Sent again later to either replica: a duplicate there too.
  CHECK(fx.b->ingest(a, r, kNow + 10).status == collector::IngestOutcome::Status::duplicate);
  CHECK(fx.store->ingest(a, r, kNow + 10).status == collector::IngestOutcome::Status::duplicate);
}

TEST_CASE("the audit log stays one hash chain while both replicas write at once") {
  Replicas fx;
  const auto a = fx.agent("web-1");
  const auto c = fx.agent("web-2");
  const auto before = fx.store->audit_head().seq;
  constexpr int kEach = 60;
  std::atomic<int> failures{0};
  const auto hammer = [&](collector::Store& store, const std::string& who) {
    try {
      for (int i = 0; i < kEach; ++i) store.audit(fx.admin, "collector.start", who, {{"n", i}});
    } catch (const std::exception&) {
      ++failures;
    }
  };
  // Two writer threads on each replica, and an ingest with events on each meanwhile.
  std::vector<std::thread> ts;
  ts.emplace_back(hammer, std::ref(*fx.store), "a1");
  ts.emplace_back(hammer, std::ref(*fx.store), "a2");
  ts.emplace_back(hammer, std::ref(*fx.b), "b1");
  ts.emplace_back(hammer, std::ref(*fx.b), "b2");
  ts.emplace_back([&] { fx.store->ingest(a, test::report(many_keys("a", 300)), kNow); });
  ts.emplace_back([&] { fx.b->ingest(c, test::report(many_keys("c", 300)), kNow); });
  for (auto& t : ts) t.join();
  CHECK(failures == 0);

  // No fork: every entry chains to the one before it, seen from either replica.
  const auto head_a = fx.store->audit_head();
  const auto head_b = fx.b->audit_head();
  CHECK(head_a.seq == head_b.seq);
  CHECK(head_a.hash == head_b.hash);
  CHECK(head_a.seq == before + 4 * kEach + 2);
  CHECK(fx.store->verify_audit(head_a).ok);
  CHECK(fx.b->verify_audit(head_b).ok);
  CHECK(fx.integer("SELECT COUNT(DISTINCT prev_hash) FROM audit") == fx.integer("SELECT COUNT(*) FROM audit"));

  // Events in one order: gap-free in the database, and each replica's file a gap-free prefix
  // of it that the next commit on that replica completes.
  CHECK(fx.integer("SELECT MAX(seq) FROM events") == fx.integer("SELECT COUNT(*) FROM events"));
  fx.store->audit(fx.admin, "collector.start", "flush", {});
  fx.b->audit(fx.admin, "collector.start", "flush", {});
  const auto total = static_cast<std::uint64_t>(fx.integer("SELECT COUNT(*) FROM events"));
  for (const auto& path : {fx.events_path, fx.events_b}) {
    const auto seqs = event_seqs(path);
    REQUIRE(seqs.size() == total);
    for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  }
}

TEST_CASE("an agent revoked on one replica is revoked on the other at its next request") {
  Replicas fx;
  const auto a = fx.agent("web-1");
  const auto seen = fx.b->agent_by_cert(a.cert_sha256);
  REQUIRE(seen.has_value());
  CHECK(seen->status == collector::AgentStatus::approved);
  REQUIRE(fx.store->revoke_agent(a.id, fx.admin, kNow + 1).has_value());
  const auto after = fx.b->agent_by_cert(a.cert_sha256);
  REQUIRE(after.has_value());
  CHECK(after->status == collector::AgentStatus::revoked);
  // A token revoked on one no longer opens the other.
  const auto t = fx.b->create_token(collector::Role::analyst, "ana", "", 0, fx.admin);
  REQUIRE(t.has_value());
  CHECK(fx.store->find_token(t->secret, kNow).has_value());
  REQUIRE(fx.store->revoke_token(t->info.id, fx.admin).has_value());
  CHECK_FALSE(fx.b->find_token(t->secret, kNow).has_value());
}

TEST_CASE("two replicas opening a new database at once migrate it once") {
  test::StoreFixture fx;  // opened (and migrated) the database already: a second round below
  REQUIRE(fx.postgres());
  fx.store.reset();
  fx.pg->sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
  std::unique_ptr<collector::Store> one, two;
  std::string failure;  // an exception of the second thread, reported here instead of ending the run
  std::thread t([&] {
    try {
      two = collector::open_postgres_store({fx.pg->conninfo(), nullptr}, "", {});
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  one = collector::open_postgres_store({fx.pg->conninfo(), nullptr}, "", {});
  t.join();
  CHECK_MESSAGE(failure.empty(), failure);
  REQUIRE(one);
  REQUIRE(two);
  CHECK(one->schema_version() == two->schema_version());
  CHECK(one->readiness_problem().empty());
  CHECK(fx.integer("SELECT COUNT(*) FROM keyward_schema") == 1);
}
