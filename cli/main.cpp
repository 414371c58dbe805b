// SPDX-License-Identifier: Apache-2.0
// keyward: the command line. Thin: parses arguments, calls the libraries, maps errors to
// exit codes (docs/architecture.md). Every command's --help is its reference.
#include "commands/ci.hpp"
#include "commands/migrate_cmd.hpp"
#include "commands/plan_cmd.hpp"
#include "commands/remote_cmd.hpp"
#include "commands/rules_cmd.hpp"
#include "commands/scan.hpp"
#include "manual.hpp"

#include <keyward/version.hpp>

#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  // File buffers are large and short-lived: serve them from mmap so that they go back to the
  // system when freed (glibc would otherwise raise its threshold and keep them in the heap).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app{"keyward: find private keys, key stores and signing certificates, and get them into hardware"};
  app.require_subcommand(1);
  app.footer(keyward::cli::help_footer());
  keyward::cli::ScanCommand scan;
  keyward::cli::CiCommand ci;
  keyward::cli::BaselineCommand baseline;
  keyward::cli::RulesCommand rules;
  keyward::cli::ExplainCommand explain;
  keyward::cli::MigrateCommand migrate;
  keyward::cli::PlanCommand plan;
  keyward::cli::RemoteCommand remote;
  CLI::App* scan_cmd = keyward::cli::add_scan_command(app, scan);
  CLI::App* ci_cmd = keyward::cli::add_ci_command(app, ci);
  CLI::App *baseline_create = nullptr, *baseline_update = nullptr, *rules_list = nullptr, *rules_test = nullptr;
  keyward::cli::add_baseline_command(app, baseline, baseline_create, baseline_update);
  keyward::cli::add_rules_command(app, rules, rules_list, rules_test);
  CLI::App* explain_cmd = keyward::cli::add_explain_command(app, explain);
  CLI::App* migrate_cmd = keyward::cli::add_migrate_command(app, migrate);
  CLI::App* plan_cmd = keyward::cli::add_plan_command(app, plan);
  CLI::App* remote_cmd = keyward::cli::add_remote_command(app, remote);
  keyward::cli_docs::add_standard_commands(app, "keyward", keyward::cli::manual(), KEYWARD_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (scan_cmd->parsed()) return keyward::cli::run_scan(scan);
    if (ci_cmd->parsed()) return keyward::cli::run_ci(ci);
    if (baseline_create->parsed()) return keyward::cli::run_baseline(baseline, false);
    if (baseline_update->parsed()) return keyward::cli::run_baseline(baseline, true);
    if (rules_list->parsed()) return keyward::cli::run_rules_list(rules);
    if (rules_test->parsed()) return keyward::cli::run_rules_test(rules);
    if (explain_cmd->parsed()) return keyward::cli::run_explain(explain);
    if (migrate_cmd->parsed()) return keyward::cli::run_migrate(migrate);
    if (plan_cmd->parsed()) return keyward::cli::run_plan(plan);
    if (remote_cmd->parsed()) return keyward::cli::run_remote(remote);
  } catch (const std::exception& e) {  // RuleError, GitError and setup errors: one actionable line
    std::fprintf(stderr, "keyward: %s\n", e.what());
    return 2;
  }
  return 2;
}
