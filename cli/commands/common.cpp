// SPDX-License-Identifier: Apache-2.0
#include "commands/common.hpp"

#include <keyward/reporters/cbom.hpp>
#include <keyward/reporters/csv.hpp>
#include <keyward/reporters/html.hpp>
#include <keyward/reporters/json.hpp>
#include <keyward/reporters/junit.hpp>
#include <keyward/reporters/text.hpp>
#include <keyward/rules/passwords.hpp>
#include <keyward/rules/severity.hpp>
#include <keyward/version.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <map>

namespace keyward::cli {

void add_common_scan_flags(CLI::App& cmd, CommonScanFlags& flags) {
  cmd.add_option("--rules", flags.rules_dirs, "Also load the rule files (*.yaml) in DIR (repeatable)")
      ->type_name("DIR")
      ->check(CLI::ExistingDirectory);
  cmd.add_option(
         "--passwords", flags.password_files,
         "More passwords to try on key stores, one per line (repeatable; the built-in common list is always tried)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  cmd.add_option("--max-size", flags.max_size, "Skip files larger than this (e.g. 64M, 1G)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("64M");
  cmd.add_option("-j,--threads", flags.threads, "Worker threads (default: one per core)");
  cmd.add_flag("--no-archives", flags.no_archives, "Do not look inside zip/jar/apk/whl/tar archives and image layers");
  cmd.add_flag(
      "--no-nearby-passwords", flags.no_nearby_passwords,
      "Do not try passwords found next to a store (gradle.properties, application.properties, server.xml, .env)");
}

void add_walk_flags(CLI::App& cmd, WalkFlags& flags) {
  cmd.add_option("-e,--exclude", flags.excludes,
                 "Skip files and directories matching GLOB (repeatable; a GLOB without '/' matches names)")
      ->type_name("GLOB");
  cmd.add_flag("-x,--one-file-system", flags.one_file_system, "Do not cross into other file systems");
  cmd.add_flag("--no-default-excludes", flags.no_default_excludes,
               "Also scan .git/objects, __pycache__ and cache directories");
  cmd.add_flag("--include-network-fs", flags.include_network_fs,
               "Also scan NFS, CIFS, sshfs and automount file systems");
  cmd.add_option("--archive-depth", flags.archive_depth, "How deep archives inside archives are opened")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  cmd.add_option("--max-depth", flags.max_depth,
                 "Do not enter directories more than N levels below a root (counted as too_deep)")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(0u, 65535u));
}

void add_text_filter_flags(CLI::App& cmd, std::string& min_severity, std::vector<std::string>& kinds) {
  cmd.add_option("--min-severity", min_severity,
                 "Text report: list only findings at or above SEVERITY (the others are counted as hidden)")
      ->type_name("SEVERITY")
      ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}));
  cmd.add_option("--kind", kinds, "Text report: list only these kinds (repeatable or comma-separated)")
      ->type_name("KIND")
      ->delimiter(',')
      ->check(CLI::IsMember({"private_key", "keystore", "certificate", "public_key"}));
}

void add_color_option(CLI::App& cmd, common::ColorMode& mode) {
  cmd.add_option_function<std::string>(
         "--color", [&mode](const std::string& name) { mode = common::parse_color_mode(name).value_or(mode); },
         "Colour in text output: auto (a terminal, unless NO_COLOR is set or TERM=dumb), always (also into a pipe "
         "or file), never")
      ->type_name("WHEN")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->default_str("auto");
}

bool color_for_output(common::ColorMode mode, const std::string& output) {
  if (output.empty() || output == "-") return common::use_color(mode, STDOUT_FILENO);
  return mode == common::ColorMode::always;
}

void add_ranking_flags(CLI::App& cmd, RankingFlags& flags) {
  cmd.add_flag("--show-vendor", flags.show_vendor,
               "Do not cap package-owned, vendored and publicly known test keys at low (docs/rules.md)");
  cmd.add_option("--package-db", flags.package_db, "dpkg's info directory (default /var/lib/dpkg/info)")
      ->type_name("DIR")
      ->group("");  // hidden: tests point it at a fake package database
}

