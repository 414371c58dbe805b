// SPDX-License-Identifier: Apache-2.0
// Ingest: complete snapshots resolve what is gone, incomplete reports add only, replays are
// stored once, a pending agent's newest snapshot is held until approval, a large report is
// ingested in chunks that readers interleave with and that a resend completes; an unchanged
// snapshot is recorded without its places, and reads never wait for the write lock.
#include "store_fixture.hpp"

#include <sqlite3.h>

#include <keyward/collector/audit_key.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <set>
#include <thread>

using namespace keyward;
using test::kNow;

TEST_CASE("a complete snapshot missing a finding resolves its place with a time and a resolved event") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  auto first = fx.store->ingest(
      a, test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f2", "/srv/b.pem", 2)}), kNow);
  CHECK(first.status == collector::IngestOutcome::Status::stored);
  CHECK(first.findings == 2);
  CHECK(first.new_places == 2);
  CHECK(first.resolved == 0);
  CHECK(fx.events_of("new").size() == 2);

  auto second = fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 60);
  CHECK(second.new_places == 0);
  CHECK(second.resolved == 1);

  const auto rows = fx.all_findings();
  REQUIRE(rows.total == 2);
  int resolved = 0;
  for (const auto& r : rows.items) {
    if (r.finding.at("id") == "f2") {
      ++resolved;
      CHECK(r.status == "resolved");
      CHECK(r.resolved_at == kNow + 60);
    } else {
      CHECK(r.status == "open");
      CHECK(r.resolved_at == 0);
      CHECK(r.first_seen == kNow);
      CHECK(r.last_seen == kNow + 60);
    }
  }
  CHECK(resolved == 1);
  const auto gone = fx.events_of("resolved");
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].finding_id == "f2");
  CHECK(gone[0].agent_id == a.id);
  CHECK(gone[0].hostname == "web-1");
  CHECK(gone[0].time == kNow + 60);

  // The default query lists open places only.
  CHECK(fx.store->findings({}).total == 1);
}

TEST_CASE("a place that comes back after being resolved is reopened with a new event") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(a, test::report({}), kNow + 10);
  CHECK(fx.store->findings({}).total == 0);
  auto back = fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 20);
  CHECK(back.new_places == 1);
  const auto rows = fx.store->findings({});
  REQUIRE(rows.total == 1);
  CHECK(rows.items[0].resolved_at == 0);
  const auto news = fx.events_of("new");
  REQUIRE(news.size() == 2);
  CHECK(news[1].detail.value("reopened", false));
}

TEST_CASE("an incomplete report adds and updates places but resolves nothing") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(
      a, test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f2", "/srv/b.pem", 2)}), kNow);
  auto partial = fx.store->ingest(a, test::report({test::key_finding("f3", "/srv/c.pem", 3)}, false), kNow + 60);
  CHECK(partial.status == collector::IngestOutcome::Status::stored);
  CHECK(partial.new_places == 1);
  CHECK(partial.resolved == 0);
  CHECK(fx.store->findings({}).total == 3);
  CHECK(fx.events_of("resolved").empty());
}

TEST_CASE("a replayed report id is stored once and changes nothing") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto rep = test::report({test::key_finding("f1", "/srv/a.pem", 1)});
  CHECK(fx.store->ingest(a, rep, kNow).status == collector::IngestOutcome::Status::stored);
  const auto counts = fx.store->counts();
  const auto head = fx.store->audit_head();

  // The replay is an empty snapshot under the same id: if it were applied it would resolve f1.
  auto replay = rep;
  replay.result.findings.clear();
  const auto again = fx.store->ingest(a, replay, kNow + 60);
  CHECK(again.status == collector::IngestOutcome::Status::duplicate);
  CHECK(fx.store->findings({}).total == 1);
  CHECK(fx.store->counts().reports == counts.reports);
  CHECK(fx.store->counts().events == counts.events);
  CHECK(fx.store->audit_head().seq == head.seq);
}

