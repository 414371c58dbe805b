// SPDX-License-Identifier: Apache-2.0
#include "commands/rules_cmd.hpp"

#include "commands/scan.hpp"

#include <keyward/common/terminal.hpp>
#include <keyward/reporters/text.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rank.hpp>
#include <keyward/rules/rule_test.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/rules/severity.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace keyward::cli {

CLI::App* add_rules_command(CLI::App& app, RulesCommand& cmd, CLI::App*& list, CLI::App*& test) {
  CLI::App* sub = app.add_subcommand("rules", "List the detection rules, risk factors and policies, or test them");
  sub->require_subcommand(1);
  list = sub->add_subcommand("list", "Print every detection rule, risk factor and policy rule in force");
  test = sub->add_subcommand("test", "Build each rule's examples (keys generated now) and check what keyward reports");
  test->footer("Exit status: 0 every example behaved, 1 an example failed, 2 a rule file could not be read.");
  for (CLI::App* c : {list, test})
    c->add_option("--rules", cmd.rules_dirs, "Also load the rule files (*.yaml) in DIR (repeatable)")
        ->type_name("DIR")
        ->check(CLI::ExistingDirectory);
  test->add_option("--only", cmd.only, "Test only these rule ids (globs allowed)")->type_name("ID");
  return sub;
}

int run_rules_list(const RulesCommand& cmd) {
  const rules::RuleSet set = load_rules(cmd.rules_dirs);
  std::string out = "Detection rules\n";
  for (const auto& r : set.detections())
    out += fmt::format("  {:<32} {:<8} {}\n", r.id, rules::to_string(r.severity), r.title);
  out +=
      "\nRisk factors (score = sum of points, clipped to 0..100; critical >= 90, high >= 70, medium >= 40, low >= "
      "15)\n";
  for (const auto& f : set.factors()) out += fmt::format("  {:<34} {:+4d}  {}\n", f.id, f.points, f.why);
  if (!set.policies().empty()) {
    out += "\nPolicy rules\n";
    for (const auto& p : set.policies()) out += fmt::format("  {:<32} {}\n", p.id, p.description);
  }
  out += "\nLoaded from:";
  for (const auto& s : set.sources()) out += " " + s;
  out += "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_rules_test(const RulesCommand& cmd) {
  const rules::RuleSet set = load_rules(cmd.rules_dirs);
  rules::RuleTestOptions o;
  o.only = cmd.only;
  o.on_result = [](const rules::ExampleResult& r) {
    std::printf("%s %-32s %-8s %s%s%s\n", r.passed ? "ok  " : "FAIL", r.rule_id.c_str(),
                r.positive ? "positive" : "negative", r.generate.c_str(), r.detail.empty() ? "" : "  -- ",
                r.detail.c_str());
  };
  const auto report = rules::run_rule_examples(set, o);
  for (const auto& id : report.without_examples) std::printf("note: rule %s has no positive example\n", id.c_str());
  std::printf("rules test: %zu passed, %zu failed\n", report.passed(), report.failed());
  return report.failed() == 0 ? 0 : 1;
}

CLI::App* add_explain_command(CLI::App& app, ExplainCommand& cmd) {
  CLI::App* sub = app.add_subcommand("explain", "Show why a finding scores what it does (scans PATHs to find it)");
  sub->footer(
      "WHAT is a finding id from a report (the short id the text report shows, or any unique prefix),\n"
      "or a path: a file, a file!member inside an archive (as reports show members), or a directory;\n"
      "every finding there is explained. An id is looked for under PATHs (default: the current\n"
      "directory); a path is scanned itself unless PATHs are given (give the root of the original\n"
      "scan to see the same ids: ids are made from the path relative to the scan root).\n"
      "The rules of the configuration files are loaded as keyward scan loads them (docs/scan.md,\n"
      "\"Configuration files\"; --no-config reads none).\n"
      "Examples: keyward explain 3f0c9a1b ~/projects/app\n"
      "          keyward explain ~/projects/app/deploy/server.key\n"
      "          keyward explain 'dist/app.jar!META-INF/sign.pem'\n"
      "Exit status: 0 explained, 2 no finding matched (or the id prefix matched several: they are listed).");
  sub->add_option("what", cmd.id, "Finding id (or a unique prefix), or PATH[!MEMBER]")
      ->required()
      ->type_name("ID|PATH");
  sub->add_option("paths", cmd.paths, "Where to scan (default: . for an id, the path itself for a path)")
      ->type_name("PATH...");
  add_common_scan_flags(*sub, cmd.common);
  add_no_config_flag(*sub, cmd.config);
  return sub;
}

