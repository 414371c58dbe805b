// SPDX-License-Identifier: Apache-2.0
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
#include <fmt/ranges.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
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

// Prints a progress line on stderr while the scan runs (when enabled; never from workers).
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
      "  keyward scan /srv --format html -o report.html   # one page to open or print (also cbom, csv)\n"
      "  keyward scan . --exclude 'node_modules' --exclude '*.iso' --explain\n"
      "  keyward scan app.apk image.tar --passwords team-passwords.txt\n"
      "  keyward scan ssh://scan@build-1/etc ssh://scan@build-1/home   # one SSH connection, two roots\n"
      "  keyward scan ssh://deploy@10.0.0.5:2222/opt -i ~/.ssh/keyward_scan --mode exec\n\n"
      "Every finding gets a risk score (0-100) and severity from the rules; --explain lists the\n"
      "factors behind each. Key stores (PKCS#12, JKS, JCEKS, encrypted zip) are tried with passwords\n"
      "found next to them, the empty password and a built-in list of common ones; which one opened a\n"
      "store is never shown.\n\n"
      "The text report lists exposures (private keys, key stores) first, ranked by severity then by\n"
      "risk, each with its short id (`keyward explain ID` accepts it); --min-severity and --kind filter\n"
      "what text lists (never JSON, SARIF or JUnit; hidden findings are still counted in the summary).\n\n"
      "Roots written ssh://[USER@]HOST[:PORT]/PATH are scanned on that host over SSH, agentless, with the\n"
      "same walk and detectors (docs/remote.md); each finding then names its host. Many hosts from a\n"
      "list: keyward remote --inventory.\n\n"
      "Configuration files (docs/scan.md): .keyward.yaml in the scanned directory (one PATH), then\n"
      "~/.config/keyward/config.yaml ($XDG_CONFIG_HOME), with keys exclude, rules and baseline. Flags win\n"
      "over the project file, which wins over the user file; excludes and rules add up. --no-config\n"
      "reads neither. A .keywardignore in that directory (gitignore syntax) suppresses what it matches.\n\n"
      "Exit status: 0 no private key found, 1 a private key found, 2 usage error or the scan\n"
      "could not run or an ssh:// host could not be scanned whole (with --strict also when files\n"
      "could not be read).\n"
      "Key bytes, passwords and passphrases never appear in any output: facts and fingerprints only.");
  sub->add_option("paths", cmd.paths, "Files or directories to scan")->required()->type_name("PATH...");
  add_format_option(*sub, cmd.format,
                    {ReportFormat::text, ReportFormat::json, ReportFormat::jsonl, ReportFormat::sarif,
                     ReportFormat::junit, ReportFormat::cbom, ReportFormat::html, ReportFormat::csv});
  sub->add_option("-o,--output", cmd.output, "Write the report to FILE instead of standard output")->type_name("FILE");
  add_walk_flags(*sub, cmd.walk);
  add_common_scan_flags(*sub, cmd.common);
  add_ranking_flags(*sub, cmd.ranking);
  sub->add_flag("-q,--quiet", cmd.quiet, "No progress line");
  add_color_option(*sub, cmd.color);
  sub->add_flag("--strict", cmd.strict, "Exit 2 when any file or directory could not be read");
  sub->add_flag("--list-trust-store", cmd.list_trust_store,
                "List system trust-store certificates one by one in text output");
  sub->add_flag("--explain", cmd.explain, "List the risk factors behind each finding's score");
  add_text_filter_flags(*sub, cmd.min_severity, cmd.kinds);
  sub->add_option("--cache", cmd.cache,
                  "Remember in FILE (mode 0600) what each file held and each directory listed; next time, "
                  "unchanged ones are only stat-ed, not read")
      ->type_name("FILE");
  sub->add_option("--allowlist", cmd.allowlist, "Central allowlist of known keys (YAML, see docs/rules.md)")
      ->type_name("FILE");
  cmd.config.baseline = {
      sub->add_option("--baseline", cmd.baseline, "Mark findings in this baseline as suppressed")->type_name("FILE")};
  sub->add_option("--plan", cmd.plan,
                  "A migration plan (keyward plan --format json): the html report shows each finding's plan "
                  "step, the cbom records keys a verified migration moved into an HSM")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  add_ssh_flags(*sub, cmd.ssh);
  add_no_config_flag(*sub, cmd.config);
  // Hidden: exec mode runs keyward on the remote host with these (docs/remote.md, "Modes").
  sub->add_flag("--stop-on-stdin-eof", cmd.stop_on_stdin_eof, "Stop the scan when standard input reaches EOF")
      ->group("");
  sub->add_option("--remove-dir", cmd.remove_dir, "Remove this private keyward-remote.* directory before scanning")
      ->group("");
  return sub;
}

