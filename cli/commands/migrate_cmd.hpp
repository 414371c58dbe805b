// `keyward migrate --plan P`: runs the approved items of a plan file that migrate on this host
// into a PKCS#11 token (docs/migration.md, "What runs where"), offline: results go to a local
// JSON-lines file. The PIN and a key's password come from env:VAR or file:PATH, never argv.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace keyward::cli {

struct MigrateCommand {
  std::string plan;             // --plan FILE (keyward.plan/v1)
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
