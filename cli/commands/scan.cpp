#include "commands/scan.hpp"

#include <keyward/ci/tracked_files.hpp>
#include <keyward/rules/allowlist.hpp>
#include <keyward/rules/baseline.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_cache.hpp>
#include <keyward/version.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

namespace keyward::cli {
namespace {

std::atomic<bool> g_cancel{false};

extern "C" void on_interrupt(int) { g_cancel.store(true); }

// Prints a progress line on stderr while the scan runs (only on a TTY; never from workers).
class ProgressLine {
 public:
  ProgressLine(const scanner::ScanProgress& p, bool enabled) : p_(p), enabled_(enabled) {
    if (enabled_) thread_ = std::thread([this] { loop(); });
  }
  ~ProgressLine() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (shown_) std::fputs("\r\x1b[K", stderr);
  }

 private:
  void loop() {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; })) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (secs < 1.0) continue;  // short scans print nothing
      const double mib = static_cast<double>(p_.bytes.load()) / (1 << 20);
      std::fprintf(stderr, "\r\x1b[Kscanning: %llu files, %.0f MiB, %llu findings, %.0f MiB/s",
                   static_cast<unsigned long long>(p_.files.load()), mib,
                   static_cast<unsigned long long>(p_.findings.load()), mib / secs);
      std::fflush(stderr);
      shown_ = true;
    }
  }
  const scanner::ScanProgress& p_;
  bool enabled_;
  bool shown_ = false;
  bool done_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace

CLI::App* add_scan_command(CLI::App& app, ScanCommand& cmd) {
  CLI::App* sub = app.add_subcommand("scan", "Find private keys, key stores and certificates under PATHs");
  sub->footer(
      "Examples:\n"
      "  keyward scan ~                        # your home, text report\n"
      "  keyward scan / --one-file-system      # the whole root file system\n"
      "  keyward scan src --format json -o findings.json\n"
      "  keyward scan . --exclude 'node_modules' --exclude '*.iso' --explain\n"
      "  keyward scan app.apk image.tar --passwords team-passwords.txt\n\n"
      "Every finding gets a risk score (0-100) and severity from the rules; --explain lists the\n"
      "factors behind each. Key stores (PKCS#12, JKS, JCEKS, encrypted zip) are tried with passwords\n"
      "found next to them, the empty password and a built-in list of common ones; which one opened a\n"
      "store is never shown.\n\n"
      "The text report lists exposures (private keys, key stores) first, ranked by severity then by\n"
      "risk, each with its short id (`keyward explain ID` accepts it); --min-severity and --kind filter\n"
      "what text lists (never JSON, SARIF or JUnit; hidden findings are still counted in the summary).\n\n"
      "Exit status: 0 no private key found, 1 a private key found, 2 usage error or the scan\n"
      "could not run (with --strict also when files could not be read).\n"
      "Key bytes, passwords and passphrases never appear in any output: facts and fingerprints only.");
  sub->add_option("paths", cmd.paths, "Files or directories to scan")->required()->type_name("PATH...");
  sub->add_option("-f,--format", cmd.format, "Report format")
      ->check(CLI::IsMember({"text", "json", "jsonl", "sarif", "junit"}))
      ->capture_default_str();
  sub->add_option("-o,--output", cmd.output, "Write the report to FILE instead of standard output")->type_name("FILE");
  sub->add_option("-e,--exclude", cmd.excludes,
                  "Skip files and directories matching GLOB (repeatable; a GLOB without '/' matches names)")
      ->type_name("GLOB");
  add_common_scan_flags(*sub, cmd.common);
  add_ranking_flags(*sub, cmd.ranking);
  sub->add_flag("-q,--quiet", cmd.quiet, "No progress line");
  sub->add_flag("-x,--one-file-system", cmd.one_file_system, "Do not cross into other file systems");
  sub->add_flag("--no-default-excludes", cmd.no_default_excludes,
                "Also scan .git/objects, __pycache__ and cache directories");
  sub->add_flag("--include-network-fs", cmd.include_network_fs,
                "Also scan NFS, CIFS, sshfs and automount file systems");
  sub->add_flag("--strict", cmd.strict, "Exit 2 when any file or directory could not be read");
  sub->add_flag("--list-trust-store", cmd.list_trust_store,
                "List system trust-store certificates one by one in text output");
  sub->add_flag("--explain", cmd.explain, "List the risk factors behind each finding's score");
  sub->add_option("--archive-depth", cmd.archive_depth, "How deep archives inside archives are opened")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  sub->add_option("--max-depth", cmd.max_depth,
                  "Do not enter directories more than N levels below a root (counted as too_deep)")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(0u, 65535u));
  add_text_filter_flags(*sub, cmd.min_severity, cmd.kinds);
  sub->add_option("--cache", cmd.cache,
                  "Remember in FILE (mode 0600) what each file held and each directory listed; next time, "
                  "unchanged ones are only stat-ed, not read")
      ->type_name("FILE");
  sub->add_option("--allowlist", cmd.allowlist, "Central allowlist of known keys (YAML, see docs/rules.md)")
      ->type_name("FILE");
  sub->add_option("--baseline", cmd.baseline, "Mark findings in this baseline as suppressed")->type_name("FILE");
  return sub;
}

