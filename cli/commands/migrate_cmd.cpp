// SPDX-License-Identifier: Apache-2.0
#include "commands/migrate_cmd.hpp"

#include "commands/common.hpp"

#include "migrate_client.hpp"

#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace keyward::cli {
namespace {

std::string this_host() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

// Appends one JSON line (mode 0600 when created); false and a line on stderr when it cannot.
bool append_result(const std::string& path, const migrate::ItemResult& r) {
  const std::string line = migrate::result_to_json(r).dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const int err = errno;
  if (fd >= 0) ok = (::close(fd) == 0) && ok;
  if (!ok) std::fprintf(stderr, "keyward: cannot write results to %s: %s\n", path.c_str(), std::strerror(err));
  return ok;
}

}  // namespace

CLI::App* add_migrate_command(CLI::App& app, MigrateCommand& cmd) {
  CLI::App* sub = app.add_subcommand("migrate", "Move the approved items of a plan that live on this host into an HSM");
  sub->add_option("--plan", cmd.plan, "The plan (keyward.plan/v1 JSON, from keyward plan or the collector)")
      ->type_name("FILE");
  sub->add_option("--collector", cmd.collector,
                  "Instead of --plan: the collector (https://host:port) whose approved items for this host run")
      ->type_name("URL");
  sub->add_option("--agent-config", cmd.agent_config,
                  "With --collector: this host's agent.yaml (its certificate and key identify the host)")
      ->type_name("FILE");
  sub->add_option("--module", cmd.module, "The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so")
      ->type_name("PATH");
  sub->add_option("--token", cmd.token, "The token's label")->type_name("LABEL");
  sub->add_option("--pin-source", cmd.pin_source, "Where the user PIN is: env:VAR or file:PATH (never the PIN)")
      ->type_name("SOURCE");
  sub->add_option("--password-source", cmd.password_source,
                  "Where an encrypted key's password is, for import: env:VAR or file:PATH")
      ->type_name("SOURCE");
  sub->add_option("--host", cmd.host, "This host's name as the plan names it (default: the hostname)")
      ->type_name("NAME");
  sub->add_option("--results", cmd.results, "Append each item's result here, one JSON line each")
      ->type_name("FILE")
      ->capture_default_str();
  sub->add_flag("--dry-run", cmd.dry_run, "Print what would happen; change nothing, write no results");
  sub->add_flag("--remove-source", cmd.remove_source,
                "After an item is verified in the token, overwrite and remove its key files on this host");
  sub->footer(
      "Only items in state approved whose migration runs on this host are acted on; each is all or\n"
      "nothing (a failure destroys what it created in the token) and an item already in the token is\n"
      "skipped. With --collector each result is posted to the collector (or kept in the agent's\n"
      "results file until it can be); --results is not used. Exit status: 0 every item done or\n"
      "skipped, 1 an item failed, 2 usage or set-up error (or the collector could not be asked).");
  return sub;
}

// --collector URL --agent-config FILE: the agent's client, a person's token settings.
int run_migrate_with_collector(const MigrateCommand& cmd) {
  agent::CollectorMigrateOptions o;
  o.collector = cmd.collector;
  o.agent_config = cmd.agent_config;
  o.section.module = cmd.module;
  o.section.token = cmd.token;
  o.section.pin_source = cmd.pin_source;
  o.section.remove_source = cmd.remove_source;
  o.run.host = cmd.host;
  o.run.dry_run = cmd.dry_run;
  o.run.password_source = cmd.password_source;
  o.run.say = [](const std::string& line) { std::printf("  %s\n", line.c_str()); };
  o.run.on_result = [](const migrate::ItemResult& r) {
    std::printf("%s %s: %s\n", r.item_id.c_str(), std::string(migrate::to_string(r.outcome)).c_str(),
                r.message.c_str());
    std::fflush(stdout);
  };
  const agent::MigrationRound r = agent::migrate_with_collector(
      o, [](std::string_view l) { std::fprintf(stderr, "keyward: %.*s\n", (int)l.size(), l.data()); });
  std::printf(
      "keyward migrate: %zu item(s) from %s: %zu done, %zu skipped, %zu failed, %zu refused%s; %zu result(s) "
      "sent, %zu kept for later\n",
      r.items, cmd.collector.c_str(), r.done, r.skipped, r.failed, r.refused, cmd.dry_run ? ", dry run" : "", r.sent,
      r.queued);
  if (!r.reached || (!r.error.empty() && r.items != r.done + r.skipped + r.failed + r.refused + r.dry_run)) {
    std::fprintf(stderr, "keyward migrate: %s\n", r.error.c_str());
    return 2;
  }
  return r.failed + r.refused > 0 ? 1 : 0;
}

int run_migrate(const MigrateCommand& cmd) {
  if (!cmd.collector.empty() || !cmd.agent_config.empty()) {
    if (cmd.collector.empty() || cmd.agent_config.empty() || !cmd.plan.empty()) {
      std::fprintf(stderr, "keyward migrate: --collector and --agent-config go together, instead of --plan\n");
      return 2;
    }
    for (const auto& [value, flag] :
         {std::pair{&cmd.module, "--module"}, {&cmd.token, "--token"}, {&cmd.pin_source, "--pin-source"}})
      if (value->empty()) {
        std::fprintf(stderr, "keyward migrate: %s is required (see keyward migrate --help)\n", flag);
        return 2;
      }
    return run_migrate_with_collector(cmd);
  }
  for (const auto& [value, flag] : {std::pair{&cmd.plan, "--plan"},
                                    {&cmd.module, "--module"},
                                    {&cmd.token, "--token"},
                                    {&cmd.pin_source, "--pin-source"}})
    if (value->empty()) {
      std::fprintf(stderr, "keyward migrate: %s is required (see keyward migrate --help)\n", flag);
      return 2;
    }
  const migrate::Plan plan = read_plan(cmd.plan);
  migrate::RunOptions o;
  o.host = cmd.host.empty() ? this_host() : cmd.host;
  o.dry_run = cmd.dry_run, o.remove_source = cmd.remove_source;
  o.say = [](const std::string& line) { std::printf("  %s\n", line.c_str()); };
  if (!cmd.password_source.empty()) o.key_password = migrate::read_secret_source(cmd.password_source);
  std::vector<const migrate::PlanItem*> items;
  for (const auto& item : plan.items)
    if (item.state == migrate::ItemState::approved && item.migrate_on.host == o.host) items.push_back(&item);
  std::printf("keyward migrate: %zu approved item(s) for host %s in %s (%zu in the plan)%s\n", items.size(),
              o.host.c_str(), cmd.plan.c_str(), plan.items.size(), cmd.dry_run ? ", dry run" : "");
  if (items.empty()) return 0;
  const common::SecretBytes pin = migrate::read_secret_source(cmd.pin_source);
  migrate::TokenSession session({cmd.module, cmd.token}, pin);
  int rc = 0;
  for (const migrate::PlanItem* item : items) {
    std::printf("%s %s %s (%s)\n", item->id.c_str(), std::string(migrate::to_string(item->strategy)).c_str(),
                item->migrate_on.path.c_str(), item->algorithm.c_str());
    const migrate::ItemResult r = session.run(*item, o);
    std::printf("%s %s: %s\n", item->id.c_str(), std::string(migrate::to_string(r.outcome)).c_str(), r.message.c_str());
    std::fflush(stdout);
    if (r.outcome == migrate::Outcome::failed || r.outcome == migrate::Outcome::refused) rc = 1;
    if (!cmd.dry_run && !append_result(cmd.results, r)) rc = 1;
  }
  return rc;
}

}  // namespace keyward::cli