TEST_CASE("a pending agent holds only its newest snapshot and approving ingests that one alone") {
  test::StoreFixture fx;
  const auto a = fx.enroll("build-7");
  CHECK(a.status == collector::AgentStatus::pending);
  const auto r1 = test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f2", "/srv/b.pem", 2)});
  const auto r2 = test::report({test::key_finding("f1", "/srv/a.pem", 1)});
  const auto r3 = test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f3", "/srv/c.pem", 3)});
  CHECK(fx.store->ingest(a, r1, kNow).status == collector::IngestOutcome::Status::held);
  CHECK(fx.store->ingest(a, r2, kNow + 10).status == collector::IngestOutcome::Status::held);
  CHECK(fx.store->ingest(a, r3, kNow + 20).status == collector::IngestOutcome::Status::held);
  CHECK(fx.store->counts().held_reports == 1);
  // A replay of a report that was held and then replaced is still a duplicate: it does not
  // take the newest one's place.
  CHECK(fx.store->ingest(a, r1, kNow + 30).status == collector::IngestOutcome::Status::duplicate);
  CHECK(fx.store->counts().held_reports == 1);
  CHECK(fx.all_findings().total == 0);

  auto approved = fx.store->approve_agent(a.id, fx.admin, kNow + 100);
  REQUIRE(approved.has_value());
  CHECK(approved->status == collector::AgentStatus::approved);
  CHECK(fx.store->counts().held_reports == 0);
  CHECK(fx.store->counts().reports == 1);
  // Only r3: f2 of r1 was never in the inventory, so nothing was resolved either.
  const auto rows = fx.all_findings();
  CHECK(rows.total == 2);
  for (const auto& r : rows.items) CHECK(r.finding.at("id") != "f2");
  CHECK(fx.events_of("new").size() == 2);
  CHECK(fx.events_of("resolved").empty());
  CHECK(fx.events_of("agent_approved").size() == 1);
  // A replay after approval is still a duplicate.
  CHECK(fx.store->ingest(*approved, r2, kNow + 200).status == collector::IngestOutcome::Status::duplicate);
}

TEST_CASE("an incomplete report is held beside the newest complete one, and a complete one replaces both") {
  test::StoreFixture fx;
  const auto a = fx.enroll("build-8");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(a, test::report({test::key_finding("f2", "/srv/b.pem", 2)}, false), kNow + 1);
  CHECK(fx.store->counts().held_reports == 2);
  fx.store->ingest(a, test::report({test::key_finding("f3", "/srv/c.pem", 3)}, false), kNow + 2);
  CHECK(fx.store->counts().held_reports == 2);
  REQUIRE(fx.store->approve_agent(a.id, fx.admin, kNow + 3).has_value());
  // The complete snapshot (f1), then the newest incomplete report on top of it (f3).
  const auto rows = fx.all_findings();
  REQUIRE(rows.total == 2);
  for (const auto& r : rows.items) CHECK(r.finding.at("id") != "f2");

  const auto b = fx.enroll("build-9");
  fx.store->ingest(b, test::report({test::key_finding("g1", "/srv/a.pem", 4)}, false), kNow);
  fx.store->ingest(b, test::report({test::key_finding("g2", "/srv/b.pem", 5)}), kNow + 1);
  CHECK(fx.store->counts().held_reports == 1);
}

TEST_CASE("revoking a pending agent drops the reports held for it") {
  test::StoreFixture fx;
  const auto a = fx.enroll("build-7");
  const auto b = fx.enroll("build-8");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(b, test::report({test::key_finding("g1", "/srv/a.pem", 2)}), kNow);
  CHECK(fx.store->counts().held_reports == 2);
  REQUIRE(fx.store->revoke_agent(a.id, fx.admin, kNow + 1).has_value());
  CHECK(fx.store->counts().held_reports == 1);  // b's is kept
  const auto entries = fx.store->audit_entries(0, 1000);
  REQUIRE(!entries.empty());
  CHECK(entries.back().action == "agent.revoke");
  CHECK(entries.back().detail.at("held_reports_dropped") == 1);
  REQUIRE(fx.store->revoke_agent(b.id, fx.admin, kNow + 2).has_value());
  CHECK(fx.store->counts().held_reports == 0);
  CHECK(fx.all_findings().total == 0);
}

