// SPDX-License-Identifier: Apache-2.0
// The inventory reads whose cost grows with the fleet use indexes: EXPLAIN QUERY PLAN of the
// hosts list and of the findings list (issue 12: GET /hosts took 4.9 s at 170k places when
// its per-agent counts read the places through the wrong index).
#include "store/sql_queries.hpp"

#include "store_fixture.hpp"

#include <sqlite3.h>

#include <string_view>

#include <string>
#include <vector>

using namespace keyward;
using test::kNow;

namespace {

// The plan's lines ("SEARCH p USING ...", "SCAN a", ...) of a query on the store's database.
std::vector<std::string> plan(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  collector::detail::define_sqlite_functions(db);
  sqlite3_stmt* st = nullptr;
  const std::string explain = "EXPLAIN QUERY PLAN " + sql;
  REQUIRE(sqlite3_prepare_v2(db, explain.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 3)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// How many lines of a query plan name `text` (an index, "TEMP B-TREE" for a sort, a table).
int lines_with(const std::vector<std::string>& lines, std::string_view text) {
  int n = 0;
  for (const auto& l : lines) n += l.find(text) != std::string::npos;
  return n;
}

// No line reads every place: the places table (alias p) is only searched.
void check_no_scan_of_places(const std::vector<std::string>& lines) {
  INFO(joined(lines));
  CHECK_FALSE(lines.empty());
  for (const auto& l : lines) CHECK(l.rfind("SCAN p", 0) != 0);
}

}  // namespace

TEST_CASE("the hosts list counts each agent's open places in an index, never reading all places" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store.reset();
  const auto lines = plan(fx.db_path, collector::detail::kHostsQuery);
  check_no_scan_of_places(lines);
  int covered = 0;
  for (const auto& l : lines) covered += l.find("COVERING INDEX places_agent_status") != std::string::npos;
  CHECK(covered == 2);  // the count and the worst severity
}

TEST_CASE("the findings list and its count find open places and a host's places in an index" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  fx.store.reset();
  for (const char* host : {"", "web-1"}) {
    collector::FindingQuery q;
    q.host = host;
    std::vector<collector::detail::QueryParam> params;
    check_no_scan_of_places(plan(fx.db_path, collector::detail::findings_page_query(q, params)));
    params.clear();
    check_no_scan_of_places(plan(fx.db_path, collector::detail::findings_count_query(q, params)));
    q.min_severity = "high";
    params.clear();
    check_no_scan_of_places(plan(fx.db_path, collector::detail::findings_page_query(q, params)));
  }
}

TEST_CASE("one host's findings page is read through the host's index, not along every open place" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  fx.store.reset();
  collector::FindingQuery q;
  q.host = "web-1";
  std::vector<collector::detail::QueryParam> params;
  const auto lines = plan(fx.db_path, collector::detail::findings_page_query(q, params));
  INFO(joined(lines));
  CHECK(lines_with(lines, "places_status_rank") == 0);
  CHECK(lines_with(lines, "places_agent_status") > 0);
}

TEST_CASE("the findings page in the total order reads open places through places_status_rank, without a sort" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  fx.store.reset();
  collector::FindingQuery q;
  std::vector<collector::detail::QueryParam> params;
  const auto lines = plan(fx.db_path, collector::detail::findings_page_query(q, params));
  INFO(joined(lines));
  CHECK(lines_with(lines, "INDEX places_status_rank") == 1);
  CHECK(lines_with(lines, "TEMP B-TREE") <=
        1);  // the page's own rows may be sorted (the outer query), never the open places
}

TEST_CASE("a page of keys is read along identities_rank: no place is read and nothing is sorted" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store.reset();
  const auto lines = plan(fx.db_path, collector::detail::kKeysQuery);
  INFO(joined(lines));
  CHECK(lines_with(lines, "places") == 0);
  CHECK(lines_with(lines, "TEMP B-TREE") == 0);
  CHECK(lines_with(lines, "INDEX identities_rank") > 0);
}

TEST_CASE("one severity band's open places are counted from an index alone" * doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  fx.store.reset();
  collector::FindingQuery q;
  q.severity = "critical";
  std::vector<collector::detail::QueryParam> params;
  const auto lines = plan(fx.db_path, collector::detail::findings_count_query(q, params));
  INFO(joined(lines));
  check_no_scan_of_places(lines);
  CHECK(lines_with(lines, "COVERING INDEX") > 0);
}

TEST_CASE("the most spread keys are read along identities_spread, and a key lists its first places with their count" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  std::vector<collector::AgentInfo> hosts;
  for (int i = 0; i < 25; ++i) hosts.push_back(fx.agent("web-" + std::to_string(100 + i)));
  // Key 1 on 25 hosts, key 2 on 3, key 3 on one.
  for (int i = 0; i < 25; ++i) {
    std::vector<scanner::Finding> f{test::key_finding("a" + std::to_string(i), "/srv/a.pem", 1)};
    if (i < 3) f.push_back(test::key_finding("b" + std::to_string(i), "/srv/b.pem", 2));
    if (i == 0) f.push_back(test::key_finding("c", "/srv/c.pem", 3));
    fx.store->ingest(hosts[static_cast<std::size_t>(i)], test::report(f), kNow);
  }
  collector::KeyQuery q;
  q.order = collector::KeyQuery::Order::spread;
  q.min_hosts = 2;
  const auto spread = fx.store->keys(q);
  CHECK(spread.total == 2);
  REQUIRE(spread.items.size() == 2);
  CHECK(spread.items[0].identity == "spki:" + test::fp(1));
  CHECK(spread.items[0].hosts == 25);
  CHECK(spread.items[0].places.size() == collector::kKeyPlaces);
  CHECK(spread.items[0].places_total == 25);
  CHECK(spread.items[0].kind == "private_key");
  CHECK(spread.items[1].identity == "spki:" + test::fp(2));
  CHECK(spread.items[1].places_total == 3);
  CHECK(fx.store->keys(100, 0).total == 3);
  fx.store.reset();
  const auto lines = plan(fx.db_path, collector::detail::kSpreadKeysQuery);
  INFO(joined(lines));
  CHECK(lines_with(lines, "TEMP B-TREE") == 0);
  CHECK(lines_with(lines, "INDEX identities_spread") > 0);
}
