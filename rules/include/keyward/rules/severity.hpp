// SPDX-License-Identifier: Apache-2.0
// Severity: the five bands a finding's risk falls into (critical >= 90, high >= 70,
// medium >= 40, low >= 15, else info), ordered so that comparisons mean "worse than".
// Used by: the rule loader, the risk engine, reporters and the CI gate (--fail-on).
// Never carries anything but the band.
#pragma once

#include <optional>
#include <string_view>

namespace keyward::rules {

// Ordered from least to most severe.
enum class Severity { info, low, medium, high, critical };

// JSON/YAML spelling ("info" ... "critical").
std::string_view to_string(Severity s) noexcept;

// Parses a spelling (exact, lowercase); nullopt if unknown.
std::optional<Severity> parse_severity(std::string_view s) noexcept;

// The band of a score (already clipped to 0..100): critical >= 90, high >= 70, medium >= 40,
// low >= 15, else info.
Severity severity_for_score(int score) noexcept;

// The highest score of a band: info 14, low 39, medium 69, high 89, critical 100.
int highest_score_in(Severity s) noexcept;

}  // namespace keyward::rules
