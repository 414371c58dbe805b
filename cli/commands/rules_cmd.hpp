// SPDX-License-Identifier: Apache-2.0
// `keyward rules list|test` and `keyward explain ID`.
#pragma once

#include "commands/common.hpp"
#include "commands/config_file.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace keyward::cli {

struct RulesCommand {
  std::vector<std::string> rules_dirs;
  std::vector<std::string> only;
};
CLI::App* add_rules_command(CLI::App& app, RulesCommand& cmd, CLI::App*& list, CLI::App*& test);
int run_rules_list(const RulesCommand& cmd);
int run_rules_test(const RulesCommand& cmd);

// keyward explain ID|PATH[!MEMBER] [PATH...]: an id (or a unique prefix) is looked up in a scan
// of the PATHs (default "."); a path explains every finding in that file (or archive member, or
// under that directory), scanning the PATHs if given, else the path itself.
struct ExplainCommand {
  std::string id;
  std::vector<std::string> paths;
  CommonScanFlags common;
  ConfigFlags config;  // rules from .keyward.yaml (one directory scanned) and the user's file, as scan
};
CLI::App* add_explain_command(CLI::App& app, ExplainCommand& cmd);
int run_explain(const ExplainCommand& cmd);

}  // namespace keyward::cli
