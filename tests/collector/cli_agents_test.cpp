// SPDX-License-Identifier: Apache-2.0
// `keyward-collector agents list` end to end: the real binary on a collector directory that
// `init` made, with an agent whose host name holds an escape sequence and a newline, inserted
// through the store (as an enrollment would, whatever the API accepts). The listing must show the
// name escaped (common::terminal_safe), on its own row, never as a forged line.
#include "store_fixture.hpp"
#include "support/run_command.hpp"

#include <cstdio>
#include <sstream>

using namespace keyward;

namespace {

std::string run(const std::string& cmd, int& status) { return test::run_command(cmd, status); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("agents list shows a host name's escape and newline escaped, so it cannot forge a row") {
  test::TempTree dir;
  const std::string bin = KEYWARD_COLLECTOR_BIN;
  int status = -1;
  run(bin + " init --dir " + dir.path("c") + " --listen 127.0.0.1:1 --san 127.0.0.1 2>/dev/null", status);
  REQUIRE(status == 0);
  {
    auto store = collector::open_sqlite_store(dir.path("c/keyward.db"), dir.path("c/events.jsonl"), {});
    const collector::Actor admin{"cli:test", std::nullopt};
    const auto token = store->create_enrollment_token(test::kNow + 3600, admin);
    collector::Enrollment e;
    e.agent_id = "00000000000000e1";
    e.hostname = "web-1\x1b[2J\x1b]0;owned\x07\nFORGED-ROW approved \xc2\x9b";
    e.os = "linux";
    e.cert_sha256 = test::fp(1);
    e.cert_serial = "1";
    e.spki_sha256 = test::fp(2);
    REQUIRE(store->enroll_agent(token.secret, e, test::kNow).has_value());
  }
  const std::string out = run(bin + " agents list --config " + dir.path("c/collector.yaml"), status);
  REQUIRE(status == 0);
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find('\x07') == std::string::npos);
  CHECK(out.find("\xc2\x9b") == std::string::npos);
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 2);  // the header and one agent: the newline forged no row
  CHECK(lines[1].rfind("00000000000000e1", 0) == 0);
  CHECK(lines[1].find("web-1\\x1b[2J\\x1b]0;owned\\x07\\x0aFORGED-ROW approved \\u009b") != std::string::npos);
}