TEST_CASE("a revoked agent cannot be approved and approving twice is a conflict") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  auto twice = fx.store->approve_agent(a.id, fx.admin, kNow);
  REQUIRE(twice.has_error());
  CHECK(twice.error().code == "conflict");
  REQUIRE(fx.store->revoke_agent(a.id, fx.admin, kNow).has_value());
  auto again = fx.store->approve_agent(a.id, fx.admin, kNow);
  REQUIRE(again.has_error());
  CHECK(again.error().code == "conflict");
  CHECK(fx.store->agent(a.id)->status == collector::AgentStatus::revoked);
  CHECK(fx.store->approve_agent("ffffffffffffffff", fx.admin, kNow).error().code == "not_found");
}

TEST_CASE("the stored finding carries the fleet risk and queries filter by host severity and kind") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("db-1");
  fx.store->ingest(a,
                   test::report({test::key_finding("f1", "/home/alice/.ssh/id", 1),
                                 test::cert_finding("c1", "/etc/ssl/svc.pem", 1, kNow + 400 * 86400)}),
                   kNow);
  auto encrypted = test::key_finding("g1", "/srv/k.pem", 2);
  encrypted.key->encrypted = true;  // 30: low
  fx.store->ingest(b, test::report({encrypted}), kNow);

  collector::FindingQuery q;
  q.host = "web-1";
  CHECK(fx.store->findings(q).total == 2);
  q.host = a.id;
  CHECK(fx.store->findings(q).total == 2);
  q.kind = "certificate";
  const auto certs = fx.store->findings(q);
  REQUIRE(certs.total == 1);
  CHECK(certs.items[0].finding.at("kind") == "certificate");

  collector::FindingQuery hi;
  hi.min_severity = "high";
  const auto high = fx.store->findings(hi);
  REQUIRE(high.total == 1);  // unencrypted key in a home directory: 30+40 = 70 high
  CHECK(high.items[0].finding.at("risk").at("severity") == "high");
  CHECK(high.items[0].hostname == "web-1");

  collector::FindingQuery page;
  page.limit = 1;
  page.offset = 1;
  const auto p = fx.store->findings(page);
  CHECK(p.total == 3);
  CHECK(p.items.size() == 1);

  const auto hosts = fx.store->hosts();
  REQUIRE(hosts.size() == 2);
  for (const auto& h : hosts) {
    if (h.hostname == "web-1") {
      CHECK(h.open_findings == 2);
      CHECK(h.max_severity == "high");
    } else {
      CHECK(h.open_findings == 1);
    }
  }
}

