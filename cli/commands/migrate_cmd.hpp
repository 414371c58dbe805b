// SPDX-License-Identifier: Apache-2.0
// `keyward migrate --plan P`: runs the approved items of a plan file that migrate on this host
// into a PKCS#11 token (docs/migration.md, "What runs where"), offline: results go to a local
// JSON-lines file. `keyward migrate --collector URL --agent-config FILE`: the same run for the
// approved items the collector has for this host, fetched and reported with the agent's mutual
// TLS identity (the agent's client, agents/daemon/src/migrate_client.hpp; results the collector
// cannot take wait in the agent's results file). The PIN and a key's password come from
// env:VAR or file:PATH, never argv.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace keyward::cli {

struct MigrateCommand {
  std::string plan;             // --plan FILE (keyward.plan/v1)
  std::string collector;        // --collector URL (with --agent-config; instead of --plan)
  std::string agent_config;     // --agent-config FILE (agent.yaml: CA, certificate, key, state_dir)
  std::string module;           // --module PATH (the PKCS#11 module)
  std::string token;            // --token LABEL
  std::string pin_source;       // --pin-source env:VAR|file:PATH
  std::string password_source;  // --password-source env:VAR|file:PATH (an encrypted key's password)
  std::string host;             // --host NAME (default: this host's name)
  std::string results = "keyward-migration-results.jsonl";  // --results FILE
  bool dry_run = false;
  bool remove_source = false;
};

CLI::App* add_migrate_command(CLI::App& app, MigrateCommand& cmd);
// 0 every item done or skipped (or nothing to do), 1 an item failed, 2 usage or set-up error.
int run_migrate(const MigrateCommand& cmd);

}  // namespace keyward::cli
