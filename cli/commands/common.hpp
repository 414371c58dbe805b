// What several commands share: the rule set (built-ins plus --rules DIRs), the scanner's
// options from the common flags, report output, and the RuleSet -> SARIF rule help mapping.
#pragma once

#include <keyward/reporters/sarif.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/scanner/scan.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace keyward::cli {

// Flags every scanning command takes.
struct CommonScanFlags {
  std::vector<std::string> rules_dirs;
  std::vector<std::string> password_files;
  std::uint64_t max_size = 64ull << 20;
  unsigned threads = 0;
  bool no_archives = false;
  bool no_nearby_passwords = false;
};

// Registers --rules, --passwords, --max-size, --threads, --no-archives, --no-nearby-passwords.
void add_common_scan_flags(CLI::App& cmd, CommonScanFlags& flags);

// Built-in rules plus every --rules DIR (throws rules::RuleError naming file:line on a bad file).
rules::RuleSet load_rules(const std::vector<std::string>& dirs);

// ScanOptions from the common flags (password list loaded: built-in + files).
scanner::ScanOptions scan_options(const CommonScanFlags& flags);

// The SARIF rule help for every detection rule in the set.
std::vector<reporters::RuleHelp> rule_help(const rules::RuleSet& rules);

// Writes a report to FILE, or stdout when empty; false (and a message on stderr) when it cannot.
bool write_report(const std::string& report, const std::string& file);

}  // namespace keyward::cli
