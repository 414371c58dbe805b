// SPDX-License-Identifier: Apache-2.0
#include "commands/ci.hpp"

#include "commands/scan.hpp"

#include <keyward/ci/git_repo.hpp>
#include <keyward/ci/tracked_files.hpp>
#include <keyward/rules/allowlist.hpp>
#include <keyward/rules/baseline.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/gate.hpp>
#include <keyward/rules/inline_allow.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/rules/severity.hpp>
#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/skip_reason.hpp>
#include <keyward/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace keyward::cli {
namespace {

// Scans blobs (index or history) one by one: they are not files on disk.
void scan_blobs(const std::function<void(const std::function<void(const ci::GitBlob&)>&)>& source,
                const scanner::ScanOptions& opts, const std::string& root, scanner::ScanResult& result) {
  source([&](const ci::GitBlob& blob) {
    const std::size_t before = result.findings.size();
    scanner::FileFacts facts;
    facts.size = blob.content.size();
    facts.mode = 0644;
    facts.mtime = blob.author_date;
    ++result.stats.files_seen;
    scanner::scan_buffer(blob.content, root + blob.path, blob.path, facts, opts, result.findings, result.stats);
    for (std::size_t i = before; i < result.findings.size(); ++i) {
      result.findings[i].location.path = blob.path;  // in the repository, not on disk
      if (!blob.commit.empty()) result.findings[i].git = scanner::GitFacts{blob.commit, blob.author_date};
    }
  });
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The index's staged blobs, or every blob in history (a shallow clone throws ci::ShallowHistory,
// whose message names the fetch to run), scanned and paired.
scanner::ScanResult scan_git_blobs(const ci::GitRepo& repo, const scanner::ScanOptions& opts, const std::string& root,
                                   bool history) {
  scanner::ScanResult result;
  result.tool_version = KEYWARD_VERSION;
  result.roots = {root};
  result.started_at = now_seconds();
  if (history) {
    ci::HistoryStats hs;
    scan_blobs([&](const auto& fn) { repo.for_each_history_blob(opts.max_size, fn, hs); }, opts, root, result);
    if (hs.skipped_large != 0) scanner::count_skip(result.stats, scanner::SkipReason::too_large, hs.skipped_large);
  } else {
    scan_blobs([&](const auto& fn) { repo.for_each_staged(opts.max_size, fn); }, opts, root, result);
  }
  scanner::pair_findings(result.findings);
  result.finished_at = now_seconds();
  return result;
}

// The baseline the gate applies: --baseline, else .keyward-baseline.json at the repository root
// when it exists (where `keyward baseline create` writes it); empty when there is none.
std::string baseline_file(const CiCommand& cmd, const std::string& root) {
  if (!cmd.baseline.empty()) return cmd.baseline;
  const std::string found = root + kDefaultBaselineName;
  std::error_code ec;
  return std::filesystem::is_regular_file(found, ec) ? found : std::string();
}

// Applies every way of allowing a known finding, in order of authority; returns how many the
// ignore file suppressed.
std::size_t apply_allows(scanner::ScanResult& result, const CiCommand& cmd,
                         const std::optional<rules::IgnoreFile>& ignore, const std::string& baseline) {
  const std::size_t ignored = ignore ? rules::apply_ignore_file(result, *ignore) : 0;
  if (!cmd.no_inline_allow && !cmd.staged && !cmd.history) rules::apply_inline_allows(result);
  if (!cmd.allowlist.empty())
    for (const auto& w : rules::apply_allowlist(result, rules::Allowlist::load(cmd.allowlist), now_seconds()))
      std::fprintf(stderr, "keyward: %s\n", w.c_str());
  if (!baseline.empty()) rules::apply_baseline(result, rules::Baseline::load(baseline), baseline);
  return ignored;
}

}  // namespace

CLI::App* add_ci_command(CLI::App& app, CiCommand& cmd) {
  CLI::App* sub = app.add_subcommand("ci", "Fail a pipeline or a commit when a private key is in the repository");
  sub->footer(
      "Examples:\n"
      "  keyward ci                                   # the working tree: tracked + untracked-not-ignored files\n"
      "  keyward ci --format sarif -o keyward.sarif   # for GitHub code scanning\n"
      "  keyward ci --since origin/main               # only what this branch changed\n"
      "  keyward ci --staged                          # pre-commit: what is about to be committed\n"
      "  keyward ci --history                         # every blob ever committed, on any ref\n"
      "  keyward ci --fail-on high                    # relax: only findings at or above high fail\n"
      "  keyward ci --baseline old.json               # only what is new since that baseline\n\n"
      "What fails: without --fail-on, every private key, and every key store that holds or may hold\n"
      "one, whatever its score (a committed passphrase-protected key fails too); certificates and\n"
      "public keys alone do not. With --fail-on SEVERITY, any finding (keys, certificates, public\n"
      "keys) at or above SEVERITY fails and nothing below it does: `--fail-on high` lets a medium key\n"
      "pass, `--fail-on low` also fails on certificates scored low or above.\n\n"
      "A baseline: --baseline FILE, else .keyward-baseline.json at the repository root when it exists\n"
      "(where `keyward baseline create` writes it); the summary names the baseline applied.\n\n"
      "Known findings can be allowed by .keywardignore (paths, gitignore syntax), a `keyward:allow`\n"
      "comment on the line before a PEM block (turn off with --no-inline-allow), a central allowlist of\n"
      "key fingerprints with reason, approver and expiry (--allowlist), or a baseline. Allowed findings\n"
      "stay in the report as suppressed.\n\n"
      "Configuration files (docs/ci.md): .keyward.yaml at the repository root, then\n"
      "~/.config/keyward/config.yaml ($XDG_CONFIG_HOME), with keys fail_on, baseline and rules (paths\n"
      "relative to the file). Flags win over the project file, which wins over the user file; rules add\n"
      "up. An unknown key or a bad value is an error (file:line, exit 2). --no-config reads neither.\n\n"
      "Exit status: 0 nothing fails, 1 a finding fails the gate, 2 usage error, unreadable baseline,\n"
      "allowlist or rules, not a git repository, or a shallow clone (for --since or --history: the\n"
      "message says which `git fetch` to run).");
  sub->add_option("path", cmd.path, "A directory inside the repository")->capture_default_str();
  cmd.config.fail_on = {
      sub->add_option("--fail-on", cmd.fail_on,
                      "Fail on any finding at or above this severity, instead of on every key (the default)")
          ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}))
          ->type_name("SEVERITY")};
  cmd.config.baseline = {
      sub->add_option("--baseline", cmd.baseline,
                      "Only findings not in this baseline count (default: .keyward-baseline.json at the root, if any)")
          ->type_name("FILE")};
  sub->add_option("--allowlist", cmd.allowlist, "Central allowlist of key fingerprints (YAML)")->type_name("FILE");
  auto* since =
      sub->add_option("--since", cmd.since, "Only files changed since this ref (e.g. origin/main)")->type_name("REF");
  auto* staged = sub->add_flag("--staged", cmd.staged, "Scan the index (pre-commit), not the working tree");
  auto* history = sub->add_flag("--history", cmd.history, "Scan every blob reachable from any ref, once");
  since->excludes(staged)->excludes(history);
  staged->excludes(history);
  sub->add_flag("--no-inline-allow", cmd.no_inline_allow, "Ignore keyward:allow comments in the scanned files");
  add_format_option(*sub, cmd.format, {ReportFormat::text, ReportFormat::sarif, ReportFormat::junit, ReportFormat::json});
  sub->add_option("-o,--output", cmd.output, "Write the report to FILE")->type_name("FILE");
  sub->add_flag("--explain", cmd.explain, "List the risk factors behind each finding (text)");
  add_color_option(*sub, cmd.color);
  add_common_scan_flags(*sub, cmd.common);
  add_ranking_flags(*sub, cmd.ranking);
  add_no_config_flag(*sub, cmd.config);
  return sub;
}

