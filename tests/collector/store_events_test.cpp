// SPDX-License-Identifier: Apache-2.0
// The events file: one JSON line per event after each commit, and the lines a crash left out
// are appended at the next open.
#include "store_fixture.hpp"

#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace keyward;
using test::kNow;

namespace {

std::vector<nlohmann::json> lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(test::file_bytes(path));
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

void check_seqs(const std::vector<nlohmann::json>& ls, std::uint64_t n) {
  REQUIRE(ls.size() == n);
  for (std::uint64_t i = 0; i < n; ++i) CHECK(ls[i].at("seq").get<std::uint64_t>() == i + 1);
}

}  // namespace

TEST_CASE("every event is written to the events file as one JSON line with the host name") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(a, test::report({}), kNow + 5);
  const auto ls = lines(fx.events_path);
  check_seqs(ls, 4);
  CHECK(ls[0].at("type") == "agent_enrolled");
  CHECK(ls[1].at("type") == "agent_approved");
  CHECK(ls[2].at("type") == "new");
  CHECK(ls[2].at("hostname") == "web-1");
  CHECK(ls[2].at("agent_id") == a.id);
  CHECK(ls[2].at("finding_id") == "f1");
  CHECK(ls[2].at("identity") == "spki:" + test::fp(1));
  CHECK(ls[2].at("detail").at("path") == "/srv/a.pem");
  CHECK(ls[2].at("detail").contains("severity"));
  CHECK(ls[3].at("type") == "resolved");
  CHECK(ls[3].at("time") == kNow + 5);
  // The same events through the API, and since a seq.
  const auto evs = fx.store->events(2, 100);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].seq == 3);
  CHECK(evs[0].hostname == "web-1");
}

TEST_CASE("a key under a file name that is not UTF-8 is ingested and its events keep the exact name as path_b64") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const std::string latin1 = "/srv/caf\xe9.pem";  // a Latin-1 name, as the scanner reports it
  const auto out = fx.store->ingest(a, test::report({test::key_finding("f1", latin1, 1)}), kNow);
  CHECK(out.new_places == 1);
  fx.store->ingest(a, test::report({}), kNow + 5);
  const auto ls = lines(fx.events_path);
  check_seqs(ls, 4);
  for (const auto i : {2, 3}) {
    CHECK(ls[i].at("detail").at("path") == "/srv/caf?.pem");
    CHECK(ls[i].at("detail").at("path_b64") == "L3Nydi9jYWbpLnBlbQ==");
  }
  CHECK(fx.all_findings().items.at(0).finding.at("location").at("path_b64") == "L3Nydi9jYWbpLnBlbQ==");
}

TEST_CASE("events lost from the file in a crash are appended again at the next open") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(
      a, test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f2", "/srv/b.pem", 2)}), kNow);
  fx.store.reset();
  const std::string full = test::file_bytes(fx.events_path);
  check_seqs(lines(fx.events_path), 4);

  SUBCASE("the last line is missing") {
    const auto cut = full.rfind('\n', full.size() - 2);
    REQUIRE(::truncate(fx.events_path.c_str(), static_cast<off_t>(cut + 1)) == 0);
    check_seqs(lines(fx.events_path), 3);
  }
  SUBCASE("the last line is torn in the middle") {
    const auto cut = full.rfind('\n', full.size() - 2);
    REQUIRE(::truncate(fx.events_path.c_str(), static_cast<off_t>(cut + 10)) == 0);
  }
  SUBCASE("the file is gone") { REQUIRE(::unlink(fx.events_path.c_str()) == 0); }
  fx.reopen();
  check_seqs(lines(fx.events_path), 4);
  CHECK(test::file_bytes(fx.events_path) == full);

  // And it goes on from there.
  fx.store->ingest(a, test::report({}), kNow + 1);
  check_seqs(lines(fx.events_path), 6);
}