rules::ScoreContext score_context(const RankingFlags& flags) {
  rules::ScoreContext ctx;
  ctx.show_vendor = flags.show_vendor;
  if (!flags.package_db.empty()) ctx.package_db_dir = flags.package_db;
  return ctx;
}

rules::RuleSet load_rules(const std::vector<std::string>& dirs) {
  rules::RuleSet set = rules::RuleSet::builtin();
  for (const auto& d : dirs) set.load_dir(d);
  return set;
}

std::optional<rules::IgnoreFile> load_ignore_file(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kIgnoreFileName).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  return rules::IgnoreFile::load(path);
}

std::string ignored_line(std::string_view command, const std::string& file, std::size_t ignored) {
  if (ignored == 0) return {};
  return fmt::format("{}: {} ignored {} finding(s) (listed as suppressed)\n", command, file, ignored);
}

scanner::ScanOptions scan_options(const CommonScanFlags& flags) {
  scanner::ScanOptions opts;
  opts.max_size = flags.max_size;
  opts.threads = flags.threads;
  opts.archives = !flags.no_archives;
  opts.nearby_passwords = !flags.no_nearby_passwords;
  opts.tool_version = KEYWARD_VERSION;
  std::vector<common::SecretBytes> passwords = rules::builtin_passwords();
  for (const auto& file : flags.password_files) {
    auto more = rules::load_passwords(file);
    std::move(more.begin(), more.end(), std::back_inserter(passwords));
  }
  opts.passwords = common::SecretList(std::move(passwords));
  return opts;
}

scanner::ScanOptions scan_options(const CommonScanFlags& flags, const WalkFlags& walk) {
  scanner::ScanOptions opts = scan_options(flags);
  opts.excludes = walk.excludes;
  opts.default_excludes = !walk.no_default_excludes;
  opts.one_file_system = walk.one_file_system;
  opts.skip_network_fs = !walk.include_network_fs;
  opts.archive_limits.max_depth = walk.archive_depth;
  opts.max_depth = walk.max_depth;
  return opts;
}

std::vector<reporters::RuleHelp> rule_help(const rules::RuleSet& set) {
  std::vector<reporters::RuleHelp> out;
  for (const auto& r : set.detections()) {
    reporters::RuleHelp h;
    h.id = r.id;
    h.title = r.title;
    h.description = r.description;
    h.remediation = r.remediation;
    h.severity = std::string(rules::to_string(r.severity));
    h.references = r.references;
    out.push_back(std::move(h));
  }
  return out;
}

namespace {
struct FormatName {
  ReportFormat format;
  std::string_view name;
  std::string_view what;  // for --help
};
constexpr FormatName kFormatNames[] = {
    {ReportFormat::text, "text", "to read"},
    {ReportFormat::json, "json", "keyward.findings/v1"},
    {ReportFormat::jsonl, "jsonl", "a finding per line"},
    {ReportFormat::sarif, "sarif", "code scanning"},
    {ReportFormat::junit, "junit", "CI test views"},
    {ReportFormat::cbom, "cbom", "CycloneDX 1.6"},
    {ReportFormat::html, "html", "one self-contained page"},
    {ReportFormat::csv, "csv", "spreadsheets"},
};

std::string render_text_report(const scanner::ScanResult& result, const ReportSettings& settings) {
  reporters::TextOptions to;
  to.color = color_for_output(settings.color, settings.output);
  to.list_trust_store = settings.list_trust_store;
  to.seconds = settings.seconds;
  to.explain = settings.explain;
  if (!settings.min_severity.empty()) to.min_severity = rules::parse_severity(settings.min_severity);
  for (const auto& k : settings.kinds)
    if (auto kind = scanner::kind_from_string(k)) to.kinds.push_back(*kind);
  return reporters::render_text(result, to);
}
}  // namespace

std::string_view to_string(ReportFormat f) noexcept {
  for (const auto& n : kFormatNames)
    if (n.format == f) return n.name;
  return "text";
}

std::string_view file_extension(ReportFormat f) noexcept { return f == ReportFormat::text ? "txt" : to_string(f); }

