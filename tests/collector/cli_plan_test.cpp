// SPDX-License-Identifier: Apache-2.0
// `keyward-collector plan` end to end: the real binary on a collector directory that `init` made,
// with a key on two hosts put in through the store, and the config's hsm_dirs naming a policy
// that sends keys to another token: the plan (json, markdown, text) is read from the database
// and its target comes from that policy.
#include "store_fixture.hpp"
#include "support/run_command.hpp"

#include <keyward/migrate/plan.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace keyward;

namespace {

std::string run(const std::string& cmd, int& status) { return test::run_command(cmd, status); }

// Enrolls and approves an agent on `host` directly in the store and ingests key 1 at path.
void host_with_key(collector::Store& store, int n, const std::string& host, const std::string& path) {
  const collector::Actor admin{"cli:test", std::nullopt};
  const auto token = store.create_enrollment_token(test::kNow + 3600, admin);
  collector::Enrollment e;
  e.agent_id = "00000000000000b" + std::to_string(n);
  e.hostname = host;
  e.os = "linux";
  e.cert_sha256 = test::fp(100 + n);
  e.cert_serial = std::to_string(n);
  e.spki_sha256 = test::fp(200 + n);
  auto agent = store.enroll_agent(token.secret, e, test::kNow);
  REQUIRE(agent.has_value());
  auto approved = store.approve_agent(agent->id, admin, test::kNow);
  REQUIRE(approved.has_value());
  store.ingest(*approved, test::report({test::key_finding("f1", path, 1)}), test::kNow);
}

}  // namespace

TEST_CASE("keyward-collector plan prints the fleet plan from the database, with the hsm_dirs policy in force") {
  test::TempTree dir;
  const std::string bin = KEYWARD_COLLECTOR_BIN;
  int status = -1;
  run(bin + " init --dir " + dir.path("c") + " --listen 127.0.0.1:1 --san 127.0.0.1 2>/dev/null", status);
  REQUIRE(status == 0);
  std::filesystem::create_directories(dir.path("c/hsm"));
  std::ofstream(dir.path("c/hsm/policy.yaml")) << "rules:\n  - id: default\n    match: any\n    profile: softhsm2\n"
                                                  "    token: vault\n    label_prefix: vault-\n";
  {
    // init writes `hsm_dirs: []`; the list names the directory, relative to data_dir.
    std::ifstream in(dir.path("c/collector.yaml"));
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = yaml.find("hsm_dirs: []");
    REQUIRE(at != std::string::npos);
    yaml.replace(at, 12, "hsm_dirs: [hsm]");
    std::ofstream(dir.path("c/collector.yaml"), std::ios::trunc) << yaml;
  }
  {
    auto store = collector::open_sqlite_store(dir.path("c/keyward.db"), dir.path("c/events.jsonl"), {});
    host_with_key(*store, 1, "web-1", "/srv/a.pem");
    host_with_key(*store, 2, "web-2", "/home/x/a.pem");
  }
  const std::string config = " --config " + dir.path("c/collector.yaml");
  const std::string json_text = run(bin + " plan --format json" + config, status);
  REQUIRE(status == 0);
  const migrate::Plan plan = migrate::plan_from_json(json_text);
  REQUIRE(plan.items.size() == 1);
  CHECK(plan.items.front().places.size() == 2);
  CHECK(plan.items.front().target.token == "vault");
  CHECK(plan.scope == "fleet");
  const std::string md = run(bin + " plan --format markdown" + config, status);
  CHECK(status == 0);
  CHECK(md.find(plan.items.front().id) != std::string::npos);
  const std::string text = run(bin + " plan" + config, status);
  CHECK(status == 0);
  CHECK(text.find("web-2") != std::string::npos);
  run(bin + " plan --format yaml" + config + " 2>/dev/null", status);
  CHECK(status == 2);
}
