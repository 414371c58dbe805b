// SPDX-License-Identifier: Apache-2.0
// The HTML report (docs/formats/html.md): one self-contained page. Static parts (header, summary
// counts, charts) are rendered here with html_escape; the findings go in a JSON data block with
// < > & written as \u003c \u003e \u0026 (no string can close the tag), and the inline script
// (reporters/assets/report.js) builds the table from it with textContent only. A CSP meta allows
// only that script and style sheet, by the SHA-256 of their exact bytes, and loads nothing else.
#include <keyward/common/base64.hpp>
#include <keyward/common/hex.hpp>
#include <keyward/reporters/html.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <span>

#include "describe.hpp"
#include "html_assets.hpp"
#include "html_charts.hpp"
#include "report_rows.hpp"

namespace keyward::reporters {
namespace {

using detail::html_escape;
using nlohmann::json;
using scanner::Finding;

constexpr std::array<std::string_view, 5> kSeverities = {"critical", "high", "medium", "low", "info"};
constexpr std::array<scanner::Kind, 4> kKinds = {scanner::Kind::private_key, scanner::Kind::keystore,
                                                 scanner::Kind::certificate, scanner::Kind::public_key};

// 'sha256-<base64>' of the bytes, as CSP Level 3 section 8.4 (hash-source) matches them.
std::string csp_hash(std::string_view bytes) {
  const std::string raw =
      common::sha256_raw(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  return "'sha256-" + common::base64_encode(std::string_view(raw)) + "'";
}

json plan_json(const migrate::PlanItem& item) {
  const auto* step = detail::migrate_step(item);
  json blockers = json::array();
  for (const auto& b : item.blockers) blockers.push_back(b.message);
  return {{"item", item.id},
          {"state", std::string(migrate::to_string(item.state))},
          {"strategy", std::string(migrate::to_string(item.strategy))},
          {"token", detail::utf8_text(item.target.token)},
          {"step", step == nullptr ? std::string() : detail::utf8_text(step->text)},
          {"blockers", blockers}};
}

json factors_json(const Finding& f) {
  json factors = json::array();
  if (f.risk)
    for (const auto& x : f.risk->factors)
      factors.push_back({{"id", x.id}, {"points", x.points}, {"why", detail::utf8_text(x.why)}});
  return factors;
}

// One finding as the script reads it (docs/formats/html.md, "Data"): never a key comment.
json finding_json(const Finding& f, const ReportInput& input, const detail::PlanIndex& plan) {
  const auto algorithm = detail::finding_algorithm(f);
  const auto* cert = detail::finding_certificate(f);
  const auto* item = plan.find(f);
  const auto u = [](std::string_view s) { return detail::utf8_text(s); };
  json j = {{"id", f.id},
            {"host", u(detail::finding_host(f, input.result))},
            {"path", u(f.location.path)},
            {"member", u(f.location.member)},
            {"line", f.location.line},
            {"kind", std::string(scanner::to_string(f.kind))},
            {"format", std::string(scanner::to_string(f.format))},
            {"rule", u(detail::rule_id(f))},
            {"severity", detail::finding_severity(f, "")},
            {"score", f.risk ? json(f.risk->score) : json(nullptr)},
            {"algorithm", u(algorithm.name)},
            {"qv", algorithm.quantum_vulnerable ? json(*algorithm.quantum_vulnerable) : json(nullptr)},
            {"expiry", cert ? scanner::rfc3339(cert->not_after) : std::string()},
            {"expired", cert != nullptr && cert->not_after < input.now},
            {"subject", cert ? u(cert->subject) : std::string()},
            {"issuer", cert ? u(cert->issuer) : std::string()},
            {"owner", u(f.file.owner)},
            {"mode", fmt::format("{:04o}", f.file.mode & 07777)},
            {"suppressed", f.suppressed ? u(f.suppressed->kind + ": " + f.suppressed->justification) : std::string()},
            {"factors", factors_json(f)},
            {"remediation", f.risk ? u(f.risk->remediation) : std::string()},
            {"plan", item ? plan_json(*item) : json(nullptr)}};
  return j;
}

// The data block's text: JSON whose < > & are \u escapes, so "</script>" cannot end the block
// (HTML Living Standard, "Restrictions for contents of script elements").
std::string data_block(const std::vector<const Finding*>& findings, const ReportInput& input) {
  const detail::PlanIndex plan(input.plan);
  json list = json::array();
  for (const Finding* f : findings) list.push_back(finding_json(*f, input, plan));
  const std::string text = json{{"findings", list}}.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

std::string counts_table(std::string_view caption, const std::vector<std::pair<std::string, std::size_t>>& rows,
                         std::string_view id) {
  std::string s = fmt::format("<table id=\"{}\"><caption>{}</caption>", id, html_escape(caption));
  for (const auto& [name, n] : rows)
    s += fmt::format("<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>", html_escape(name), n);
  return s + "</table>";
}

// Hosts with their finding counts, most findings first.
std::vector<std::pair<std::string, std::size_t>> host_counts(const std::vector<const Finding*>& findings,
                                                             const scanner::ScanResult& result) {
  std::map<std::string, std::size_t> by_host;
  for (const Finding* f : findings) ++by_host[detail::finding_host(*f, result)];
  std::vector<std::pair<std::string, std::size_t>> rows(by_host.begin(), by_host.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return rows;
}

std::string summary_section(const std::vector<const Finding*>& findings, const ReportInput& input) {
  std::vector<std::pair<std::string, std::size_t>> severity, kind;
  for (auto s : kSeverities) severity.emplace_back(std::string(s), 0);
  for (auto k : kKinds) kind.emplace_back(std::string(scanner::to_string(k)), 0);
  for (const Finding* f : findings) {
    const auto rank = detail::severity_rank(detail::finding_severity(*f, ""));
    if (rank) ++severity[4 - std::size_t(*rank)].second;
    for (std::size_t i = 0; i < kKinds.size(); ++i)
      if (kKinds[i] == f->kind) ++kind[i].second;
  }
  std::string s = "<section><h2>Summary</h2><div class=\"summary\">";
  s += counts_table("By severity", severity, "by-severity");
  s += counts_table("By kind", kind, "by-kind");
  s += counts_table("By host", host_counts(findings, input.result), "by-host");
  return s + "</div></section>\n";
}

std::string header_section(const std::vector<const Finding*>& findings, const ReportInput& input) {
  const auto& r = input.result;
  std::string roots;
  for (const auto& root : r.roots) roots += (roots.empty() ? "" : ", ") + html_escape(root);
  std::string s = fmt::format("<header><h1>{}</h1><p class=\"meta\">{} as of {} &middot; keyward {}",
                              html_escape(input.title.empty() ? "keyward report" : input.title),
                              detail::counted(findings.size(), "finding"), scanner::rfc3339(input.now),
                              html_escape(input.tool_version));
  if (!r.host.hostname.empty()) s += " &middot; host " + html_escape(r.host.hostname);
  if (!roots.empty()) s += " &middot; roots " + roots;
  if (!r.complete) s += " &middot; <strong>incomplete scan</strong>";
  return s + "</p></header>\n";
}

std::string select(std::string_view id, std::string_view label, const std::vector<std::string>& values) {
  std::string s = fmt::format("<label>{} <select id=\"{}\"><option value=\"\">all</option>", label, id);
  for (const auto& v : values) s += fmt::format("<option>{}</option>", html_escape(v));
  return s + "</select></label>";
}

std::string table_section(const std::vector<const Finding*>& findings, const ReportInput& input) {
  std::vector<std::string> severities(kSeverities.begin(), kSeverities.end()), kinds, hosts;
  for (auto k : kKinds) kinds.emplace_back(scanner::to_string(k));
  for (const auto& [host, n] : host_counts(findings, input.result)) hosts.push_back(host);
  std::string s = "<section><h2>Findings</h2><div class=\"controls\">";
  s +=
      "<label>Filter <input id=\"filter-text\" type=\"search\" placeholder=\"path, host, algorithm, rule...\"></label>";
  s += select("filter-severity", "Severity", severities) + select("filter-kind", "Kind", kinds);
  if (hosts.size() > 1) s += select("filter-host", "Host", hosts);
  s += "<span id=\"shown\"></span></div>";
  s += "<noscript><p>The findings table needs JavaScript; the summary and charts above are complete, and "
       "<code>--format csv</code> or <code>json</code> holds every finding.</p></noscript>";
  s += "<table id=\"findings\"><thead><tr><th></th>";
  for (const auto& [key, name] :
       std::array<std::pair<std::string_view, std::string_view>, 6>{{{"risk", "Risk"},
                                                                     {"path", "Path"},
                                                                     {"host", "Host"},
                                                                     {"kind", "Kind"},
                                                                     {"algorithm", "Algorithm"},
                                                                     {"expiry", "Expiry"}}})
    s += fmt::format("<th data-sort=\"{}\"><button type=\"button\">{}</button></th>", key, name);
  return s + "</tr></thead><tbody id=\"rows\"></tbody></table></section>\n";
}

}  // namespace

std::string render_html(const ReportInput& input) {
  const auto findings = detail::ranked(input.result);
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  page += fmt::format(
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}; "
      "img-src data:; base-uri 'none'; form-action 'none'\">\n",
      csp_hash(detail::kReportStyle), csp_hash(detail::kReportScript));
  page += "<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"viewport\" content=\"width=device-width\">\n";
  page += "<title>" + html_escape(input.title.empty() ? "keyward report" : input.title) + "</title>\n";
  page += "<style>" + std::string(detail::kReportStyle) + "</style>\n</head><body>\n";
  page += header_section(findings, input) + summary_section(findings, input);
  page += "<section><h2>Charts</h2><div class=\"charts\">\n" + detail::risk_chart(findings) +
          detail::expiry_chart(findings, input.now) + detail::quantum_chart(findings) + "</div></section>\n";
  page += table_section(findings, input);
  page += "<script type=\"application/json\" id=\"data\">" + data_block(findings, input) + "</script>\n";
  page += "<script>" + std::string(detail::kReportScript) + "</script>\n</body></html>\n";
  return page;
}

}  // namespace keyward::reporters
