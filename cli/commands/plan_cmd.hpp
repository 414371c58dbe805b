// SPDX-License-Identifier: Apache-2.0
// `keyward plan FINDINGS.json`: the migration plan into HSM storage for one host's scan, offline
// (docs/migration.md). The fleet's plan is the collector's (keyward-collector plan).
#pragma once

#include <keyward/common/terminal.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace keyward::cli {

struct PlanCommand {
  std::string findings;                                // a keyward scan --format json report
  std::string format = "text";                         // text | json | markdown
  std::string output;                                  // -o FILE ("" or "-": stdout)
  std::vector<std::string> hsm_dirs;                   // --hsm-dir DIR: more profiles and policy (*.yaml)
  common::ColorMode color = common::ColorMode::auto_;  // --color (text)
};
CLI::App* add_plan_command(CLI::App& app, PlanCommand& cmd);
// Exit status: 0 the plan was written, 2 the findings or a profile/policy file could not be used.
int run_plan(const PlanCommand& cmd);

}  // namespace keyward::cli
