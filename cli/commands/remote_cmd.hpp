// SPDX-License-Identifier: Apache-2.0
// `keyward remote --inventory FILE`: agentless scans of many hosts over SSH (docs/remote.md), a
// few at once; one host down or refusing never stops the others. Output: one merged findings
// document (each finding names its host; a `hosts` list says how each host's scan ended), or with
// --output-dir one document per host plus hosts.json. A status table goes to stderr.
#pragma once

#include "commands/common.hpp"
#include "commands/ssh_common.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace keyward::cli {

struct RemoteCommand {
  std::string inventory;  // --inventory FILE (docs/remote.md, "The inventory")
  unsigned parallel = 4;  // --parallel N: hosts scanned at once
  ReportFormat format = ReportFormat::text;
  std::string output;      // -o FILE: the merged document
  std::string output_dir;  // --output-dir DIR: DIR/<name>.<ext> per host, DIR/hosts.json
  CommonScanFlags common;
  WalkFlags walk;
  RankingFlags ranking;
  SshFlags ssh;
  bool mode_given = false;  // --mode on the command line: it overrides the inventory's modes
  bool quiet = false;       // no status table
};

CLI::App* add_remote_command(CLI::App& app, RemoteCommand& cmd);

// 0 every host scanned whole and no private key; 1 every host scanned whole and a private key on
// some host; 3 some host not scanned or only partly (the others' findings still written); 2 usage
// error, unreadable inventory or output.
int run_remote(const RemoteCommand& cmd);

}  // namespace keyward::cli
