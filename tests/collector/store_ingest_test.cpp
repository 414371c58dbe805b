// Ingest: complete snapshots resolve what is gone, incomplete reports add only, replays are
// stored once, a pending agent's reports are held until approval.
#include "store_fixture.hpp"

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

TEST_CASE("a pending agent's reports are held and ingested in order when it is approved") {
  test::StoreFixture fx;
  const auto a = fx.enroll("build-7");
  CHECK(a.status == collector::AgentStatus::pending);
  const auto r1 = test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f2", "/srv/b.pem", 2)});
  const auto r2 = test::report({test::key_finding("f1", "/srv/a.pem", 1)});
  CHECK(fx.store->ingest(a, r1, kNow).status == collector::IngestOutcome::Status::held);
  CHECK(fx.store->ingest(a, r2, kNow + 10).status == collector::IngestOutcome::Status::held);
  CHECK(fx.store->ingest(a, r2, kNow + 20).status == collector::IngestOutcome::Status::duplicate);
  CHECK(fx.store->counts().held_reports == 2);
  CHECK(fx.all_findings().total == 0);

  auto approved = fx.store->approve_agent(a.id, fx.admin, kNow + 100);
  REQUIRE(approved.has_value());
  CHECK(approved->status == collector::AgentStatus::approved);
  CHECK(fx.store->counts().held_reports == 0);
  CHECK(fx.store->counts().reports == 2);
  // In order: r1 made f1 and f2, then the r2 snapshot resolved f2.
  CHECK(fx.store->findings({}).total == 1);
  CHECK(fx.events_of("resolved").size() == 1);
  CHECK(fx.events_of("agent_approved").size() == 1);
  // A replay after approval is still a duplicate.
  CHECK(fx.store->ingest(*approved, r1, kNow + 200).status == collector::IngestOutcome::Status::duplicate);
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