scanner::ScanResult run_with_progress(const scanner::ScanOptions& in, bool quiet, double& seconds) {
  scanner::ScanOptions opts = in;
  scanner::ScanProgress progress;
  opts.progress = &progress;
  opts.cancel = &g_cancel;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const auto start = std::chrono::steady_clock::now();
  scanner::ScanResult result;
  {
    ProgressLine line(progress, tty && !quiet);
    result = scanner::scan(opts);
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

int run_scan(const ScanCommand& cmd) {
  // Bad input is refused before anything is scanned.
  if (!roots_exist(cmd.paths) || !output_writable(cmd.output)) return 2;
  scanner::ScanOptions opts = scan_options(cmd.common);
  opts.roots = cmd.paths;
  opts.excludes = cmd.excludes;
  opts.default_excludes = !cmd.no_default_excludes;
  opts.one_file_system = cmd.one_file_system;
  opts.skip_network_fs = !cmd.include_network_fs;
  opts.archive_limits.max_depth = cmd.archive_depth;
  opts.max_depth = cmd.max_depth;
  // The cache file is read while the rules load (each took 4-5 ms of a 0.1 s rescan).
  std::future<scanner::ScanCache> loading;
  if (!cmd.cache.empty())
    loading = std::async(std::launch::async, [path = cmd.cache, fp = scanner::ScanCache::fingerprint(opts)] {
      return scanner::ScanCache::load(path, fp);
    });

  const rules::RuleSet rule_set = load_rules(cmd.common.rules_dirs);
  std::optional<rules::Allowlist> allowlist;
  if (!cmd.allowlist.empty()) allowlist = rules::Allowlist::load(cmd.allowlist);
  std::optional<rules::Baseline> baseline;
  if (!cmd.baseline.empty()) baseline = rules::Baseline::load(cmd.baseline);

  std::optional<scanner::ScanCache> cache;
  if (loading.valid()) {
    cache = loading.get();
    opts.cache = &*cache;
  }

  double secs = 0;
  scanner::ScanResult result = run_with_progress(opts, cmd.quiet, secs);

  ci::TrackedFiles tracked;  // in-git-repository: each repository's index read once for this run
  rules::ScoreContext ctx = score_context(cmd.ranking);
  ctx.git_tracked = [&tracked](const std::string& path) { return tracked.tracked(path); };
  rules::score(result, rule_set, ctx);
  if (allowlist)
    for (const auto& w : rules::apply_allowlist(result, *allowlist, rules::ScoreContext::current_time()))
      std::fprintf(stderr, "keyward: %s\n", w.c_str());
  if (baseline) rules::apply_baseline(result, *baseline, cmd.baseline);

  ReportSettings rs;
  rs.format = cmd.format;
  rs.output = cmd.output;
  rs.sarif_root = cmd.paths.size() == 1 ? cmd.paths.front() : std::string(".");
  rs.junit_fail_on = "high";
  rs.seconds = secs;
  rs.explain = cmd.explain;
  rs.list_trust_store = cmd.list_trust_store;
  rs.min_severity = cmd.min_severity;
  rs.kinds = cmd.kinds;
  const std::string report = render_report(result, rule_set, rs);
  if (!write_report(report, cmd.output)) return 2;
  // After the report: a cache that cannot be written costs the next scan time, not this result.
  if (cache) {
    try {
      cache->save(cmd.cache);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "keyward: warning: %s\n", e.what());
    }
  }
  if (!result.complete) {
    std::fprintf(stderr, "keyward: scan interrupted; the report is incomplete\n");
    return 2;
  }
  if (cmd.strict && result.stats.errors != 0) return 2;
  for (const auto& f : result.findings)
    if (f.holds_private_key() && !f.suppressed) return 1;
  return 0;
}

}  // namespace keyward::cli
