// SPDX-License-Identifier: Apache-2.0
// The fleet report of `keyward-collector report` (collector/src/cli/report.cpp) on a temporary
// store: what each section holds, its limits, the text form's columns and escaping, and that
// building it changes nothing.
#include "cli/report.hpp"

#include "store_fixture.hpp"

#include <algorithm>
#include <sstream>

using namespace keyward;
using test::kNow;

namespace {

collector::cli::ReportOptions at_now(std::size_t top = 10) {
  collector::cli::ReportOptions o;
  o.top = top;
  o.now = kNow;
  return o;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The lines after the one starting with title_prefix, up to the next blank line.
std::vector<std::string> section(const std::vector<std::string>& lines, const std::string& title_prefix) {
  std::vector<std::string> out;
  bool in = false;
  for (const auto& l : lines) {
    if (!in) {
      in = l.rfind(title_prefix, 0) == 0;
      continue;
    }
    if (l.empty()) break;
    out.push_back(l);
  }
  return out;
}

}  // namespace

TEST_CASE("the fleet report lists every host, a key copied to two hosts once with both, and expiring certificates") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("build-7");
  REQUIRE(fx.store->set_agent_tags(b.id, {"build"}, fx.admin).has_value());
  fx.store->ingest(a,
                   test::report({test::key_finding("f1", "/srv/release.pem", 1),
                                 test::cert_finding("c1", "/srv/tls.crt", 2, kNow + 10 * 86400)}),
                   kNow);
  fx.store->ingest(b,
                   test::report({test::key_finding("g1", "/home/ci/release.pem", 1),
                                 test::key_finding("g2", "/home/ci/own.pem", 3)}),
                   kNow);

  const auto r = collector::cli::build_report(*fx.store, at_now());
  CHECK(r.at("schema") == "keyward.fleet-report/v1");
  REQUIRE(r.at("hosts").size() == 2);
  CHECK(r.at("summary").at("hosts") == 2);

  const auto& spread = r.at("keys").at("on_several_hosts");
  REQUIRE(spread.at("total") == 1);
  const auto& shared = spread.at("items").at(0);
  CHECK(shared.at("identity") == "spki:" + test::fp(1));
  CHECK(shared.at("hosts") == 2);
  CHECK(shared.at("places_total") == 2);
  CHECK(shared.at("state") == "open");
  CHECK(r.at("keys").at("total") == 3);
  CHECK(r.at("keys").at("riskiest").size() == 3);

  std::uint64_t by_severity = 0;
  for (const auto& [band, n] : r.at("open_findings_by_severity").items()) by_severity += n.get<std::uint64_t>();
  CHECK(by_severity == r.at("summary").at("open_findings").get<std::uint64_t>());
  CHECK(by_severity == 4);

  const auto& certs = r.at("expiring_certificates");
  REQUIRE(certs.at("total") == 1);
  CHECK(certs.at("items").at(0).at("path") == "/srv/tls.crt");
  CHECK(certs.at("items").at(0).at("hostname") == "web-1");
  CHECK(certs.at("items").at(0).at("days_left") == 10);
  CHECK(certs.at("items").at(0).at("subject") == "CN=svc");

  CHECK(r.at("events").at("last_seq").get<std::uint64_t>() > 0);
  CHECK_FALSE(r.at("events").at("items").empty());
  CHECK(r.at("events").at("items").back().at("seq") == r.at("events").at("last_seq"));

  const std::string text = collector::cli::render_report_text(r);
  CHECK(text.find("2 hosts (2 approved, 0 pending, 0 revoked), 4 open findings, 3 keys") != std::string::npos);
  CHECK(text.find("Keys on several hosts (1)") != std::string::npos);
  CHECK(text.find("build-7:/home/ci/release.pem, web-1:/srv/release.pem") != std::string::npos);
  CHECK(text.find("Certificates expiring within 30 days (1)") != std::string::npos);

  // The hosts table is aligned: every row's agent id starts under the AGENT heading.
  const auto hosts = section(lines_of(text), "Hosts (2)");
  REQUIRE(hosts.size() == 3);
  const auto col = hosts[0].find("AGENT");
  REQUIRE(col != std::string::npos);
  std::vector<std::string> ids = {hosts[1].substr(col, a.id.size()), hosts[2].substr(col, a.id.size())};
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want = {a.id, b.id};
  std::sort(want.begin(), want.end());
  CHECK(ids == want);
}

