// SPDX-License-Identifier: Apache-2.0
// `keyward migrate --plan` as a process on a real SoftHSM2 token: only approved items of its host
// run, results go to the JSON-lines file, a second run skips, and the PIN (read from env:VAR) is
// in neither its argv (/proc/PID/cmdline), its stdout, its stderr nor the results file.
#include "migrate/softhsm_fixture.hpp"
#include "support/generated_dir.hpp"

#include <keyward/common/hex.hpp>
#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <vector>

extern char** environ;

namespace keyward::migrate {
namespace {

struct Ran {
  int rc = -1;
  std::string cmdline, out, err;
};

// Spawns the keyward binary with `args`, KW_TEST_PIN set in its environment only. With `fifo`,
// the PIN is written into that FIFO (its --pin-source) after the process's argv was read: it
// waits there, so /proc/PID/cmdline is read while it runs.
Ran run_keyward(const test::SoftHsmToken& t, std::vector<std::string> args, const std::string& fifo = {}) {
  const char* bin = KEYWARD_TEST_KEYWARD_BIN;
  args.insert(args.begin(), bin);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store{"KW_TEST_PIN=" + t.pin()};
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, t.path("out.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, t.path("err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, bin, &fa, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&fa);
  Ran r;
  // Its argv as ps shows it; empty until execve has set it up (posix_spawn returns a little before).
  for (int i = 0; i < 200 && r.cmdline.empty(); ++i) {
    r.cmdline = test::slurp("/proc/" + std::to_string(pid) + "/cmdline");
    if (r.cmdline.empty()) ::usleep(5000);
  }
  if (!fifo.empty()) std::ofstream(fifo) << t.pin() << "\n";
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = test::slurp(t.path("out.txt")), r.err = test::slurp(t.path("err.txt"));
  return r;
}

PlanItem item_for(const std::string& pem, ItemState state, const std::string& host) {
  test::sh("openssl pkey -in " + test::shell_quote(pem) + " -pubout -outform DER -out " +
           test::shell_quote(pem + ".spki"));
  PlanItem item;
  item.identity = "spki:" + common::sha256_hex(test::slurp(pem + ".spki"));
  item.id = item.identity.substr(5, 16);
  item.strategy = Strategy::import, item.state = state, item.algorithm = "ec-p256";
  item.target = {"softhsm2", "keyward-test", "kw-" + item.id, "test"};
  item.migrate_on.host = host, item.migrate_on.path = pem, item.migrate_on.format = "pem-pkcs8";
  item.places = {item.migrate_on};
  return item;
}

std::vector<nlohmann::json> result_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("keyward migrate --plan: approved items of this host only, results file, rerun skips, PIN nowhere") {
  test::SoftHsmToken t;
  Plan plan;
  plan.generated_at = "2026-12-01T00:00:00Z", plan.scope = "host build-1", plan.hosts = {"build-1"};
  for (const char* name : {"approved", "proposed", "elsewhere"})
    test::sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
             test::shell_quote(t.path(std::string(name) + ".pem")));
  plan.items = {item_for(t.path("approved.pem"), ItemState::approved, "build-1"),
                item_for(t.path("proposed.pem"), ItemState::proposed, "build-1"),
                item_for(t.path("elsewhere.pem"), ItemState::approved, "build-2")};
  std::ofstream(t.path("plan.json")) << to_json(plan);
  std::vector<std::string> args{
      "migrate", "--plan", t.path("plan.json"), "--module",  test::kSoftHsmModule,    "--token",
      t.label(), "--host", "build-1",           "--results", t.path("results.jsonl"), "--pin-source"};
  REQUIRE(::mkfifo(t.path("pin.fifo").c_str(), 0600) == 0);
  args.push_back("file:" + t.path("pin.fifo"));
  const Ran first = run_keyward(t, args, t.path("pin.fifo"));
  INFO(first.out, first.err);
  CHECK(first.rc == 0);
  auto results = result_lines(t.path("results.jsonl"));
  REQUIRE(results.size() == 1);
  CHECK(results[0]["item_id"] == plan.items[0].id);
  CHECK(results[0]["outcome"] == "done");
  CHECK(results[0]["verification"]["extractable"] == false);
  const auto objects = t.objects();
  CHECK(objects.size() == 2);
  args.back() = "env:KW_TEST_PIN";
  const Ran second = run_keyward(t, args);
  CHECK(second.rc == 0);
  results = result_lines(t.path("results.jsonl"));
  REQUIRE(results.size() == 2);
  CHECK(results[1]["outcome"] == "skipped");
  CHECK(t.objects() == objects);
  CHECK(first.cmdline.find("pin.fifo") != std::string::npos);  // the real argv, read while it waited
  for (const Ran* r : {&first, &second}) {
    CHECK(r->cmdline.find(t.pin()) == std::string::npos);
    CHECK(r->out.find(t.pin()) == std::string::npos);
    CHECK(r->err.find(t.pin()) == std::string::npos);
  }
  CHECK(test::slurp(t.path("results.jsonl")).find(t.pin()) == std::string::npos);
}

TEST_CASE("keyward migrate: a dry run changes nothing and writes no results, a missing --pin-source is a usage error") {
  test::SoftHsmToken t;
  test::sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + test::shell_quote(t.path("k.pem")));
  Plan plan;
  plan.generated_at = "2026-12-01T00:00:00Z", plan.scope = "host build-1";
  plan.items = {item_for(t.path("k.pem"), ItemState::approved, "build-1")};
  std::ofstream(t.path("plan.json")) << to_json(plan);
  std::vector<std::string> args{
      "migrate", "--plan", t.path("plan.json"), "--module",  test::kSoftHsmModule,   "--token",
      t.label(), "--host", "build-1",           "--results", t.path("results.jsonl")};
  CHECK(run_keyward(t, args).rc == 2);
  args.insert(args.end(), {"--pin-source", "env:KW_TEST_PIN", "--dry-run"});
  const Ran dry = run_keyward(t, args);
  CHECK(dry.rc == 0);
  CHECK(dry.out.find("would create a private key") != std::string::npos);
  CHECK(t.objects().empty());
  CHECK_FALSE(std::filesystem::exists(t.path("results.jsonl")));
}

}  // namespace keyward::migrate
