// SPDX-License-Identifier: Apache-2.0
// The agent's run loop with --once against a collector that is down: the scan is spooled for
// later, and a detector that throws on one file costs that file only (counted in the report's
// errors) while the agent goes on, scan after scan.
#include "runner.hpp"
#include "gzip.hpp"
#include "spool.hpp"
#include "support/faulty_detector.hpp"
#include "support/keygen.hpp"
#include "support/temp_tree.hpp"
#include "tls_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace t = keyward::test;
using namespace keyward::agent;

namespace {

std::vector<nlohmann::json> spooled_reports(const std::string& dir) {
  std::vector<nlohmann::json> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".gz") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string gz((std::istreambuf_iterator<char>(in)), {});
    out.push_back(nlohmann::json::parse(gzip_decompress(gz)));
  }
  return out;
}

}  // namespace

TEST_CASE(
    "the agent survives a detector that throws: that file is an error, the report is spooled, the next scan runs") {
  const auto& pki = t::TestPki::get();
  t::TempTree tree, state;
  tree.write("home/dev/.ssh/id_ecdsa", t::pkcs8_pem(t::ec_p256()), 0600);
  tree.write("srv/app/broken.conf", "KEYWARD-FAULT-BAD-ALLOC\n");
  tree.write("srv/app/odd.conf", "KEYWARD-FAULT-RUNTIME\n");

  AgentConfig c;
  c.collector = "https://127.0.0.1:" + std::to_string(t::free_port());  // nothing listens there
  c.ca = pki.path("ca.pem");
  c.certificate = pki.path("client.pem");
  c.key = pki.path("client.key");
  c.state_dir = state.path();
  c.roots = {tree.path()};
  c.jitter = std::chrono::seconds(0);
  c.max_cpu_percent = 100;

  const auto list = t::with_faulty_detector();
  const keyward::scanner::detail::DetectorRegistry registry(list);
  RunOptions o;
  o.once = true;
  o.detectors = &registry;
  std::vector<std::string> lines;
  o.log = [&lines](std::string_view l) { lines.emplace_back(l); };

  for (int round = 1; round <= 2; ++round) {
    CHECK(run_agent(c, o) == kExitSpooled);
    const auto reports = spooled_reports(c.spool_dir());
    REQUIRE(reports.size() == static_cast<std::size_t>(round));
    for (const auto& r : reports) {
      CHECK(r["scan"]["stats"]["errors"] == 2);
      std::set<std::string> found;
      for (const auto& f : r["findings"])
        found.insert(std::filesystem::path(f["location"]["path"].get<std::string>()).filename().string());
      CHECK(found == std::set<std::string>{"id_ecdsa"});
    }
  }
  for (const auto& l : lines) CHECK(l.find("a detector failed while parsing") == std::string::npos);
}
