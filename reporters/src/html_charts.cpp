// SPDX-License-Identifier: Apache-2.0
#include "html_charts.hpp"

#include <keyward/reporters/crypto_algorithms.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <set>

#include "describe.hpp"
#include "report_rows.hpp"

namespace keyward::reporters::detail {
namespace {

using scanner::Finding;

// One bar: its label under the axis, its height, its CSS class (colour) and tooltip.
struct Bar {
  std::string label;
  std::size_t count = 0;
  std::string css;
};

constexpr int kWidth = 560, kHeight = 240, kLeft = 36, kTop = 16, kBottom = 72;

// A vertical bar chart: bars scaled to the largest count, the count above each bar, labels
// turned 40 degrees under the axis (a month or algorithm name each), a <title> per bar.
std::string bar_chart(std::string_view id, std::string_view caption, const std::vector<Bar>& bars,
                      std::string_view note) {
  std::size_t max = 0;
  for (const auto& b : bars) max = std::max(max, b.count);
  const int plot = kHeight - kTop - kBottom;
  const double step = bars.empty() ? 0 : double(kWidth - kLeft - 8) / double(bars.size());
  std::string s = fmt::format(
      "<figure class=\"chart\" id=\"{0}\"><figcaption>{1}</figcaption>"
      "<svg class=\"{0}\" viewBox=\"0 0 {2} {3}\" role=\"img\" aria-label=\"{1}\">"
      "<line x1=\"{4}\" y1=\"{5}\" x2=\"{2}\" y2=\"{5}\" stroke=\"#888\"/>",
      id, html_escape(caption), kWidth, kHeight, kLeft, kTop + plot);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    const double h = max == 0 ? 0 : double(plot) * double(b.count) / double(max);
    const double x = kLeft + step * double(i) + step * 0.15, w = step * 0.7, y = kTop + plot - h;
    const std::string label = html_escape(b.label);
    s += fmt::format("<rect class=\"bar {}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\">", b.css, x,
                     y, w, h);
    s += fmt::format("<title>{}: {}</title></rect>", label, b.count);
    if (b.count != 0)
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", x + w / 2, y - 3, b.count);
    const double lx = x + w / 2, ly = kTop + plot + 12;
    s += fmt::format(
        "<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"end\" transform=\"rotate(-40 {0:.1f} {1:.1f})\">{2}</text>",
        lx, ly, label);
  }
  if (max == 0)
    s += fmt::format("<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">none</text>", kWidth / 2,
                     kTop + plot / 2);
  s += "</svg>";
  if (!note.empty()) s += "<p class=\"note\">" + html_escape(note) + "</p>";
  return s + "</figure>\n";
}

// Months since year 0 of a Unix time, UTC.
long month_index(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return (long(tm.tm_year) + 1900) * 12 + tm.tm_mon;
}

std::string month_label(long index) { return fmt::format("{:04}-{:02}", index / 12, index % 12 + 1); }

}  // namespace

std::string html_escape(std::string_view raw) {
  const std::string s = utf8_text(raw);
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string risk_chart(const std::vector<const Finding*>& findings) {
  static constexpr std::array<std::string_view, 5> kBands = {"critical", "high", "medium", "low", "info"};
  std::vector<Bar> bars;
  for (auto band : kBands) bars.push_back({std::string(band), 0, std::string(band)});
  for (const Finding* f : findings) {
    const auto rank = severity_rank(finding_severity(*f, ""));
    if (rank) ++bars[4 - std::size_t(*rank)].count;
  }
  return bar_chart("chart-risk", "Risk: findings by severity band", bars,
                   "critical >= 90, high >= 70, medium >= 40, low >= 15, else info (risk score 0-100).");
}

// Certificates (trust-store ones aside) by month of expiry: one bar for those already expired,
// one per month from this one for two years, one for later.
std::string expiry_chart(const std::vector<const Finding*>& findings, std::int64_t now) {
  constexpr long kMonths = 24;
  const long first = month_index(now);
  std::vector<Bar> bars{{"expired", 0, "expired"}};
  for (long m = 0; m < kMonths; ++m) bars.push_back({month_label(first + m), 0, "month"});
  bars.push_back({"later", 0, "later"});
  std::set<std::string> seen;  // a certificate found twice (a PEM and a store) counts once
  for (const Finding* f : findings) {
    const auto* c = finding_certificate(*f);
    if (c == nullptr || c->trust_store || !seen.insert(c->sha256.empty() ? f->id : c->sha256).second) continue;
    if (c->not_after < now) ++bars.front().count;
    else ++bars[std::size_t(std::min(month_index(c->not_after) - first, kMonths) + 1)].count;
  }
  return bar_chart("chart-expiry", "Certificate expiry by month", bars,
                   "Certificates outside system trust stores, each counted once, by the month of not-after (UTC).");
}

// Distinct keys (by key identity, certificates aside) by algorithm; quantum-vulnerable ones
// red, quantum-safe ones green (crypto_algorithms.hpp decides).
std::string quantum_chart(const std::vector<const Finding*>& findings) {
  std::map<std::string, std::set<std::string>> vulnerable, safe;
  std::size_t unknown = 0;
  for (const Finding* f : findings) {
    if (f->kind == scanner::Kind::certificate) continue;
    const auto info = key_algorithm(*f);
    if (!info) {
      ++unknown;
      continue;
    }
    (info->quantum_vulnerable ? vulnerable : safe)[info->name].insert(f->key_identity());
  }
  std::vector<Bar> bars;
  for (const auto& [name, keys] : vulnerable) bars.push_back({name, keys.size(), "vulnerable"});
  std::stable_sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.count > b.count; });
  for (const auto& [name, keys] : safe) bars.push_back({name + " (safe)", keys.size(), "safe"});
  return bar_chart("chart-quantum", "Quantum-vulnerable keys by algorithm", bars,
                   fmt::format("Each key counted once however many copies. Red: quantum-vulnerable; green: "
                               "quantum-safe. {} finding(s) of unknown algorithm (encrypted or symmetric).",
                               unknown));
}

}  // namespace keyward::reporters::detail
