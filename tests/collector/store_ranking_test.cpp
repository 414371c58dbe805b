// SPDX-License-Identifier: Apache-2.0
// Issue 13 in the fleet: findings an analyst marks false positive and an approver confirms, keys
// an installed package ships on one host ranked down on every host (known-public-key), and the
// total order of places and keys (band, raw, positive factors, last seen, id) that does not tie
// at the score's cap of 100.
#include "store_fixture.hpp"

#include <sqlite3.h>

#include <algorithm>

using namespace keyward;
using test::kNow;

namespace {

const collector::Actor kAnalyst{"principal:alice", collector::Role::analyst, "token:analyst000000001"};
const collector::Actor kApprover{"principal:bob", collector::Role::approver, "token:approver00000001"};

// A finding as an agent reports it when the file belongs to an installed package: its risk
// carries the scanner's package-owned factor (the collector's engine cannot see the host's
// package database).
scanner::Finding package_owned(scanner::Finding f) {
  scanner::RiskFacts r;
  r.factors.push_back({"private-key", 30, "A private key."});
  r.factors.push_back({"package-owned", -60, "Installed by package python3.11-test (dpkg)."});
  f.risk = r;
  return f;
}

collector::FindingRow only_place(test::StoreFixture& fx, const std::string& host) {
  collector::FindingQuery q;
  q.host = host;
  q.status = "all";
  const auto rows = fx.store->findings(q);
  REQUIRE(rows.total == 1);
  return rows.items[0];
}

const nlohmann::json* factor(const nlohmann::json& finding, const std::string& id) {
  for (const auto& f : finding.at("risk").at("factors"))
    if (f.at("id") == id) return &f;
  return nullptr;
}

// 0 info .. 4 critical.
int severity_of(const collector::FindingRow& r) {
  const std::vector<std::string> bands = {"info", "low", "medium", "high", "critical"};
  const auto it = std::find(bands.begin(), bands.end(), r.finding.at("risk").at("severity").get<std::string>());
  REQUIRE(it != bands.end());
  return static_cast<int>(it - bands.begin());
}
constexpr int kLow = 1;

std::vector<std::string> statuses(test::StoreFixture& fx) {
  std::vector<std::string> out;
  for (const auto& r : fx.all_findings().items) out.push_back(r.status);
  return out;
}

}  // namespace

TEST_CASE("a false positive is confirmed by another principal, stays listed and counted, and reopens on expiry") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/fixture.pem", 1)}), kNow);
  fx.store->ingest(b, test::report({test::key_finding("g1", "/srv/fixture.pem", 1)}), kNow);
  const std::string identity = "spki:" + test::fp(1);

  auto x = fx.store->request_exception(identity, collector::ExceptionKind::false_positive,
                                       "a fixture of our test suite, never deployed", kNow + 86400, kAnalyst, kNow);
  REQUIRE(x.has_value());
  CHECK(x->kind == collector::ExceptionKind::false_positive);
  CHECK(x->status == "pending");
  CHECK(statuses(fx) == std::vector<std::string>{"open", "open"});  // not yet: an approver confirms

  // The analyst cannot confirm their own mark, whichever token they hold.
  const collector::Actor same_person{kAnalyst.id, collector::Role::approver, "token:approver00000002"};
  CHECK(fx.store->approve_exception(x->id, same_person, kNow + 1).error().code == "separation_of_duties");
  CHECK(statuses(fx) == std::vector<std::string>{"open", "open"});

  REQUIRE(fx.store->approve_exception(x->id, kApprover, kNow + 2).has_value());
  // Never hidden: both places are listed (status all) and filterable, none is open.
  CHECK(statuses(fx) == std::vector<std::string>{"false_positive", "false_positive"});
  collector::FindingQuery q;
  q.status = "false_positive";
  CHECK(fx.store->findings(q).total == 2);
  q.status = "excepted";
  CHECK(fx.store->findings(q).total == 0);
  CHECK(fx.store->findings({}).total == 0);
  for (const auto& h : fx.store->hosts()) CHECK(h.open_findings == 0);
  CHECK(fx.store->counts().false_positive_findings == 2);  // counted, apart from the open ones
  CHECK(fx.store->counts().open_findings == 0);
  CHECK(fx.store->counts().excepted_findings == 0);
  const auto key = fx.store->keys(10, 0).items.at(0);
  CHECK(key.false_positive);
  CHECK(key.exception_id == x->id);
  CHECK(fx.store->list_exceptions(kNow + 3).at(0).kind == collector::ExceptionKind::false_positive);

  // Audited with its kind, requested and approved.
  int audited = 0;
  for (const auto& e : fx.store->audit_entries(0, 1000))
    if ((e.action == "exception.request" || e.action == "exception.approve") && e.subject == x->id) {
      CHECK(e.detail.at("kind") == "false_positive");
      ++audited;
    }
  CHECK(audited == 2);

  // Once it expires, the next report opens the places again.
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/fixture.pem", 1)}), kNow + 90000);
  CHECK(statuses(fx) == std::vector<std::string>{"open", "open"});
}

TEST_CASE("an accepted risk still makes its places excepted, not false_positive") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  auto x = fx.store->request_exception("spki:" + test::fp(1), "HSM migration", kNow + 86400, kAnalyst, kNow);
  REQUIRE(x.has_value());
  CHECK(x->kind == collector::ExceptionKind::accepted_risk);
  REQUIRE(fx.store->approve_exception(x->id, kApprover, kNow + 1).has_value());
  CHECK(statuses(fx) == std::vector<std::string>{"excepted"});
  CHECK_FALSE(fx.store->keys(10, 0).items.at(0).false_positive);
}

