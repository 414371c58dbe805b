// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include <algorithm>
#include <keyward/common/utf8.hpp>
#include <keyward/reporters/junit.hpp>
#include <keyward/rules/rank.hpp>
#include <keyward/scanner/finding_json.hpp>
#include <stdexcept>
#include <vector>

#include "describe.hpp"

namespace keyward::reporters {
namespace {

using scanner::Finding;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// XML 1.0 text or attribute value: markup characters escaped, invalid UTF-8 and characters
// XML 1.0 forbids (controls but tab/LF/CR, U+FFFE/U+FFFF) replaced by U+FFFD; in attributes,
// whitespace controls are written as character references so parsers keep them.
std::string xml_escape(std::string_view s, bool attribute) {
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t n = common::utf8_sequence(s, i, cp);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp != 0xFFFE && cp != 0xFFFF);
    if (!allowed) out += kReplacement;
    else if (cp == '&') out += "&amp;";
    else if (cp == '<') out += "&lt;";
    else if (cp == '>') out += "&gt;";
    else if (cp == '"') out += "&quot;";
    else if (cp == '\'') out += "&apos;";
    else if (attribute && cp == 0x9) out += "&#9;";
    else if (attribute && cp == 0xA) out += "&#10;";
    else if (attribute && cp == 0xD) out += "&#13;";
    else out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string attr(std::string_view s) { return xml_escape(s, true); }
std::string text(std::string_view s) { return xml_escape(s, false); }

// The details under a failure: rule, severity, every risk factor, remediation, finding id.
std::string failure_body(const Finding& f, const std::string& rule, const std::string& severity,
                         const std::string& sentence) {
  std::string s = sentence + "\n\nRule: " + rule + "\nSeverity: " + severity + "\n";
  if (f.risk) {
    s += fmt::format("Risk score: {}/100\n", f.risk->score);
    for (const auto& x : f.risk->factors) s += fmt::format("  {:+d} {}: {}\n", x.points, x.id, x.why);
    if (!f.risk->remediation.empty()) s += "Remediation: " + f.risk->remediation + "\n";
  }
  if (!f.id.empty()) s += "Finding id: " + f.id + "\n";
  if (f.git && !f.git->commit.empty()) s += "Commit: " + f.git->commit + "\n";
  return s;
}

}  // namespace

std::string render_junit(const scanner::ScanResult& result, std::string_view fail_on) {
  const auto threshold = detail::severity_rank(fail_on);
  if (!threshold)
    throw std::invalid_argument(
        fmt::format("unknown severity '{}' (expected info, low, medium, high or critical)", fail_on));
  return render_junit(result, fail_on, [&](const Finding& f) {
    const std::string severity = detail::finding_severity(f, detail::fallback_severity(detail::rule_id(f)));
    return detail::severity_rank(severity).value_or(0) >= *threshold;
  });
}

std::string render_junit(const scanner::ScanResult& result, std::string_view fail_on,
                         const std::function<bool(const Finding&)>& fails) {
  // Read by a person in a CI page: the riskiest first (docs/findings.md, "Order").
  std::vector<const Finding*> ranked;
  ranked.reserve(result.findings.size());
  for (const auto& f : result.findings) ranked.push_back(&f);
  std::sort(ranked.begin(), ranked.end(),
            [](const Finding* a, const Finding* b) { return rules::ranks_before(*a, *b); });

  std::string cases;
  std::size_t failures = 0, skipped = 0;
  for (const Finding* fp : ranked) {
    const Finding& f = *fp;
    const std::string rule = detail::rule_id(f);
    const std::string severity = detail::finding_severity(f, detail::fallback_severity(rule));
    const std::string path = detail::display_path(f);
    std::string name = path;
    if (!f.location.member.empty()) name += "!" + f.location.member;
    if (f.location.line != 0) name += fmt::format(":{}", f.location.line);
    const std::string sentence = detail::describe(f, path);

    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"", attr(rule), attr(name), attr(path));
    if (f.location.line != 0 && f.location.member.empty()) cases += fmt::format(" line=\"{}\"", f.location.line);
    cases += " time=\"0\">\n";
    if (f.suppressed) {
      ++skipped;
      const auto& s = *f.suppressed;
      const std::string why = s.justification.empty() ? "suppressed by " + s.kind : s.justification;
      cases += fmt::format("      <skipped message=\"{}\"/>\n", attr(why));
    } else if (fails(f)) {
      ++failures;
      cases += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", attr(sentence), attr(severity),
                           text(failure_body(f, rule, severity, sentence)));
    } else {
      cases += fmt::format("      <system-out>{}</system-out>\n", text(sentence));
    }
    cases += "    </testcase>\n";
  }
  std::size_t tests = result.findings.size();
  if (tests == 0) {
    cases += "    <testcase classname=\"keyward\" name=\"no new keys\" time=\"0\"/>\n";
    tests = 1;
  }

  const auto seconds = result.finished_at > result.started_at ? result.finished_at - result.started_at : 0;
  std::string head = fmt::format("tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\"", tests,
                                 failures, skipped, seconds);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"keyward\" {}>\n", head);
  out += fmt::format("  <testsuite name=\"keyward\" {}", head);
  if (result.started_at != 0) out += fmt::format(" timestamp=\"{}\"", attr(scanner::rfc3339(result.started_at)));
  if (!result.host.hostname.empty()) out += fmt::format(" hostname=\"{}\"", attr(result.host.hostname));
  out += ">\n";
  out += "    <properties>\n";
  out += fmt::format("      <property name=\"fail_on\" value=\"{}\"/>\n", attr(fail_on));
  if (!result.scan_id.empty())
    out += fmt::format("      <property name=\"scan_id\" value=\"{}\"/>\n", attr(result.scan_id));
  if (!result.tool_version.empty())
    out += fmt::format("      <property name=\"keyward_version\" value=\"{}\"/>\n", attr(result.tool_version));
  out += "    </properties>\n";
  out += cases;
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace keyward::reporters
