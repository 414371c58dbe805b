#include "commands/rules_cmd.hpp"

#include "commands/scan.hpp"

#include <keyward/reporters/text.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_test.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/rules/severity.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <cstdio>

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
      "ID is a finding id from a report (a unique prefix is enough).\n"
      "Example: keyward explain 3f0c9a ~/projects/app");
  sub->add_option("id", cmd.id, "Finding id or a unique prefix of it")->required();
  sub->add_option("paths", cmd.paths, "Where to scan for it")->capture_default_str();
  add_common_scan_flags(*sub, cmd.common);
  return sub;
}

int run_explain(const ExplainCommand& cmd) {
  const rules::RuleSet set = load_rules(cmd.common.rules_dirs);
  scanner::ScanOptions opts = scan_options(cmd.common);
  opts.roots = cmd.paths;
  double secs = 0;
  scanner::ScanResult result = run_with_progress(opts, true, secs);
  rules::score(result, set, rules::ScoreContext{});
  std::vector<const scanner::Finding*> matches;
  for (const auto& f : result.findings)
    if (f.id.rfind(cmd.id, 0) == 0) matches.push_back(&f);
  if (matches.size() != 1) {
    std::fprintf(stderr, "keyward: %s finding has the id %s under %s; run `keyward scan` there to see the ids\n",
                 matches.empty() ? "no" : "more than one", cmd.id.c_str(), cmd.paths.front().c_str());
    return 2;
  }
  const scanner::Finding& f = *matches.front();
  std::string out =
      fmt::format("{}  {}\n", f.id, f.location.path + (f.location.member.empty() ? "" : "!" + f.location.member));
  out += fmt::format("rule {}  ({} {})\n", f.rule, scanner::to_string(f.kind), scanner::to_string(f.format));
  if (const auto* r = set.rule(f.rule)) out += r->title + "\n";
  if (f.risk) {
    out += fmt::format("score {} -> {}\n", f.risk->score, f.risk->severity);
    for (const auto& x : f.risk->factors) out += fmt::format("  {:+4d}  {:<32} {}\n", x.points, x.id, x.why);
    if (!f.risk->remediation.empty()) out += "fix: " + f.risk->remediation + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace keyward::cli
