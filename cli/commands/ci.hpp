// SPDX-License-Identifier: Apache-2.0
// `keyward ci`: the gate for pipelines and pre-commit. Scans a repository's working tree (tracked
// and untracked-but-not-ignored files), or only what changed since a ref, or the index, or every
// blob in history; scores with the rules; applies .keywardignore, inline allows, the central
// allowlist and a baseline (--baseline, else the root's .keyward-baseline.json); writes
// SARIF/JUnit/text/JSON; exits 1 when a finding that fails the gate is left (rules/gate.hpp).
#pragma once

#include "commands/common.hpp"
#include "commands/config_file.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace keyward::cli {

// Where `keyward baseline create` writes by default and `keyward ci` looks: the repository root.
inline constexpr const char* kDefaultBaselineName = ".keyward-baseline.json";

struct CiCommand {
  std::string path = ".";
  std::string fail_on;  // empty: every private key or key store fails, whatever its severity
  std::string baseline;
  std::string allowlist;
  std::string since;
  bool staged = false;
  bool history = false;
  bool no_inline_allow = false;
  ReportFormat format = ReportFormat::text;
  std::string output;
  common::ColorMode color = common::ColorMode::auto_;  // --color (text)
  bool explain = false;
  CommonScanFlags common;
  RankingFlags ranking;
  ConfigFlags config;  // .keyward.yaml at the repository root and the user's file (--no-config)
};

CLI::App* add_ci_command(CLI::App& app, CiCommand& cmd);
int run_ci(const CiCommand& cmd);

// `keyward baseline create|update [PATH] -o FILE`.
struct BaselineCommand {
  std::string path = ".";
  std::string output;  // empty: kDefaultBaselineName at the repository root (else here)
  bool history = false;
  CommonScanFlags common;
  ConfigFlags config;  // .keyward.yaml at the repository root (else PATH) and the user's file
};
CLI::App* add_baseline_command(CLI::App& app, BaselineCommand& cmd, CLI::App*& create, CLI::App*& update);
int run_baseline(const BaselineCommand& cmd, bool update);

}  // namespace keyward::cli
