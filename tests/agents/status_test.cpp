// SPDX-License-Identifier: Apache-2.0
#include "status.hpp"

#include <support/temp_tree.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

using keyward::agent::AgentStatus;

TEST_CASE("status is written atomically with mode 0600 and reads back") {
  keyward::test::TempTree t;
  AgentStatus s;
  s.agent_id = "ag_123";
  s.scan_started = 1700000000;
  s.scan_finished = 1700000060;
  s.scan_files = 1234;
  s.scan_findings = 5;
  s.scan_complete = true;
  s.delivery_status = "retry (503)";
  s.spool_depth = 2;
  s.spool_bytes = 4096;
  s.dropped_reports = 3;
  s.rejected_reports = 1;
  s.last_error = "the collector answered HTTP 503";
  const std::string path = t.path("status.json");
  s.save(path);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(::stat((path + ".tmp").c_str(), &st) != 0);

  const AgentStatus back = AgentStatus::load(path);
  CHECK(back.agent_id == "ag_123");
  CHECK(back.scan_files == 1234);
  CHECK(back.scan_complete);
  CHECK(back.dropped_reports == 3);
  CHECK(back.rejected_reports == 1);
  CHECK(back.last_error == s.last_error);

  const std::string text = back.render_text();
  CHECK(text.find("2023-11-14T22:13:20Z") != std::string::npos);
  CHECK(text.find("2 reports") != std::string::npos);
  CHECK(text.find("retry (503)") != std::string::npos);
}

TEST_CASE("a missing or corrupt status file reads as an empty status") {
  keyward::test::TempTree t;
  CHECK(AgentStatus::load(t.path("none.json")).agent_id.empty());
  t.write("bad.json", "{not json");
  CHECK(AgentStatus::load(t.path("bad.json")).scan_started == 0);
  t.write("typed.json", R"({"agent_id": 5, "last_scan": {"files": "many"}})");
  const AgentStatus s = AgentStatus::load(t.path("typed.json"));
  CHECK(s.agent_id.empty());
  CHECK(s.scan_files == 0);
}
