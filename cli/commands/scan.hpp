// `keyward scan`: options, running the scanner, writing the report, the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace keyward::cli {

// Options of keyward scan.
struct ScanCommand {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string output;
  std::vector<std::string> excludes;
  std::uint64_t max_size = 64ull << 20;
  unsigned threads = 0;
  bool quiet = false;
  bool one_file_system = false;
  bool no_default_excludes = false;
  bool include_network_fs = false;
  bool strict = false;
  bool list_trust_store = false;
  bool no_archives = false;
  unsigned archive_depth = 8;
  std::vector<std::string> password_files;
  bool no_nearby_passwords = false;
  std::string cache;
};

// Registers the subcommand; `run` is set to the action.
CLI::App* add_scan_command(CLI::App& app, ScanCommand& cmd);

// Runs it; returns the process exit code (DESIGN.md: 0 clean, 1 private key, 2 error).
int run_scan(const ScanCommand& cmd);

}  // namespace keyward::cli
