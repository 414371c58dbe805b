// `keyward scan`: options, running the scanner and the rules, writing the report, the exit code.
#pragma once

#include "commands/common.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace keyward::cli {

// Options of keyward scan.
struct ScanCommand {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string output;
  std::vector<std::string> excludes;
  CommonScanFlags common;
  RankingFlags ranking;
  bool quiet = false;
  bool one_file_system = false;
  bool no_default_excludes = false;
  bool include_network_fs = false;
  bool strict = false;
  bool list_trust_store = false;
  bool explain = false;
  unsigned archive_depth = 8;
  unsigned max_depth = 512;
  std::string min_severity;        // --min-severity: text lists only findings at or above it
  std::vector<std::string> kinds;  // --kind: text lists only these kinds
  std::string cache;
  std::string allowlist;
  std::string baseline;
};

// Registers the subcommand.
CLI::App* add_scan_command(CLI::App& app, ScanCommand& cmd);

// Runs it; returns the process exit code: 0 clean, 1 private key, 2 error.
int run_scan(const ScanCommand& cmd);

// Runs the scanner with a progress line on a TTY (never from workers) and Ctrl-C handling.
scanner::ScanResult run_with_progress(const scanner::ScanOptions& opts, bool quiet, double& seconds);

}  // namespace keyward::cli