CLI::Option* add_format_option(CLI::App& cmd, ReportFormat& format, std::initializer_list<ReportFormat> offered) {
  std::vector<std::string> names;
  std::string help = "Report format:";
  for (ReportFormat f : offered)
    for (const auto& n : kFormatNames)
      if (n.format == f) {
        names.emplace_back(n.name);
        help += fmt::format("{} {} ({})", names.size() == 1 ? "" : ",", n.name, n.what);
      }
  return cmd
      .add_option_function<std::string>(
          "-f,--format",
          [&format](const std::string& name) {
            for (const auto& n : kFormatNames)
              if (n.name == name) format = n.format;
          },
          help + "; docs/reports.md")
      ->check(CLI::IsMember(names))
      ->default_str(std::string(to_string(format)));
}

std::string render_report(const scanner::ScanResult& result, const rules::RuleSet& rules,
                          const ReportSettings& settings) {
  const reporters::ReportInput input{result, settings.plan, settings.title,
                                     result.finished_at != 0 ? result.finished_at : std::int64_t(std::time(nullptr)),
                                     KEYWARD_VERSION};
  switch (settings.format) {
    case ReportFormat::json: return reporters::render_json(result);
    case ReportFormat::jsonl: return reporters::render_jsonl(result);
    case ReportFormat::junit:
      return settings.junit_fails ? reporters::render_junit(result, settings.junit_fail_on, settings.junit_fails)
                                  : reporters::render_junit(result, settings.junit_fail_on);
    case ReportFormat::sarif: {
      reporters::SarifOptions so;
      so.root = settings.sarif_root;
      so.rules = rule_help(rules);
      so.tool_version = KEYWARD_VERSION;
      return reporters::render_sarif(result, so);
    }
    case ReportFormat::cbom: return reporters::render_cbom(input);
    case ReportFormat::html: return reporters::render_html(input);
    case ReportFormat::csv: return reporters::render_csv(input);
    case ReportFormat::text: break;
  }
  return render_text_report(result, settings);
}

migrate::Plan read_plan(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read plan {}: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return migrate::plan_from_json(text.str());
}

bool write_report(const std::string& report, const std::string& file) {
  if (file.empty() || file == "-") {
    std::fwrite(report.data(), 1, report.size(), stdout);
    std::fflush(stdout);
    return true;
  }
  // Not write_file_atomic: an output may be a device or a pipe (/dev/stdout) that a rename
  // would replace. The errno of the first failing call is what the user needs to read.
  std::FILE* out = std::fopen(file.c_str(), "wb");
  int err = out == nullptr ? errno : 0;
  if (out != nullptr) {
    if (std::fwrite(report.data(), 1, report.size(), out) != report.size() || std::fflush(out) != 0) err = errno;
    if (std::fclose(out) != 0 && err == 0) err = errno;
  }
  if (err == 0) return true;
  std::fprintf(stderr, "keyward: cannot write %s: %s\n", file.c_str(), std::strerror(err));
  return false;
}

bool roots_exist(const std::vector<std::string>& roots) {
  bool ok = true;
  for (const auto& root : roots) {
    struct stat st {};
    if (::stat(root.c_str(), &st) == 0) continue;
    std::fprintf(stderr, "keyward: cannot scan %s: %s\n", root.c_str(), std::strerror(errno));
    ok = false;
  }
  return ok;
}

bool output_writable(const std::string& file) {
  if (file.empty() || file == "-") return true;
  const auto slash = file.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
  struct stat st {};
  int err = 0;
  if (::stat(dir.c_str(), &st) != 0) err = errno;
  else if (!S_ISDIR(st.st_mode)) err = ENOTDIR;
  else if (::stat(file.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) err = EISDIR;
  else if (::access(file.c_str(), F_OK) == 0 ? ::access(file.c_str(), W_OK) != 0 : ::access(dir.c_str(), W_OK) != 0)
    err = errno;
  if (err == 0) return true;
  std::fprintf(stderr, "keyward: cannot write %s: %s (nothing was scanned)\n", file.c_str(), std::strerror(err));
  return false;
}

}  // namespace keyward::cli