namespace {

// count key findings "<prefix><i>" at /srv/<prefix>/<i>.pem, keys first..first+count-1.
std::vector<scanner::Finding> many(const std::string& prefix, int first, int count) {
  std::vector<scanner::Finding> out;
  for (int i = 0; i < count; ++i)
    out.push_back(
        test::key_finding(prefix + std::to_string(i), "/srv/" + prefix + "/" + std::to_string(i) + ".pem", first + i));
  return out;
}

// Every place of the store, by finding id: status, scores and times.
std::map<std::string, std::string> inventory(test::StoreFixture& fx) {
  std::map<std::string, std::string> out;
  collector::FindingQuery q;
  q.status = "all";
  q.limit = 1000;
  for (;; q.offset += q.limit) {
    const auto page = fx.store->findings(q);
    for (const auto& r : page.items)
      out[r.finding.at("id").get<std::string>()] = r.status + " " + r.finding.at("risk").dump() + " " +
                                                   std::to_string(r.first_seen) + " " + std::to_string(r.last_seen) +
                                                   " " + std::to_string(r.resolved_at);
    if (page.items.size() < q.limit) return out;
  }
}

// Makes the database refuse to insert the place of one finding, as a full disk or a killed
// process would stop an ingest midway (a trigger, set from a connection of the test's own).
void fail_insert_of(const std::string& db_path, const std::string& finding_id, bool on) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  const std::string sql = on ? "CREATE TRIGGER test_crash AFTER INSERT ON places WHEN NEW.finding_id = '" + finding_id +
                                   "' BEGIN SELECT RAISE(ABORT, 'the test stops this ingest'); END"
                             : std::string("DROP TRIGGER test_crash");
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("a large report cut short keeps its first chunks, resolves nothing, and its resend ends as one ingest" *
          doctest::test_suite("sqlite")) {
  const auto old = test::report(many("old", 1, 10));
  auto big = many("big", 100, 2500);
  big.push_back(test::key_finding("old0", "/srv/old/0.pem", 1));  // one old place stays
  const auto report = test::report(big);

  test::StoreFixture whole;
  const auto a = whole.agent("web-1");
  whole.store->ingest(a, old, kNow);
  const auto once = whole.store->ingest(a, report, kNow + 60);
  CHECK(once.status == collector::IngestOutcome::Status::stored);
  CHECK(once.new_places == 2500);
  CHECK(once.resolved == 9);
  CHECK(whole.store->ingest(a, report, kNow + 70).status == collector::IngestOutcome::Status::duplicate);

  test::StoreFixture cut;
  const auto b = cut.agent("web-1");
  REQUIRE(b.id == a.id);
  cut.store->ingest(b, old, kNow);
  fail_insert_of(cut.db_path, "big1500", true);  // in the second chunk of 1000 places
  CHECK_THROWS_AS(cut.store->ingest(b, report, kNow + 60), collector::StoreError);
  // The first chunk is in the inventory (it was its own transaction); the old places that the
  // report no longer has are still open: a snapshot resolves only once it is all in.
  CHECK(cut.all_findings().total == 10 + 1000);
  CHECK(cut.store->findings({}).total == 10 + 1000);
  CHECK(cut.events_of("resolved").empty());
  CHECK(cut.store->counts().reports == 1);

  fail_insert_of(cut.db_path, "big1500", false);
  const auto resent = cut.store->ingest(b, report, kNow + 60);  // the agent sends it again
  CHECK(resent.status == collector::IngestOutcome::Status::stored);
  CHECK(resent.resolved == 9);
  CHECK(inventory(cut) == inventory(whole));
  CHECK(cut.events_of("new").size() == whole.events_of("new").size());
  CHECK(cut.events_of("resolved").size() == whole.events_of("resolved").size());
  CHECK(cut.store->counts().reports == whole.store->counts().reports);
  CHECK(cut.store->ingest(b, report, kNow + 70).status == collector::IngestOutcome::Status::duplicate);
  CHECK(cut.store->verify_audit(std::nullopt).ok);
}

TEST_CASE("readers get the store between the chunks of a large report's ingest") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto report = test::report(many("k", 1, 6000));
  std::atomic<bool> done{false};
  std::thread ingest([&] {
    fx.store->ingest(a, report, kNow);
    done = true;
  });
  // A read in the middle sees part of the report: one transaction would show none or all.
  std::set<std::uint64_t> seen;
  while (!done) seen.insert(fx.store->hosts().at(0).open_findings);
  ingest.join();
  seen.erase(0);
  seen.erase(6000);
  CHECK_FALSE(seen.empty());
  CHECK(fx.store->hosts().at(0).open_findings == 6000);
}

TEST_CASE("an approval cut short leaves the agent pending, and approving again ends as one approval" *
          doctest::test_suite("sqlite")) {
  const auto report = test::report(many("held", 1, 2500));
  test::StoreFixture whole;
  const auto a = whole.enroll("build-1");
  whole.store->ingest(a, report, kNow);
  REQUIRE(whole.store->approve_agent(a.id, whole.admin, kNow + 60).has_value());

  test::StoreFixture cut;
  const auto b = cut.enroll("build-1");
  cut.store->ingest(b, report, kNow);
  fail_insert_of(cut.db_path, "held1500", true);
  CHECK_THROWS_AS((void)cut.store->approve_agent(b.id, cut.admin, kNow + 60), collector::StoreError);
  CHECK(cut.store->agent(b.id)->status == collector::AgentStatus::pending);
  CHECK(cut.store->counts().held_reports == 1);
  CHECK(cut.events_of("agent_approved").empty());
  fail_insert_of(cut.db_path, "held1500", false);
  REQUIRE(cut.store->approve_agent(b.id, cut.admin, kNow + 60).has_value());
  CHECK(cut.store->counts().held_reports == 0);
  CHECK(inventory(cut) == inventory(whole));
  CHECK(cut.events_of("new").size() == 2500);
  CHECK(cut.store->verify_audit(std::nullopt).ok);
}

