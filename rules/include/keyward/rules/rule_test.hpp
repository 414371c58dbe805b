// SPDX-License-Identifier: Apache-2.0
// Rule examples as tests (`keyward rules test`): every example of every detection and policy
// rule is generated in its own temporary tree (keys made in memory with OpenSSL, never read from
// the repository), scanned with the real scanner, scored with the engine and checked.
// Used by: the CLI (`keyward rules test`) and the test suite (built-in rules must pass).
// Writes keys only under a fresh temporary directory that it removes.
#pragma once

#include <keyward/common/secret.hpp>
#include <keyward/rules/rule_set.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace keyward::rules {

// The outcome of one example.
struct ExampleResult {
  std::string rule_id;
  bool positive = true;
  std::string generate;
  std::string file;  // where the example is written
  std::uint64_t line = 0;
  bool passed = false;
  std::string detail;  // why it failed (or what it saw)
};

// The outcome of all examples.
struct RuleTestReport {
  std::vector<ExampleResult> results;
  std::vector<std::string> without_examples;  // rule ids that carry no positive example
  std::size_t passed() const;
  std::size_t failed() const;
};

// Options of a run.
struct RuleTestOptions {
  std::vector<std::string> only;  // rule ids (or globs) to test; empty: all
  common::SecretList passwords;   // common-password list handed to the scanner; empty: the built-in one
  std::function<void(const ExampleResult&)> on_result;  // progress callback, optional
};

// Runs the examples. Throws only on setup failures (no temporary directory).
RuleTestReport run_rule_examples(const RuleSet& rules, const RuleTestOptions& options = {});

// The generator vocabulary: algorithms ("rsa-2048", "ec-p256", "ed25519", "dsa-1024", ...) and
// formats ("pem-pkcs8", "openssh", "pkcs12", "jks", ...), for validation and `rules list`.
const std::vector<std::string>& generator_algorithms();
const std::vector<std::string>& generator_formats();

}  // namespace keyward::rules
