// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the suppression files that a pull request can commit and `keyward ci`
// reads: the baseline (.keyward-baseline.json, rules/src/baseline.cpp), the allowlist
// (rules/src/allowlist.cpp) and inline `keyward:allow` comments (rules/src/inline_allow.cpp).
// Must hold: parsing throws nothing but RuleError; a baseline that parsed writes JSON that parses
// again to the same entries; an inline allow answers for every line without throwing.
#include <keyward/rules/allowlist.hpp>
#include <keyward/rules/baseline.hpp>
#include <keyward/rules/inline_allow.hpp>
#include <keyward/rules/rule_error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::rules;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const Baseline b = Baseline::parse(text, "fuzz/baseline.json");
    // Outside a try of its own: what to_json writes must parse again, to the same entries.
    const Baseline again = Baseline::parse(b.to_json(), "rewritten.json");
    if (again.to_json() != b.to_json()) __builtin_trap();
  } catch (const RuleError& e) {
    if (e.code.empty()) __builtin_trap();
  }
  try {
    (void)Allowlist::parse(text, "fuzz/allowlist.yaml");
  } catch (const RuleError& e) {
    if (e.code.empty()) __builtin_trap();
  }
  std::string reason;
  for (std::uint64_t line = 0; line < 8; ++line) (void)inline_allowed(text, line, reason);
  return 0;
}
