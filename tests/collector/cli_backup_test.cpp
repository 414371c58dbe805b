// SPDX-License-Identifier: Apache-2.0
// `keyward-collector backup` and `restore` end to end (docs/deployment.md, "Backup and
// restore"): the real binary on a collector directory that `init` made. A backup taken while
// another connection keeps writing is one committed state whose audit chain verifies; a restore
// refuses a damaged backup without touching anything, and otherwise puts the backup in place,
// moves the old database and events file aside and re-anchors the audit log so that
// `audit verify` passes on the restored inventory.
#include "store_fixture.hpp"
#include "support/run_command.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace keyward;
using nlohmann::json;

namespace {

struct Installed {
  test::TempTree dir;
  std::string bin = KEYWARD_COLLECTOR_BIN;
  std::string config = dir.path("c/collector.yaml");
  std::string db = dir.path("c/keyward.db");
  std::string events = dir.path("c/events.jsonl");

  Installed() {
    int status = -1;
    test::run_command(bin + " init --dir " + dir.path("c") + " --listen 127.0.0.1:1 --san 127.0.0.1 2>/dev/null",
                      status);
    REQUIRE(status == 0);
  }
  std::string run(const std::string& args, int& status) const {
    return test::run_command(bin + " " + args + " --config " + config + " 2>" + dir.path("stderr.txt"), status);
  }
  std::unique_ptr<collector::Store> open() const { return collector::open_sqlite_store(db, events, {}); }
};

// An approved agent of the store, with `n` findings reported.
collector::AgentInfo agent_with(collector::Store& store, int n) {
  const collector::Actor admin{"cli:test", std::nullopt};
  const auto token = store.create_enrollment_token(test::kNow + 3600, admin);
  collector::Enrollment e{"00000000000000b1", "web-1", "linux", test::fp(900), "1", test::fp(901)};
  auto a = store.enroll_agent(token.secret, e, test::kNow).value();
  a = store.approve_agent(a.id, admin, test::kNow).value();
  std::vector<scanner::Finding> findings;
  for (int i = 0; i < n; ++i)
    findings.push_back(test::key_finding("f" + std::to_string(i), "/srv/k" + std::to_string(i), i));
  store.ingest(a, test::report(findings), test::kNow);
  return a;
}

}  // namespace

TEST_CASE("a backup taken while the store is written is one state whose audit chain verifies") {
  Installed c;
  auto store = c.open();
  const auto a = agent_with(*store, 5);
  // Another connection keeps writing while the backup copies (as a serving collector would).
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i)
      store->ingest(a, test::report({test::key_finding("w" + std::to_string(i % 7), "/srv/w", 100 + i % 7)}),
                    test::kNow + i);
  });
  int status = -1;
  const std::string out = c.run("backup --to " + c.dir.path("b.db"), status);
  stop = true;
  writer.join();
  REQUIRE(status == 0);
  const json printed = json::parse(out);
  CHECK(printed.at("audit_head").at("seq").get<std::uint64_t>() > 0);
  struct stat st {};
  REQUIRE(::stat(c.dir.path("b.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(collector::check_sqlite_backup(c.dir.path("b.db")).empty());
  // The copy's own head is the printed one, and its chain is whole.
  std::filesystem::copy_file(c.dir.path("b.db"), c.dir.path("copy.db"));
  auto copy = collector::open_sqlite_store(c.dir.path("copy.db"), "", {});
  CHECK(copy->audit_head().seq == printed["audit_head"]["seq"].get<std::uint64_t>());
  CHECK(copy->audit_head().hash == printed["audit_head"]["hash"].get<std::string>());
  CHECK(copy->verify_audit(std::nullopt).ok);

  // A backup never overwrites a file.
  c.run("backup --to " + c.dir.path("b.db"), status);
  CHECK(status == 2);
}

TEST_CASE("restore puts the backup in place, keeps the old files aside and re-anchors the audit log") {
  Installed c;
  {
    auto store = c.open();
    agent_with(*store, 3);
  }
  int status = -1;
  const json backup = json::parse(c.run("backup --to " + c.dir.path("b.db"), status));
  REQUIRE(status == 0);
  {
    auto store = c.open();
    const auto a = store->agent("00000000000000b1").value();
    std::vector<scanner::Finding> more;
    for (int i = 0; i < 9; ++i)
      more.push_back(test::key_finding("m" + std::to_string(i), "/m" + std::to_string(i), 50 + i));
    store->ingest(a, test::report(more), test::kNow + 100);
    REQUIRE(store->findings({}).total == 9);
  }
  c.run("audit verify", status);
  REQUIRE(status == 0);

  const json restored = json::parse(c.run("restore --from " + c.dir.path("b.db"), status));
  REQUIRE(status == 0);
  CHECK(restored.at("restored_head") == backup.at("audit_head"));
  CHECK(std::filesystem::exists(restored.at("moved_aside").get<std::string>()));
  {
    auto store = c.open();
    CHECK(store->findings({}).total == 3);  // the inventory of the backup
    const auto last = store->audit_entries(0, 100000).back();
    CHECK(last.action == "collector.restore");
    CHECK(last.detail.at("backup_head") == backup.at("audit_head"));
    CHECK(last.detail.at("replaced_head").at("seq").get<std::uint64_t>() >
          backup["audit_head"]["seq"].get<std::uint64_t>());
  }
  // The restored log verifies against the new events file's signed checkpoint of the restore.
  const std::string verdict = c.run("audit verify", status);
  CHECK(status == 0);
  CHECK(verdict.find("audit log ok") != std::string::npos);
  CHECK(verdict.find(" 0 signed checkpoints") == std::string::npos);
}

TEST_CASE("restore refuses a damaged backup and changes nothing") {
  Installed c;
  {
    auto store = c.open();
    agent_with(*store, 4);
  }
  int status = -1;
  c.run("backup --to " + c.dir.path("b.db"), status);
  REQUIRE(status == 0);
  {
    // Damage a page in the middle of the file.
    std::fstream f(c.dir.path("b.db"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(c.dir.path("b.db")) / 2));
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const auto before = test::file_bytes(c.db);
  c.run("restore --from " + c.dir.path("b.db"), status);
  CHECK(status == 2);
  CHECK(test::file_bytes(c.dir.path("stderr.txt")).find("nothing was changed") != std::string::npos);
  CHECK(test::file_bytes(c.db) == before);
  auto store = c.open();
  CHECK(store->findings({}).total == 4);
}
