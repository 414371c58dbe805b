// SPDX-License-Identifier: Apache-2.0
// The CSV report (docs/formats/csv.md): one row per finding in rank order, the columns of
// kColumns (frozen: a spreadsheet or script keys on their names and order), RFC 4180 quoting and
// OWASP's CSV-injection rule for text cells.
#include <keyward/reporters/csv.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <string>

#include "describe.hpp"
#include "report_rows.hpp"

namespace keyward::reporters {
namespace {

using scanner::Finding;

// What a column reads: the finding, the scan around it and the finding's plan item (or null).
struct Row {
  const Finding& f;
  const scanner::ScanResult& result;
  const migrate::PlanItem* item;
};

using Extract = std::string (*)(const Row&);

// A column: its header name, whether it is numeric (never prefixed against formulas: its values
// are non-negative integers, docs/formats/csv.md), and what it holds.
struct Column {
  std::string_view name;
  bool numeric;
  Extract value;
};

std::string flag(bool b) { return b ? "true" : "false"; }
std::string optional_flag(const std::optional<bool>& b) { return b ? flag(*b) : std::string(); }

std::string encrypted(const Finding& f) {
  if (f.kind == scanner::Kind::keystore) return "true";  // a store always has a password (maybe weak)
  if (f.kind == scanner::Kind::certificate || !f.key) return "";
  return flag(f.key->encrypted);
}

std::string factor_ids(const Finding& f) {
  std::string s;
  if (!f.risk) return s;
  for (const auto& x : f.risk->factors) s += (s.empty() ? "" : ";") + x.id;
  return s;
}

std::string cert_field(const Finding& f, std::string scanner::CertFacts::*field) {
  const auto* c = detail::finding_certificate(f);
  return c == nullptr ? std::string() : c->*field;
}

const Column kColumns[] = {
    {"id", false, [](const Row& r) { return r.f.id; }},
    {"host", false, [](const Row& r) { return detail::finding_host(r.f, r.result); }},
    {"path", false, [](const Row& r) { return r.f.location.path; }},
    {"member", false, [](const Row& r) { return r.f.location.member; }},
    {"line", true, [](const Row& r) { return r.f.location.line ? std::to_string(r.f.location.line) : ""; }},
    {"kind", false, [](const Row& r) { return std::string(scanner::to_string(r.f.kind)); }},
    {"format", false, [](const Row& r) { return std::string(scanner::to_string(r.f.format)); }},
    {"rule", false, [](const Row& r) { return detail::rule_id(r.f); }},
    {"severity", false, [](const Row& r) { return detail::finding_severity(r.f, ""); }},
    {"score", true, [](const Row& r) { return r.f.risk ? std::to_string(r.f.risk->score) : ""; }},
    {"algorithm", false, [](const Row& r) { return detail::finding_algorithm(r.f).name; }},
    {"bits", true,
     [](const Row& r) {
       const auto b = detail::finding_algorithm(r.f).bits;
       return b ? std::to_string(*b) : std::string();
     }},
    {"curve", false, [](const Row& r) { return detail::finding_algorithm(r.f).curve; }},
    {"quantum_vulnerable", false,
     [](const Row& r) { return optional_flag(detail::finding_algorithm(r.f).quantum_vulnerable); }},
    {"encrypted", false, [](const Row& r) { return encrypted(r.f); }},
    {"spki_sha256", false, [](const Row& r) { return detail::identity_spki(r.f); }},
    {"cert_subject", false, [](const Row& r) { return cert_field(r.f, &scanner::CertFacts::subject); }},
    {"cert_issuer", false, [](const Row& r) { return cert_field(r.f, &scanner::CertFacts::issuer); }},
    {"cert_not_after", false,
     [](const Row& r) {
       const auto* c = detail::finding_certificate(r.f);
       return c == nullptr ? std::string() : scanner::rfc3339(c->not_after);
     }},
    {"code_signing", false,
     [](const Row& r) {
       const auto* c = detail::finding_certificate(r.f);
       return c == nullptr ? std::string() : flag(c->code_signing());
     }},
    {"owner", false, [](const Row& r) { return r.f.file.owner; }},
    {"mode", true, [](const Row& r) { return fmt::format("{:04o}", r.f.file.mode & 07777); }},
    {"suppressed", false, [](const Row& r) { return r.f.suppressed ? r.f.suppressed->kind : std::string(); }},
    {"factors", false, [](const Row& r) { return factor_ids(r.f); }},
    {"remediation", false, [](const Row& r) { return r.f.risk ? r.f.risk->remediation : std::string(); }},
    {"plan_item", false, [](const Row& r) { return r.item ? r.item->id : std::string(); }},
    {"plan_state", false,
     [](const Row& r) { return r.item ? std::string(migrate::to_string(r.item->state)) : std::string(); }},
    {"plan_strategy", false,
     [](const Row& r) { return r.item ? std::string(migrate::to_string(r.item->strategy)) : std::string(); }},
    {"plan_token", false, [](const Row& r) { return r.item ? r.item->target.token : std::string(); }},
};

// OWASP "CSV Injection": a spreadsheet reads a cell that starts with one of these as a formula.
bool formula_start(char c) { return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r'; }

// One cell: UTF-8 text (detail::utf8_text), a leading apostrophe on text that a spreadsheet would
// run as a formula, and RFC 4180 section 2 quoting (rules 6 and 7) when it holds , " CR or LF.
void append_cell(std::string& out, std::string_view raw, bool numeric) {
  std::string v = detail::utf8_text(raw);
  if (!numeric && !v.empty() && formula_start(v.front())) v.insert(0, 1, '\'');
  if (v.find_first_of(",\"\r\n") == std::string::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

const std::vector<std::string_view>& csv_columns() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> n;
    for (const auto& c : kColumns) n.push_back(c.name);
    return n;
  }();
  return names;
}

std::string render_csv(const ReportInput& input) {
  std::string out;
  for (const auto& c : kColumns) out += (out.empty() ? "" : ",") + std::string(c.name);
  out += "\r\n";
  const detail::PlanIndex plan(input.plan);
  for (const Finding* f : detail::ranked(input.result)) {
    const Row row{*f, input.result, plan.find(*f)};
    bool first = true;
    for (const auto& c : kColumns) {
      if (!first) out += ',';
      first = false;
      append_cell(out, c.value(row), c.numeric);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace keyward::reporters
