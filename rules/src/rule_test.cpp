// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/rule_test.hpp>

#include <keyward/rules/engine.hpp>
#include <keyward/rules/passwords.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/scan.hpp>

#include "generate.hpp"
#include "glob.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace keyward::rules {

std::size_t RuleTestReport::passed() const {
  return static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [](const auto& r) { return r.passed; }));
}

std::size_t RuleTestReport::failed() const { return results.size() - passed(); }

namespace {

namespace fs = std::filesystem;

// A temporary directory removed on scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "keyward-rules-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("cannot create a temporary directory for the rule examples in " +
                               fs::temp_directory_path().string());
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool selected(const std::vector<std::string>& only, const std::string& id) {
  if (only.empty()) return true;
  return std::any_of(only.begin(), only.end(),
                     [&](const std::string& g) { return g == id || detail::glob_match(g, id); });
}

bool has_factor(const scanner::Finding& f, const std::string& id) {
  return f.risk && std::any_of(f.risk->factors.begin(), f.risk->factors.end(),
                               [&](const scanner::RiskFactor& x) { return x.id == id; });
}

std::string describe(const scanner::Finding& f) {
  std::string s = f.rule + " at " + (f.relative_path.empty() ? f.location.path : f.relative_path);
  if (!f.location.member.empty()) s += "!" + f.location.member;
  if (f.risk) {
    s += " (" + f.risk->severity + ", " + std::to_string(f.risk->score) + ":";
    for (const auto& x : f.risk->factors) s += " " + x.id + (x.points >= 0 ? "+" : "") + std::to_string(x.points);
    s += ")";
  }
  return s;
}

std::string describe_all(const scanner::ScanResult& r) {
  if (r.findings.empty()) return "no findings";
  std::string s;
  for (const auto& f : r.findings) s += (s.empty() ? "" : "; ") + describe(f);
  return s;
}

// Checks one candidate finding against the expectation; empty when it holds, else why not.
std::string check(const scanner::Finding& f, const ExampleExpect& x) {
  const Severity sev = parse_severity(f.risk ? f.risk->severity : "info").value_or(Severity::info);
  if (x.severity_at_least && sev < *x.severity_at_least)
    return "severity " + std::string(to_string(sev)) + " is below " + std::string(to_string(*x.severity_at_least));
  if (x.severity_at_most && sev > *x.severity_at_most)
    return "severity " + std::string(to_string(sev)) + " is above " + std::string(to_string(*x.severity_at_most));
  for (const auto& id : x.factors)
    if (!has_factor(f, id)) return "factor " + id + " is missing";
  for (const auto& id : x.absent_factors)
    if (has_factor(f, id)) return "factor " + id + " is present";
  return {};
}

ExampleResult run_one(const RuleSet& rules, const std::string& rule_id, bool is_policy, const Example& e,
                      const fs::path& dir, const common::SecretList& passwords) {
  ExampleResult res;
  res.rule_id = rule_id;
  res.positive = e.positive;
  res.generate = e.generate;
  res.file = e.file;
  res.line = e.line;
  scanner::ScanResult result;
  try {
    fs::create_directories(dir);
    for (const auto& g : detail::generate_example(e)) {
      const fs::path p = dir / g.path;
      fs::create_directories(p.parent_path());
      std::ofstream(p, std::ios::binary) << g.bytes;
      ::chmod(p.c_str(), g.mode);
    }
    scanner::ScanOptions opts;
    opts.roots = {dir.string()};
    opts.threads = 1;
    opts.passwords = passwords;
    opts.tool_version = "rules-test";
    result = scanner::scan(opts);
  } catch (const std::exception& ex) {
    res.detail = ex.what();
    return res;
  }
  // Facts a test tree cannot have on disk: the owner is the example's, or the user whose home
  // the path is in (so an example does not depend on who runs it).
  const std::string path =
      e.path.empty() ? detail::default_example_path(e.generate.substr(e.generate.find(' ') + 1)) : e.path;
  std::string owner = e.owner;
  if (owner.empty()) {
    if (path.rfind("home/", 0) == 0) owner = path.substr(5, path.find('/', 5) - 5);
    else if (path.rfind("Users/", 0) == 0) owner = path.substr(6, path.find('/', 6) - 6);
    else if (path.rfind("root/", 0) == 0) owner = "root";
  }
  if (!owner.empty())
    for (auto& f : result.findings) f.file.owner = owner;

  ScoreContext ctx;
  ctx.virtual_root = true;
  score(result, rules, ctx);

  const std::string target = !e.expect.rule.empty() ? e.expect.rule : is_policy ? std::string() : rule_id;
  std::vector<const scanner::Finding*> candidates;
  for (const auto& f : result.findings) {
    if (!target.empty() && f.rule != target) continue;
    if (is_policy && !has_factor(f, rule_id)) continue;
    candidates.push_back(&f);
  }
  const std::string what = is_policy ? "finding that policy " + rule_id + " applies to" : "finding with rule " + target;
  if (!e.positive) {
    res.passed = candidates.empty();
    res.detail = res.passed ? "as expected, no " + what : "expected no " + what + ", saw: " + describe_all(result);
    return res;
  }
  if (candidates.empty()) {
    res.detail = "expected a " + what + ", saw: " + describe_all(result);
    return res;
  }
  std::string why;
  for (const auto* f : candidates) {
    why = check(*f, e.expect);
    if (why.empty()) {
      res.passed = true;
      res.detail = describe(*f);
      return res;
    }
  }
  res.detail = why + ": " + describe_all(result);
  return res;
}

}  // namespace

RuleTestReport run_rule_examples(const RuleSet& rules, const RuleTestOptions& options) {
  RuleTestReport report;
  const common::SecretList passwords =
      options.passwords.empty() ? common::SecretList(builtin_passwords()) : options.passwords;
  TempDir tmp;
  std::size_t n = 0;
  auto run = [&](const std::string& id, bool is_policy, const std::vector<Example>& examples) {
    if (!selected(options.only, id)) return;
    if (std::none_of(examples.begin(), examples.end(), [](const Example& e) { return e.positive; }))
      report.without_examples.push_back(id);
    for (const auto& e : examples) {
      ExampleResult r = run_one(rules, id, is_policy, e, tmp.path() / std::to_string(n++), passwords);
      if (options.on_result) options.on_result(r);
      report.results.push_back(std::move(r));
    }
  };
  for (const auto& d : rules.detections()) run(d.id, false, d.examples);
  for (const auto& p : rules.policies())
    if (p.enabled) run(p.id, true, p.examples);
  return report;
}

}  // namespace keyward::rules
