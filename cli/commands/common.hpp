// SPDX-License-Identifier: Apache-2.0
// What several commands share: the rule set (built-ins plus --rules DIRs), the scanner's
// options from the common flags, the report (format dispatch and output), and the RuleSet ->
// SARIF rule help mapping. Used by: keyward scan, keyward ci, keyward baseline.
#pragma once

#include <keyward/common/terminal.hpp>
#include <keyward/migrate/plan.hpp>
#include <keyward/reporters/sarif.hpp>
#include <keyward/rules/ignore_file.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/scan.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
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

// How a tree is walked: the flags keyward scan and keyward remote share (a remote tree is walked
// with the same rules as a local one, docs/remote.md).
struct WalkFlags {
  std::vector<std::string> excludes;
  bool one_file_system = false;
  bool no_default_excludes = false;
  bool include_network_fs = false;
  unsigned archive_depth = 8;
  unsigned max_depth = 512;
};

// Registers -e/--exclude, -x/--one-file-system, --no-default-excludes, --include-network-fs,
// --archive-depth and --max-depth.
void add_walk_flags(CLI::App& cmd, WalkFlags& flags);

// Flags of the commands that score findings (scan, ci): how provenance counts.
struct RankingFlags {
  bool show_vendor = false;  // --show-vendor: lift the cap at low on vendored/package-owned keys
  std::string package_db;    // --package-db DIR (hidden, for tests): dpkg's info directory
};

// Registers --show-vendor and the hidden --package-db.
void add_ranking_flags(CLI::App& cmd, RankingFlags& flags);

// The ScoreContext these flags ask for (everything else at its default).
rules::ScoreContext score_context(const RankingFlags& flags);

// Built-in rules plus every --rules DIR (throws rules::RuleError naming file:line on a bad file).
rules::RuleSet load_rules(const std::vector<std::string>& dirs);

// Where `keyward scan` and `keyward ci` look for the ignore file: DIR/.keywardignore.
inline constexpr const char* kIgnoreFileName = ".keywardignore";

// DIR/.keywardignore when it exists (nullopt when not), loaded before anything is scanned; throws
// rules::RuleError naming file:line when it cannot be used. rules::apply_ignore_file then marks
// the findings whose path relative to DIR it matches as suppressed (kind "ignore-file").
std::optional<rules::IgnoreFile> load_ignore_file(const std::string& dir);

// The line the text report ends with when an ignore file suppressed findings ("" when none did):
// "<command>: <file> ignored N finding(s) (listed as suppressed)".
std::string ignored_line(std::string_view command, const std::string& file, std::size_t ignored);

// ScanOptions from the common flags (password list loaded: built-in + files).
scanner::ScanOptions scan_options(const CommonScanFlags& flags);
// The same, with the walk flags applied (roots left empty).
scanner::ScanOptions scan_options(const CommonScanFlags& flags, const WalkFlags& walk);

// The SARIF rule help for every detection rule in the set.
std::vector<reporters::RuleHelp> rule_help(const rules::RuleSet& rules);

// The formats of --format (docs/reports.md). cbom, html and csv read a ReportInput
// (reporters/report_input.hpp): the findings and, with --plan, the migration plan.
enum class ReportFormat { text, json, jsonl, sarif, junit, cbom, html, csv };
// "text", "json", ... as typed after --format; also the extension of a per-host file (text: "txt").
std::string_view to_string(ReportFormat f) noexcept;
std::string_view file_extension(ReportFormat f) noexcept;

// Registers -f/--format with the formats a command offers (the help lists them; anything else
// is a usage error naming the choices).
CLI::Option* add_format_option(CLI::App& cmd, ReportFormat& format, std::initializer_list<ReportFormat> offered);

// What a report needs besides the findings and the rules.
struct ReportSettings {
  ReportFormat format = ReportFormat::text;            // --format
  std::string output;                                  // --output ("" or "-": stdout)
  common::ColorMode color = common::ColorMode::auto_;  // --color (text)
  std::string sarif_root;                              // SARIF's %SRCROOT%
  std::string junit_fail_on;  // the lowest severity a JUnit test case fails at (or the gate, in words)
  std::function<bool(const scanner::Finding&)> junit_fails;  // when set: which findings fail (keyward ci)
  double seconds = 0;                                        // the scan's wall time (text)
  bool explain = false;                                      // --explain (text)
  bool list_trust_store = false;                             // --list-trust-store (text)
  std::string min_severity;                                  // --min-severity (text): list only findings at or above it
  std::vector<std::string> kinds;                            // --kind (text): list only these kinds
  const migrate::Plan* plan = nullptr;                       // --plan (html: each finding's plan step; cbom)
  std::string title;                                         // what the report is of (html, cbom)
};

// Registers --min-severity and --kind (repeatable or comma-separated), the text report's filters.
void add_text_filter_flags(CLI::App& cmd, std::string& min_severity, std::vector<std::string>& kinds);

// Registers --color WHEN (auto, always, never) on a command whose text output has colour.
void add_color_option(CLI::App& cmd, common::ColorMode& mode);

// Whether text written to `output` ("" or "-": stdout) gets colour: always -> yes, even into a file
// or a pipe; never -> no; auto -> only stdout, as common::use_color decides for it.
bool color_for_output(common::ColorMode mode, const std::string& output);

// The report of a scored scan in the asked format (text coloured as color_for_output decides).
std::string render_report(const scanner::ScanResult& result, const rules::RuleSet& rules,
                          const ReportSettings& settings);

// A plan written by `keyward plan --format json` (throws std::runtime_error naming the file when
// it cannot be read, std::invalid_argument naming the field when it is malformed).
migrate::Plan read_plan(const std::string& path);

// Writes a report to FILE, or stdout when empty or "-"; false (and one line on stderr naming FILE
// and the errno text, e.g. "No space left on device") when it cannot.
bool write_report(const std::string& report, const std::string& file);

// Checks, before a scan starts, that every root exists: prints one line per missing root
// ("keyward: cannot scan ROOT: No such file or directory") and returns false if any is missing.
bool roots_exist(const std::vector<std::string>& roots);

// Checks, before a scan starts, that FILE (an --output) can be written: its directory exists, is
// a directory and is writable, and FILE is not a directory. Prints one line naming FILE and the
// reason and returns false when not. Empty or "-" (stdout) is always fine.
bool output_writable(const std::string& file);

}  // namespace keyward::cli