TEST_CASE("the fleet report keeps each list to --top and a key's places to a few, counting the rest") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  std::vector<scanner::Finding> many;
  for (int i = 0; i < 8; ++i)
    many.push_back(test::key_finding("f" + std::to_string(i), "/srv/copy-" + std::to_string(i) + ".pem", 1));
  many.push_back(test::key_finding("x1", "/srv/other-1.pem", 2));
  many.push_back(test::key_finding("x2", "/srv/other-2.pem", 3));
  fx.store->ingest(a, test::report(many), kNow);
  fx.store->ingest(b, test::report({test::key_finding("g1", "/opt/copy.pem", 1)}), kNow);
  many.erase(many.begin());  // copy-0 is deleted: its place is resolved and no longer listed
  fx.store->ingest(a, test::report(many), kNow + 60);

  const auto r = collector::cli::build_report(*fx.store, at_now(2));
  CHECK(r.at("top") == 2);
  CHECK(r.at("keys").at("riskiest").size() == 2);
  CHECK(r.at("keys").at("total") == 3);
  CHECK(r.at("events").at("items").size() == 2);
  const auto& shared = r.at("keys").at("on_several_hosts").at("items").at(0);
  CHECK(shared.at("places").size() == collector::cli::kReportPlaces);
  CHECK(shared.at("places_total") == 8);
  // Each host's first place comes first, however many copies the first host holds.
  CHECK(shared.at("places").at(0).at("path") == "/srv/copy-1.pem");
  CHECK(shared.at("places").at(1).at("path") == "/opt/copy.pem");
  for (const auto& p : shared.at("places")) CHECK(p.at("status") != "resolved");

  const std::string text = collector::cli::render_report_text(r);
  CHECK(text.find("Riskiest keys (top 2 of 3)") != std::string::npos);
  CHECK(text.find("web-1:/srv/copy-1.pem, web-2:/opt/copy.pem (+6 more)") != std::string::npos);
}

TEST_CASE("control characters in a path are escaped in the text report so a file name cannot drive the terminal") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/\x1b[2Jevil\nname\xc2\x9b.pem", 1)}), kNow);
  const std::string text = collector::cli::render_report_text(collector::cli::build_report(*fx.store, at_now()));
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("\xc2\x9b") == std::string::npos);
  CHECK(text.find("/srv/\\x1b[2Jevil\\x0aname\\u009b.pem") != std::string::npos);
}

TEST_CASE("an empty store gives a report with every section and says there is nothing yet") {
  test::StoreFixture fx;
  const auto r = collector::cli::build_report(*fx.store, at_now());
  CHECK(r.at("hosts").empty());
  CHECK(r.at("keys").at("total") == 0);
  CHECK(r.at("events").at("last_seq") == 0);
  const std::string text = collector::cli::render_report_text(r);
  CHECK(text.find("0 hosts") != std::string::npos);
  CHECK(text.find("none yet: enroll an agent") != std::string::npos);
  CHECK(text.find("Last events (0)") != std::string::npos);
}

TEST_CASE("building the fleet report changes nothing in the store: no audit entry, no event") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  const auto head = fx.store->audit_head();
  const auto events = fx.store->counts().events;
  const std::string events_file = test::file_bytes(fx.events_path);
  (void)collector::cli::build_report(*fx.store, at_now());
  CHECK(fx.store->audit_head().seq == head.seq);
  CHECK(fx.store->audit_head().hash == head.hash);
  CHECK(fx.store->counts().events == events);
  CHECK(test::file_bytes(fx.events_path) == events_file);
}

TEST_CASE("riskiest keys at the score's cap of 100 come in raw order, in the JSON and in the text") {
  test::StoreFixture fx;
  // By host name, path or identity the lower raw would come first.
  test::ingest_two_keys_at_cap(fx);

  const auto r = collector::cli::build_report(*fx.store, at_now());
  const auto& riskiest = r.at("keys").at("riskiest");
  REQUIRE(riskiest.size() == 2);
  CHECK(riskiest[0].at("max_score") == 100);
  CHECK(riskiest[1].at("max_score") == 100);
  CHECK(riskiest[0].at("identity") == "spki:" + test::fp(2));
  CHECK(riskiest[0].at("raw").get<int>() > riskiest[1].at("raw").get<int>());

  const auto rows = section(lines_of(collector::cli::render_report_text(r)), "Riskiest keys");
  REQUIRE(rows.size() == 3);  // the column names, then the keys
  CHECK(rows[0].find("RAW") != std::string::npos);
  CHECK(rows[1].find(std::to_string(riskiest[0].at("raw").get<int>())) != std::string::npos);
  CHECK(rows[2].find(std::to_string(riskiest[1].at("raw").get<int>())) != std::string::npos);
}
