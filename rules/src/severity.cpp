// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/severity.hpp>

#include <array>
#include <utility>

namespace keyward::rules {
namespace {

constexpr std::array<std::pair<Severity, std::string_view>, 5> kNames{{
    {Severity::info, "info"},
    {Severity::low, "low"},
    {Severity::medium, "medium"},
    {Severity::high, "high"},
    {Severity::critical, "critical"},
}};

}  // namespace

std::string_view to_string(Severity s) noexcept {
  for (const auto& [v, n] : kNames)
    if (v == s) return n;
  return "info";
}

std::optional<Severity> parse_severity(std::string_view s) noexcept {
  for (const auto& [v, n] : kNames)
    if (n == s) return v;
  return std::nullopt;
}

Severity severity_for_score(int score) noexcept {
  // critical >= 90, high >= 70, medium >= 40, low >= 15, else info.
  if (score >= 90) return Severity::critical;
  if (score >= 70) return Severity::high;
  if (score >= 40) return Severity::medium;
  if (score >= 15) return Severity::low;
  return Severity::info;
}

int highest_score_in(Severity s) noexcept {
  switch (s) {
    case Severity::info:
      return 14;
    case Severity::low:
      return 39;
    case Severity::medium:
      return 69;
    case Severity::high:
      return 89;
    case Severity::critical:
      break;
  }
  return 100;
}

}  // namespace keyward::rules