TEST_CASE("a key an installed package ships on one host is known-public on every host and at most low") {
  test::StoreFixture fx;
  const auto a = fx.agent("dev-a");
  const auto b = fx.agent("dev-b");
  // Host B has key 1 in a home directory, unencrypted and readable by all, and key 2 likewise.
  auto home_key = test::key_finding("g1", "/home/x/.ssh/id_ecdsa", 1);
  home_key.file.mode = 0644;
  auto other_key = test::key_finding("g2", "/home/x/.ssh/deploy", 2);
  other_key.file.mode = 0644;
  fx.store->ingest(b, test::report({home_key, other_key}), kNow);
  const int before = severity_of(fx.all_findings("dev-b").items.at(0));
  CHECK(before > kLow);

  // Host A reports key 1 package-owned: B's place of it is rescored.
  fx.store->ingest(a, test::report({package_owned(test::key_finding("f1", "/usr/lib/python3/test/k.pem", 1))}),
                   kNow + 10);
  for (const auto& r : fx.all_findings("dev-b").items) {
    const nlohmann::json* learnt = factor(r.finding, "known-public-key");
    if (r.identity == "spki:" + test::fp(1)) {
      REQUIRE(learnt != nullptr);
      CHECK(learnt->at("why").get<std::string>().find("on 1 host(s) of the fleet") != std::string::npos);
      CHECK(severity_of(r) <= kLow);
      // Ranked down, not hidden: listed open, its raw still the sum of its points.
      CHECK(r.status == "open");
      int sum = 0;
      for (const auto& f : r.finding.at("risk").at("factors")) sum += f.at("points").get<int>();
      CHECK(r.finding.at("risk").at("raw") == sum);
    } else {
      CHECK(learnt == nullptr);  // a key no host reports package-owned is untouched
      CHECK(severity_of(r) == before);
    }
  }
  // Host A's own place keeps the agent's package-owned factor and is at most low too.
  const auto on_a = only_place(fx, "dev-a");
  CHECK(factor(on_a.finding, "package-owned") != nullptr);
  CHECK(factor(on_a.finding, "known-public-key") == nullptr);
  CHECK(severity_of(on_a) <= kLow);
}

TEST_CASE("places and keys at the score's cap are ordered by raw, then by positive factors") {
  test::StoreFixture fx;
  // Listed by host name and path, the lower raw would come first: the order must not be that.
  test::ingest_two_keys_at_cap(fx);

  const auto rows = fx.store->findings({});
  REQUIRE(rows.items.size() == 2);
  const auto& first = rows.items[0].finding.at("risk");
  const auto& second = rows.items[1].finding.at("risk");
  CHECK(first.at("score") == 100);
  CHECK(second.at("score") == 100);
  CHECK(first.at("raw").get<int>() > second.at("raw").get<int>());
  CHECK(rows.items[0].identity == "spki:" + test::fp(2));

  const auto keys = fx.store->keys(10, 0);
  REQUIRE(keys.items.size() == 2);
  CHECK(keys.items[0].identity == "spki:" + test::fp(2));
  CHECK(keys.items[0].max_score == keys.items[1].max_score);
  CHECK(keys.items[0].raw > keys.items[1].raw);
}

TEST_CASE("schema 4 computes raw, positive factors and package ownership of the places stored before it" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a,
                   test::report({test::key_finding("f1", "/srv/a.pem", 1),
                                 package_owned(test::key_finding("f2", "/usr/share/t/k.pem", 2))}),
                   kNow);
  fx.store.reset();
  const std::int64_t raw = fx.integer("SELECT raw FROM places WHERE finding_id = 'f1'");
  const std::int64_t positive = fx.integer("SELECT positive_factors FROM places WHERE finding_id = 'f1'");
  CHECK(raw > 0);
  CHECK(positive > 0);
  // Back to schema 3: the columns and the index of schema 4 are gone (and the tables of 5, the columns of 6).
  test::tamper(
      fx.db_path,
      test::kUndoSchema8 +
          "DROP TABLE migration_cleanups; DROP TABLE migration_items; DROP INDEX places_status_rank; ALTER TABLE "
          "places DROP COLUMN raw; "
          "ALTER TABLE places DROP COLUMN positive_factors; ALTER TABLE places DROP COLUMN package_owned; "
          "ALTER TABLE exceptions DROP COLUMN kind; "
          "ALTER TABLE agents DROP COLUMN source; ALTER TABLE agents DROP COLUMN remote_status; "
          "ALTER TABLE agents DROP COLUMN remote_message; ALTER TABLE agents DROP COLUMN remote_scanned_at; "
          "CREATE INDEX places_status_score ON places(status, severity_rank, score); PRAGMA user_version = 3;");
  fx.reopen();
  CHECK(fx.store->schema_version() == 8);
  // Schema 6: the hosts known before are agents.
  REQUIRE(!fx.store->hosts().empty());
  for (const auto& h : fx.store->hosts()) CHECK(h.source == collector::HostSource::agent);
  // Schema 8: the keys stored before are ranked from their places, riskiest first.
  const auto keys = fx.store->keys(10, 0);
  REQUIRE(keys.total == 2);
  CHECK(keys.items.at(0).identity == "spki:" + test::fp(1));  // the package-owned one ranks down
  CHECK(keys.items.at(0).hosts == 1);
  CHECK(keys.items.at(0).raw == raw);
  fx.store.reset();
  CHECK(fx.integer("SELECT raw FROM places WHERE finding_id = 'f1'") == raw);
  CHECK(fx.integer("SELECT positive_factors FROM places WHERE finding_id = 'f1'") == positive);
  CHECK(fx.integer("SELECT package_owned FROM places WHERE finding_id = 'f2'") == 1);
  CHECK(fx.integer("SELECT package_owned FROM places WHERE finding_id = 'f1'") == 0);
}
