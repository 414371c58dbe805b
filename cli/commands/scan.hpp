// SPDX-License-Identifier: Apache-2.0
// `keyward scan`: options, running the scanner and the rules, writing the report, the exit code.
#pragma once

#include "commands/common.hpp"
#include "commands/config_file.hpp"
#include "commands/ssh_common.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace keyward::cli {

// Options of keyward scan.
struct ScanCommand {
  std::vector<std::string> paths;
  ReportFormat format = ReportFormat::text;
  std::string output;
  CommonScanFlags common;
  WalkFlags walk;
  RankingFlags ranking;
  SshFlags ssh;        // for ssh:// roots
  ConfigFlags config;  // .keyward.yaml at the scanned directory and the user's file (--no-config)
  bool quiet = false;
  common::ColorMode color = common::ColorMode::auto_;  // --color: the text report and the progress line
  bool strict = false;
  bool list_trust_store = false;
  bool explain = false;
  std::string min_severity;        // --min-severity: text lists only findings at or above it
  std::vector<std::string> kinds;  // --kind: text lists only these kinds
  std::string cache;
  std::string allowlist;
  std::string baseline;
  std::string plan;  // --plan FILE: a keyward plan (JSON) for the html and cbom reports
  // Hidden, for exec mode's remote side (docs/remote.md, "Modes"): stop when stdin reaches EOF
  // (the SSH channel closed), and remove the private directory keyward was copied into before
  // the scan starts.
  bool stop_on_stdin_eof = false;
  std::string remove_dir;
};

// Registers the subcommand.
CLI::App* add_scan_command(CLI::App& app, ScanCommand& cmd);

// Runs it; returns the process exit code: 0 clean, 1 private key, 2 error (also when an ssh://
// root's host could not be scanned whole; the others' findings are still reported).
int run_scan(const ScanCommand& cmd);

// --remove-dir: removes DIR recursively when it is a real directory (not a symlink) owned by this
// uid, mode 0700, named keyward-remote.*; false (with one line on stderr) otherwise.
bool remove_private_dir(const std::string& dir);

// The flag Ctrl-C and SIGTERM set (the handlers installed on the first call): scans stop early.
std::atomic<bool>& cancel_flag();

// Runs the scanner with Ctrl-C handling and, unless quiet or --color never, a progress line when
// stderr is a terminal that understands escapes (common::capable_terminal; never from workers).
scanner::ScanResult run_with_progress(const scanner::ScanOptions& opts, bool quiet, double& seconds,
                                      common::ColorMode color = common::ColorMode::auto_);

}  // namespace keyward::cli