namespace {

// The repository's files (the working tree, or what changed since --since), its index (--staged)
// or every blob in its history (--history), scanned; secs is the wall time.
scanner::ScanResult scan_repository(const CiCommand& cmd, const ci::GitRepo& repo, scanner::ScanOptions& opts,
                                    const std::string& root, double& secs) {
  const auto start = std::chrono::steady_clock::now();
  scanner::ScanResult result;
  if (cmd.staged || cmd.history) {
    result = scan_git_blobs(repo, opts, root, cmd.history);
  } else {
    opts.files = cmd.since.empty() ? repo.worktree_files() : repo.changed_since(cmd.since);
    if (opts.files.empty()) {
      result.tool_version = KEYWARD_VERSION;
      result.roots = {root};
      result.started_at = result.finished_at = now_seconds();
    } else {
      double scan_secs = 0;
      result = run_with_progress(opts, true, scan_secs);
    }
  }
  secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// Findings that fail the gate (not allowed, and a key, or at or above --fail-on).
std::size_t count_failing(const scanner::ScanResult& result, const rules::GatePolicy& policy) {
  return static_cast<std::size_t>(
      std::count_if(result.findings.begin(), result.findings.end(),
                    [&](const scanner::Finding& f) { return rules::fails_gate(f, policy); }));
}

// The verdict line, and which baseline was applied (a picked-up one is named, so a pass is never
// a mystery).
std::string summary(std::size_t failing, const std::string& gate, const std::string& baseline,
                    const scanner::ScanResult& result, std::size_t ignored) {
  std::string out = ignored_line("keyward ci", kIgnoreFileName, ignored);
  if (!baseline.empty()) {
    const auto baselined = std::count_if(result.findings.begin(), result.findings.end(), [](const auto& f) {
      return f.suppressed && f.suppressed->kind == rules::kBaselineSuppression;
    });
    out += fmt::format("keyward ci: baseline {} applied ({} finding(s) baselined)\n", baseline, baselined);
  }
  out += failing == 0 ? fmt::format("keyward ci: passed (no finding left that fails: {})\n", gate)
                      : fmt::format("keyward ci: FAILED: {} finding(s) left that fail: {}\n", failing, gate);
  return out;
}

}  // namespace

int run_ci(const CiCommand& given) {
  if (!roots_exist({given.path}) || !output_writable(given.output)) return 2;  // before any work
  const ci::GitRepo repo = ci::GitRepo::open(given.path);
  const std::string root = repo.workdir();
  CiCommand cmd = given;  // with what the configuration files add (flags win)
  apply_config(cmd.config, root, {nullptr, &cmd.common.rules_dirs, &cmd.fail_on, &cmd.baseline});
  rules::GatePolicy policy;
  if (!cmd.fail_on.empty()) policy.fail_on = rules::parse_severity(cmd.fail_on);
  const rules::RuleSet rule_set = load_rules(cmd.common.rules_dirs);
  // Unreadable baseline or allowlist: an error, never a pass.
  const std::string baseline = baseline_file(cmd, root);
  if (!baseline.empty()) (void)rules::Baseline::load(baseline);
  if (!cmd.allowlist.empty()) (void)rules::Allowlist::load(cmd.allowlist);
  const std::optional<rules::IgnoreFile> ignore = load_ignore_file(root);

  scanner::ScanOptions opts = scan_options(cmd.common);
  opts.base_dir = root;
  opts.nearby_passwords = opts.nearby_passwords && !cmd.staged && !cmd.history;

  double secs = 0;
  scanner::ScanResult result = scan_repository(cmd, repo, opts, root, secs);
  ci::TrackedFiles tracked;  // in-git-repository for files on disk (history blobs carry their commit)
  rules::ScoreContext ctx = score_context(cmd.ranking);
  ctx.base_dir = root;
  ctx.git_tracked = [&tracked](const std::string& path) { return tracked.tracked(path); };
  // A repository's content is not installed by packages: no package lookup (it costs a pre-commit
  // hook a quarter of a second, docs/performance.md) unless --package-db asks for one.
  if (cmd.ranking.package_db.empty()) ctx.package_db_dir.clear();
  rules::score(result, rule_set, ctx);
  const std::size_t ignored = apply_allows(result, cmd, ignore, baseline);
  // In a repository, findings are named by their path in it (as SARIF and baselines are).
  for (auto& f : result.findings)
    if (!f.relative_path.empty()) f.location.path = f.relative_path;
  const std::size_t failing = count_failing(result, policy);
  const std::string gate = rules::describe_gate(policy);
  const std::string shown_baseline = baseline.rfind(root, 0) == 0 ? baseline.substr(root.size()) : baseline;
  const std::string verdict = summary(failing, gate, shown_baseline, result, ignored);

  ReportSettings rs;
  rs.format = cmd.format;
  rs.output = cmd.output;
  rs.color = cmd.color;
  rs.sarif_root = root;
  rs.junit_fail_on = gate;
  rs.junit_fails = [&](const scanner::Finding& f) { return rules::fails_gate(f, policy); };
  rs.seconds = secs;
  rs.explain = cmd.explain;
  std::string report = render_report(result, rule_set, rs);
  if (cmd.format == ReportFormat::text) report += verdict;
  if (!write_report(report, cmd.output)) return 2;
  if (cmd.format != ReportFormat::text) std::fputs(verdict.c_str(), stderr);
  return failing == 0 ? 0 : 1;
}

CLI::App* add_baseline_command(CLI::App& app, BaselineCommand& cmd, CLI::App*& create, CLI::App*& update) {
  CLI::App* sub = app.add_subcommand(
      "baseline", "Record the findings a repository has now, so that the gate only fails on new ones");
  sub->require_subcommand(1);
  sub->footer(
      "The baseline is keyed on finding identity (key fingerprint + path relative to the repository),\n"
      "sorted, with no timestamps or line numbers, so it survives edits and merges. Use it with\n"
      "`keyward ci` (which applies .keyward-baseline.json at the repository root by itself), with\n"
      "`keyward ci --baseline FILE`, or `keyward scan --baseline FILE`. `--history` records every\n"
      "blob in history, for `keyward ci --history`.");
  for (auto** target : {&create, &update}) {
    const bool is_update = target == &update;
    *target = sub->add_subcommand(is_update ? "update" : "create",
                                  is_update ? "Add new findings to an existing baseline and drop those gone"
                                            : "Write a baseline of the repository's current findings");
    (*target)
        ->add_option("path", cmd.path, "A directory inside the repository (or any directory)")
        ->capture_default_str();
    cmd.config.baseline.push_back(
        (*target)
            ->add_option("-o,--output", cmd.output,
                         "The baseline file (default: the configuration's baseline, else .keyward-baseline.json at "
                         "the repository root, where keyward ci finds it)")
            ->type_name("FILE"));
    (*target)->add_flag("--history", cmd.history,
                        "Record every blob in the repository's history (for keyward ci --history)");
    add_common_scan_flags(**target, cmd.common);
    add_no_config_flag(**target, cmd.config);
  }
  return sub;
}

int run_baseline(const BaselineCommand& given, bool update) {
  if (!roots_exist({given.path})) return 2;
  std::string root;
  std::optional<ci::GitRepo> repo;
  try {
    repo.emplace(ci::GitRepo::open(given.path));
    root = repo->workdir();
  } catch (const ci::GitError&) {
    if (given.history) throw;  // history needs a repository
  }
  BaselineCommand cmd = given;  // with what the configuration files add (flags win)
  apply_config(cmd.config, repo ? root : cmd.path, {nullptr, &cmd.common.rules_dirs, nullptr, &cmd.output});
  if (!output_writable(cmd.output)) return 2;
  scanner::ScanOptions opts = scan_options(cmd.common);
  if (repo) opts.base_dir = root;
  else opts.roots = {cmd.path};  // not a repository: the directory itself
  double secs = 0;
  scanner::ScanResult result;
  if (repo && cmd.history) {
    opts.nearby_passwords = false;
    result = scan_git_blobs(*repo, opts, root, true);
  } else {
    if (repo) opts.files = repo->worktree_files();
    if (!opts.files.empty() || !opts.roots.empty()) result = run_with_progress(opts, true, secs);
  }
  const std::string output = !cmd.output.empty() ? cmd.output : root + kDefaultBaselineName;
  std::string text;
  if (update) {
    rules::Baseline b = rules::Baseline::load(output);
    b.update(result);
    text = b.to_json();
  } else {
    text = rules::Baseline::create(result);
  }
  if (!write_report(text, output)) return 2;
  std::fprintf(stderr, "keyward: baseline %s with %zu finding(s): %s\n", update ? "updated" : "written",
               rules::Baseline::parse(text, output).entries().size(), output.c_str());
  return 0;
}

}  // namespace keyward::cli