std::atomic<bool>& cancel_flag() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  return g_cancel;
}

scanner::ScanResult run_with_progress(const scanner::ScanOptions& in, bool quiet, double& seconds,
                                      common::ColorMode color) {
  scanner::ScanOptions opts = in;
  scanner::ScanProgress progress;
  opts.progress = &progress;
  opts.cancel = &cancel_flag();
  // A live line redrawn with escapes: only on a terminal that shows them, whatever --color always says.
  const bool live = !quiet && color != common::ColorMode::never && common::capable_terminal(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  scanner::ScanResult result;
  {
    ProgressLine line(progress, live);
    result = scanner::scan(opts);
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

bool remove_private_dir(const std::string& dir) {
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  base = base.substr(base.find_last_of('/') == std::string::npos ? 0 : base.find_last_of('/') + 1);
  std::string why;
  struct stat st {};
  if (base.rfind("keyward-remote.", 0) != 0) why = "its name does not start with keyward-remote.";
  else if (::lstat(dir.c_str(), &st) != 0) why = std::strerror(errno);
  else if (S_ISLNK(st.st_mode)) why = "it is a symbolic link";
  else if (!S_ISDIR(st.st_mode)) why = "it is not a directory";
  else if (st.st_uid != ::geteuid()) why = "it is owned by another user";
  else if ((st.st_mode & 07777) != 0700) why = fmt::format("its mode is {:04o}, not 0700", st.st_mode & 07777);
  if (why.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // never follows a symlink inside
    if (!ec) return true;
    why = ec.message();
  }
  std::fprintf(stderr, "keyward: --remove-dir %s: not removed: %s\n", dir.c_str(), why.c_str());
  return false;
}

namespace {

// --stop-on-stdin-eof: a thread reads standard input until EOF (or an error), then cancels the
// scan. Detached: it may still wait in read() when the process exits.
void stop_on_stdin_eof() {
  std::thread([] {
    char buf[256];
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n > 0 || (n < 0 && errno == EINTR)) continue;
      break;
    }
    g_cancel.store(true);
  }).detach();
}

// The roots of one scan: local paths, and ssh:// roots grouped by endpoint (first seen first).
struct Roots {
  std::vector<std::string> local;
  std::vector<std::pair<ssh::Target, std::vector<std::string>>> remote;
};

// Splits cmd.paths; false (one line per bad URL on stderr) when an ssh:// root does not parse.
bool split_roots(const std::vector<std::string>& paths, Roots& out) {
  bool ok = true;
  for (const auto& p : paths) {
    if (!ssh::is_ssh_url(p)) {
      out.local.push_back(p);
      continue;
    }
    std::string error;
    const auto url = ssh::parse_ssh_url(p, error);
    if (!url) {
      std::fprintf(stderr, "keyward: cannot scan %s: %s\n", p.c_str(), error.c_str());
      ok = false;
      continue;
    }
    auto it = std::find_if(out.remote.begin(), out.remote.end(), [&](const auto& e) { return e.first == url->target; });
    if (it == out.remote.end()) it = out.remote.insert(out.remote.end(), {url->target, {}});
    it->second.push_back(url->path);
  }
  return ok;
}

// Everything a scan reads besides the tree, loaded before the tree is touched (and before
// --remove-dir removes where it may have come from).
struct ScanInputs {
  rules::RuleSet rules;
  std::optional<rules::Allowlist> allowlist;
  std::optional<rules::Baseline> baseline;
  std::optional<scanner::ScanCache> cache;
  std::optional<ssh::ConnectOptions> connect;
  std::optional<migrate::Plan> plan;
  std::optional<rules::IgnoreFile> ignore;  // the scanned directory's .keywardignore
};

ScanInputs load_inputs(const ScanCommand& cmd, const Roots& roots, const scanner::ScanOptions& opts,
                       const std::string& root_dir) {
  // The cache file is read while the rules load (each took 4-5 ms of a 0.1 s rescan).
  std::future<scanner::ScanCache> loading;
  if (!cmd.cache.empty() && !roots.local.empty())
    loading = std::async(std::launch::async, [path = cmd.cache, fp = scanner::ScanCache::fingerprint(opts)] {
      return scanner::ScanCache::load(path, fp);
    });
  ScanInputs in{load_rules(cmd.common.rules_dirs), {}, {}, {}, {}, {}, {}};
  if (!root_dir.empty()) in.ignore = load_ignore_file(root_dir);
  if (!cmd.allowlist.empty()) in.allowlist = rules::Allowlist::load(cmd.allowlist);
  if (!cmd.baseline.empty()) in.baseline = rules::Baseline::load(cmd.baseline);
  if (!cmd.plan.empty()) in.plan = read_plan(cmd.plan);
  if (!roots.remote.empty()) in.connect = connect_options(cmd.ssh);
  if (loading.valid()) in.cache = loading.get();
  return in;
}

// Scans the local roots (if any), then each endpoint's roots into one result (remote findings name
// their host). Returns false when some host was not scanned whole.
bool scan_all(const ScanCommand& cmd, const Roots& roots, scanner::ScanOptions opts, ScanInputs& in,
              scanner::ScanResult& result, double& secs) {
  if (in.cache) opts.cache = &*in.cache;
  if (!roots.local.empty()) {
    opts.roots = roots.local;
    result = run_with_progress(opts, cmd.quiet, secs, cmd.color);
  } else {
    result = empty_result(opts);
  }
  opts.cancel = &cancel_flag();
  const auto start = std::chrono::steady_clock::now();
  bool whole = true;
  const ssh::Mode mode = ssh::parse_mode(cmd.ssh.mode).value_or(ssh::Mode::sftp);
  for (const auto& [target, paths] : roots.remote) {
    ssh::HostResult host =
        scan_endpoint(target, paths, opts, in.connect->copy(), mode, cmd.ssh.connections, cmd.common.password_files);
    print_host_problem(host);
    whole = whole && host.status == ssh::HostStatus::ok;
    if (host.result) merge_result(result, std::move(*host.result), target);
    else result.complete = false;
  }
  secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return whole;
}

}  // namespace

int run_scan(const ScanCommand& given) {
  // Bad input is refused before anything is scanned.
  Roots roots;
  if (!split_roots(given.paths, roots) || !roots_exist(roots.local) || !output_writable(given.output)) return 2;
  // Exec mode's remote side (docs/remote.md, "Modes") scans with the settings the local keyward
  // sent, as an sftp-mode scan would: no configuration file and no .keywardignore of the host's.
  const bool remote_side = given.stop_on_stdin_eof || !given.remove_dir.empty();
  const std::string root_dir = remote_side || !roots.remote.empty() ? std::string() : scanned_directory(roots.local);
  ScanCommand cmd = given;  // with what the configuration files add (flags win)
  cmd.config.no_config = cmd.config.no_config || remote_side;
  apply_config(cmd.config, root_dir, {&cmd.walk.excludes, &cmd.common.rules_dirs, nullptr, &cmd.baseline});
  const scanner::ScanOptions opts = scan_options(cmd.common, cmd.walk);
  ScanInputs in = load_inputs(cmd, roots, opts, root_dir);
  if (!cmd.remove_dir.empty() && !remove_private_dir(cmd.remove_dir)) return 2;
  if (cmd.stop_on_stdin_eof) stop_on_stdin_eof();

  double secs = 0;
  scanner::ScanResult result;
  const bool hosts_whole = scan_all(cmd, roots, opts, in, result, secs);

  ci::TrackedFiles tracked;  // in-git-repository: each repository's index read once for this run
  rules::ScoreContext ctx = score_context(cmd.ranking);
  ctx.git_tracked = [&tracked](const std::string& path) { return tracked.tracked(path); };
  rules::score(result, in.rules, ctx);  // remote findings: no package or git lookups on this machine
  const std::size_t ignored = in.ignore ? rules::apply_ignore_file(result, *in.ignore) : 0;
  if (in.allowlist)
    for (const auto& w : rules::apply_allowlist(result, *in.allowlist, rules::ScoreContext::current_time()))
      std::fprintf(stderr, "keyward: %s\n", w.c_str());
  if (in.baseline) rules::apply_baseline(result, *in.baseline, cmd.baseline);

  ReportSettings rs;
  rs.format = cmd.format;
  rs.output = cmd.output;
  rs.color = cmd.color;
  rs.sarif_root = cmd.paths.size() == 1 && roots.remote.empty() ? cmd.paths.front() : std::string(".");
  rs.junit_fail_on = "high";
  rs.seconds = secs;
  rs.explain = cmd.explain;
  rs.list_trust_store = cmd.list_trust_store;
  rs.min_severity = cmd.min_severity;
  rs.kinds = cmd.kinds;
  rs.plan = in.plan ? &*in.plan : nullptr;
  rs.title = "scan of " + fmt::format("{}", fmt::join(cmd.paths, ", "));
  std::string report = render_report(result, in.rules, rs);
  if (cmd.format == ReportFormat::text)
    report += ignored_line("keyward scan", (std::filesystem::path(root_dir) / kIgnoreFileName).string(), ignored);
  if (!write_report(report, cmd.output)) return 2;
  // After the report: a cache that cannot be written costs the next scan time, not this result.
  if (in.cache) {
    try {
      in.cache->save(cmd.cache);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "keyward: warning: %s\n", e.what());
    }
  }
  if (!hosts_whole) return 2;
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
