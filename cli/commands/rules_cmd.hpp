// `keyward rules list|test` and `keyward explain ID`.
#pragma once

#include "commands/common.hpp"

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

struct ExplainCommand {
  std::string id;
  std::vector<std::string> paths{"."};
  CommonScanFlags common;
};
CLI::App* add_explain_command(CLI::App& app, ExplainCommand& cmd);
int run_explain(const ExplainCommand& cmd);

}  // namespace keyward::cli