namespace {

// What `keyward explain` was asked about: a path (with an archive member) or an id prefix.
struct ExplainTarget {
  bool is_path = false;
  std::string path;    // as given
  std::string real;    // realpath of it
  std::string member;  // inside an archive, "" for the file itself
  bool is_dir = false;
};

ExplainTarget explain_target(const std::string& what) {
  ExplainTarget t;
  const auto bang = what.find('!');
  for (const std::string& candidate : {what, bang == std::string::npos ? std::string() : what.substr(0, bang)}) {
    struct stat st {};
    if (candidate.empty() || ::stat(candidate.c_str(), &st) != 0) continue;
    char* real = ::realpath(candidate.c_str(), nullptr);
    if (real == nullptr) continue;
    t.is_path = true;
    t.path = candidate;
    t.real = real;
    std::free(real);
    t.is_dir = S_ISDIR(st.st_mode);
    if (candidate.size() < what.size()) t.member = what.substr(candidate.size() + 1);
    return t;
  }
  return t;
}

// Whether a finding sits in the target: the same file (compared by real path, so `./a` and
// `/abs/a` match), under the directory, and in the member (or a member nested in it).
class PathMatcher {
 public:
  explicit PathMatcher(const ExplainTarget& t) : t_(t) {}
  bool operator()(const scanner::Finding& f) {
    auto it = real_.find(f.location.path);
    if (it == real_.end()) {
      char* r = ::realpath(f.location.path.c_str(), nullptr);
      it = real_.emplace(f.location.path, r == nullptr ? std::string() : std::string(r)).first;
      std::free(r);
    }
    const std::string& real = it->second;
    if (real.empty()) return false;
    if (t_.is_dir) return real.rfind(t_.real == "/" ? "/" : t_.real + "/", 0) == 0;
    if (real != t_.real) return false;
    const std::string& m = f.location.member;
    return t_.member.empty() || m == t_.member || m.rfind(t_.member + "!", 0) == 0;
  }

 private:
  const ExplainTarget& t_;
  std::map<std::string, std::string> real_;
};

std::string explain_one(const scanner::Finding& f, const rules::RuleSet& set) {
  std::string out =
      fmt::format("{}  {}\n", f.id,
                  common::terminal_safe(f.location.path + (f.location.member.empty() ? "" : "!" + f.location.member)));
  out += fmt::format("rule {}  ({} {})\n", f.rule, scanner::to_string(f.kind), scanner::to_string(f.format));
  if (const auto* r = set.rule(f.rule)) out += r->title + "\n";
  if (f.risk) {
    out += fmt::format("score {} (raw {}) -> {}\n", f.risk->score, f.risk->raw, f.risk->severity);
    for (const auto& x : f.risk->factors) out += fmt::format("  {:+4d}  {:<32} {}\n", x.points, x.id, x.why);
    if (!f.risk->remediation.empty()) out += "fix: " + f.risk->remediation + "\n";
  }
  return out;
}

}  // namespace

int run_explain(const ExplainCommand& given) {
  const ExplainTarget target = explain_target(given.id);
  std::vector<std::string> roots = given.paths;
  if (roots.empty()) roots.push_back(target.is_path ? target.path.substr(0, target.path.find('!')) : ".");
  if (!roots_exist(roots)) return 2;
  ExplainCommand cmd = given;  // the rules keyward scan of the same root would load
  apply_config(cmd.config, scanned_directory(roots), {nullptr, &cmd.common.rules_dirs, nullptr, nullptr});
  const rules::RuleSet set = load_rules(cmd.common.rules_dirs);
  scanner::ScanOptions opts = scan_options(cmd.common);
  opts.roots = roots;
  double secs = 0;
  scanner::ScanResult result = run_with_progress(opts, true, secs);
  rules::score(result, set, rules::ScoreContext{});
  rules::sort_by_rank(result.findings);
  std::vector<const scanner::Finding*> matches;
  PathMatcher in_path(target);
  for (const auto& f : result.findings)
    if (target.is_path ? in_path(f) : f.id.rfind(cmd.id, 0) == 0) matches.push_back(&f);
  if (matches.empty()) {
    std::fprintf(stderr, "keyward: no finding %s %s under %s; run `keyward scan` there to see the ids\n",
                 target.is_path ? "in" : "has the id", cmd.id.c_str(), roots.front().c_str());
    return 2;
  }
  if (!target.is_path && matches.size() > 1) {  // an ambiguous prefix: list, never guess
    std::fprintf(stderr, "keyward: %zu findings have ids starting with %s; give more of the id:\n", matches.size(),
                 cmd.id.c_str());
    for (const auto* f : matches)
      std::fprintf(stderr, "  %s  %s\n", f->id.c_str(), common::terminal_safe(f->location.path).c_str());
    return 2;
  }
  if (target.is_path && cmd.paths.empty())
    std::fprintf(stderr,
                 "keyward: scanned %s alone: ids and scan-wide factors (copies, pairs) are this scan's; give the "
                 "original scan's root after it to match that report\n",
                 target.path.c_str());
  std::string out;
  for (const auto* f : matches) out += (out.empty() ? "" : "\n") + explain_one(*f, set);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace keyward::cli