// Issue 19: a snapshot identical to the host's last one is recorded in O(1).
TEST_CASE("an unchanged snapshot writes no place, yet its places read as seen at its time") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto snapshot = [] {
    return test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f2", "/srv/b.pem", 2)});
  };
  fx.store->ingest(a, snapshot(), kNow);
  const auto again = fx.store->ingest(a, snapshot(), kNow + 600);
  CHECK(again.status == collector::IngestOutcome::Status::stored);
  CHECK(again.findings == 2);
  CHECK(again.new_places == 0);
  CHECK(again.resolved == 0);
  // The places' rows were not written: their stored sighting is the first report's...
  CHECK(fx.integer("SELECT MAX(last_seen) FROM places") == kNow);
  // ...but every present place of the host was seen by the snapshot.
  const auto rows = fx.store->findings({});
  REQUIRE(rows.total == 2);
  for (const auto& r : rows.items) CHECK(r.last_seen == kNow + 600);
  CHECK(fx.store->hosts().at(0).last_report_at == kNow + 600);
  CHECK(fx.store->counts().reports == 2);
  const auto audit = fx.store->audit_entries(0, 1000);
  REQUIRE_FALSE(audit.empty());
  CHECK(audit.back().action == "report.ingest");
  CHECK(audit.back().detail.value("unchanged", false));
  CHECK(fx.store->verify_audit(std::nullopt).ok);

  // A changed snapshot is a whole ingest again, and the next identical one is unchanged again.
  const auto changed = fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 700);
  CHECK(changed.resolved == 1);
  CHECK_FALSE(fx.store->audit_entries(0, 1000).back().detail.contains("unchanged"));
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 800);
  CHECK(fx.store->audit_entries(0, 1000).back().detail.value("unchanged", false));
  CHECK(fx.store->findings({}).items.at(0).last_seen == kNow + 800);
}

TEST_CASE("after a partial report, the same snapshot again resolves what the partial one added") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(a, test::report({test::key_finding("f2", "/srv/b.pem", 2)}, /*complete=*/false), kNow + 10);
  CHECK(fx.store->findings({}).total == 2);
  const auto again = fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 20);
  CHECK(again.resolved == 1);
  CHECK(fx.store->findings({}).total == 1);
}

TEST_CASE("after a snapshot cut short, the host's previous snapshot again is a whole ingest" *
          doctest::test_suite("sqlite")) {
  const auto old = test::report(many("old", 1, 10));
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, old, kNow);
  fail_insert_of(fx.db_path, "big1500", true);
  CHECK_THROWS_AS(fx.store->ingest(a, test::report(many("big", 100, 2500)), kNow + 60), collector::StoreError);
  fail_insert_of(fx.db_path, "big1500", false);
  REQUIRE(fx.store->findings({}).total == 10 + 1000);
  // The same ten findings as the last stored snapshot, but the host's places are not its places
  // any more: the first chunk of the cut report is resolved.
  auto same_as_old = old;
  same_as_old.report_id = protocol::new_report_id();
  const auto out = fx.store->ingest(a, same_as_old, kNow + 120);
  CHECK(out.resolved == 1000);
  CHECK(fx.store->findings({}).total == 10);
}

TEST_CASE("a read is answered while the writer holds the store's lock") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  collector::AuditSigningKey::create(fx.dir.path("audit.key"), fx.dir.path("audit.pub"));
  // The checkpoint of a commit is written with the write lock held: a read made from another
  // thread then must not wait for that lock (it reads on a connection of its own).
  std::vector<std::future_status> waits;
  fx.store->sign_checkpoints(collector::AuditSigningKey::load(fx.dir.path("audit.key")), [&](const std::string&) {
    auto read = std::async(std::launch::async, [&] { return fx.store->findings({}).total; });
    waits.push_back(read.wait_for(std::chrono::seconds(10)));
    if (waits.back() != std::future_status::ready) std::abort();  // would deadlock the test otherwise
  });
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  REQUIRE_FALSE(waits.empty());
  for (auto w : waits) CHECK(w == std::future_status::ready);
}
