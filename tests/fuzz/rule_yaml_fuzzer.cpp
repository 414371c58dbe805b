// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for rule files (rules/src/rule_set.cpp: detection rules, factors, policies and
// known-key lists in YAML), which `keyward ci --rules DIR` reads from the repository under test.
// Must hold: loading throws nothing but RuleError (file, line and a stable code), whatever the
// bytes; a set that loaded still holds the built-in rules.
#include <keyward/rules/rule_error.hpp>
#include <keyward/rules/rule_set.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::rules;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RuleSet set = RuleSet::builtin();
  try {
    set.load_text(text, "fuzz/rules.yaml");
  } catch (const RuleError& e) {
    if (e.code.empty() || e.file != "fuzz/rules.yaml") __builtin_trap();
  }
  try {
    set.load_known_keys(text, "fuzz/known-keys.txt");
  } catch (const RuleError& e) {
    if (e.code.empty()) __builtin_trap();
  }
  return 0;
}
