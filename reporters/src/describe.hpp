// SPDX-License-Identifier: Apache-2.0
// What the CI-facing reporters (SARIF, JUnit) say about one finding, shared so both say the
// same thing: the severity ladder, the one-sentence description and the rule fallbacks.
// Private to keyward::reporters. Never puts key bytes, passwords or key comments in a sentence.
#pragma once

#include <keyward/scanner/finding.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::reporters::detail {

// Rank of a severity on info < low < medium < high < critical (0..4); nullopt if unknown.
std::optional<int> severity_rank(std::string_view severity) noexcept;

// The severity a rule has when nothing else says: private keys high, key stores medium,
// certificates and public keys info (used when no RuleHelp and no risk are given).
std::string_view fallback_severity(std::string_view rule_id) noexcept;

// The finding's severity: its risk's when rules scored it, else `rule_default`.
std::string finding_severity(const scanner::Finding& f, std::string_view rule_default);

// The rule id of a finding ("private-key/pkcs8"); derived from kind and format when unset.
std::string rule_id(const scanner::Finding& f);

// The path a person reads: relative to the scan root when known, else as reached.
std::string display_path(const scanner::Finding& f);

// "1 key", "2 certificates": a count and its noun, plural when it is not one.
std::string counted(std::size_t n, std::string_view noun);

// One readable sentence: what (key type, encrypted or not), where (path, archive member, line),
// and the risk (score, severity, top factors) when scored. `path` is the path to show.
std::string describe(const scanner::Finding& f, std::string_view path);

}  // namespace keyward::reporters::detail
