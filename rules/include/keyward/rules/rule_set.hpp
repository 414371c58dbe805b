// SPDX-License-Identifier: Apache-2.0
// RuleSet: every rule file keyward reads, merged: detection rule documentation, policy rules,
// the risk factor table, the lists of publicly known keys and the vendored-path globs. The built-ins are compiled in
// (rules/builtin/*.yaml, rules/factors.yaml, rules/data/known-keys.txt and
// known-public-keys.txt); `--rules DIR` adds and
// overrides by id (a field given later replaces the same field given earlier).
// Used by: the CLI (`keyward rules list|test`, scoring), the agent, reporters (SARIF rule docs).
// Loading is setup: a broken file throws RuleError naming file, line and a stable code. Shared
// read-only once loaded.
#pragma once

#include <keyward/rules/detection_rule.hpp>
#include <keyward/rules/factor.hpp>
#include <keyward/rules/policy_rule.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules {

// The merged rules.
class RuleSet {
 public:
  // An empty set (no factors: the engine needs builtin() or a full factor table).
  RuleSet() = default;

  // The compiled-in rules, factors and known keys. Throws RuleError only if the build embedded a
  // broken file (a test guards it).
  static RuleSet builtin();

  // Loads every *.yaml and *.yml file of `dir` in name order, then checks cross references.
  // Throws RuleError (file, line, code) for the first problem; "cannot-read" when `dir` is not a
  // readable directory.
  void load_dir(const std::string& dir);
  // Loads one file, then checks cross references.
  void load_file(const std::string& path);
  // Loads YAML text as if read from `file_name`, then checks cross references.
  void load_text(std::string_view text, const std::string& file_name);

  // The documentation of a detection rule id; nullptr if unknown.
  const DetectionRule* rule(std::string_view id) const;
  // A factor by id; nullptr if unknown.
  const FactorDef* factor(std::string_view id) const;
  // A policy rule by id; nullptr if unknown.
  const PolicyRule* policy(std::string_view id) const;

  // Detection rules, sorted by id.
  const std::vector<DetectionRule>& detections() const { return detections_; }
  // Policy rules in the order they were first defined (the order the engine applies them).
  const std::vector<PolicyRule>& policies() const { return policies_; }
  // Factors in the order they were first defined.
  const std::vector<FactorDef>& factors() const { return factors_; }
  // Publicly known keys: SPKI SHA-256 (lowercase hex) -> what it is.
  const std::map<std::string, std::string>& known_keys() const { return known_keys_; }
  // Adds known keys from a text list: "<spki-sha256-hex> <name>" per line, '#' comments.
  // Throws RuleError "bad-fingerprint" naming the line.
  void load_known_keys(std::string_view text, const std::string& file_name);
  // Keys published in public test suites and documentation (their private half ships with
  // them): SPKI SHA-256 (lowercase hex) -> where it was seen (factor known-public-key).
  const std::map<std::string, std::string>& known_public_keys() const { return known_public_keys_; }
  // Adds such keys from a text list in the known-keys format.
  void load_known_public_keys(std::string_view text, const std::string& file_name);
  // Globs on a file's absolute path (an archive member as path/member) that mark vendored
  // dependencies: language package caches, virtualenvs, vendor trees, library archives
  // (factor vendored-dependency). Every rule file's `vendored_paths` adds to the list.
  const std::vector<std::string>& vendored_paths() const { return vendored_paths_; }
  // Files loaded, in order.
  const std::vector<std::string>& sources() const { return sources_; }

 private:
  void load_yaml(std::string_view text, const std::string& file_name);
  void check_references() const;

  std::vector<DetectionRule> detections_;
  std::vector<PolicyRule> policies_;
  std::vector<FactorDef> factors_;
  std::map<std::string, std::string> known_keys_;
  std::map<std::string, std::string> known_public_keys_;
  std::vector<std::string> vendored_paths_;
  std::vector<std::string> sources_;
};

}  // namespace keyward::rules
