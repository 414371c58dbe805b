// SPDX-License-Identifier: Apache-2.0
// The CSV report (docs/formats/csv.md): the frozen columns, RFC 4180 quoting read back by
// Python's csv module, the formula-injection prefix on text cells only, non-UTF-8 bytes as \xNN,
// rank order, the plan columns, and no key comment.
#include <doctest/doctest.h>

#include <keyward/reporters/csv.hpp>
#include <nlohmann/json.hpp>

#include "support/python_check.hpp"

using namespace keyward::scanner;
using namespace keyward::reporters;
namespace t = keyward::test;
using nlohmann::json;

namespace {

Finding key_finding(const std::string& path, int score, const std::string& severity) {
  Finding f;
  f.id = "id-" + std::to_string(score);
  f.rule = "private-key/pkcs8";
  f.kind = Kind::private_key;
  f.format = Format::pem_pkcs8;
  f.location.path = path;
  f.location.line = 3;
  f.file.mode = 0644;
  f.file.owner = "alice";
  f.key.emplace();
  f.key->algorithm = "rsa";
  f.key->bits = 2048;
  f.key->spki_sha256 = std::string(64, 'a' + static_cast<char>(score % 6));
  f.key->comment = "alice@laptop secret-comment";
  f.risk.emplace();
  f.risk->score = score;
  f.risk->raw = score;
  f.risk->severity = severity;
  f.risk->factors = {{"unencrypted-private-key", 40, "not encrypted"}, {"world-readable", 20, "mode 0644"}};
  f.risk->remediation = "Move it, then rotate.";
  return f;
}

ScanResult sample() {
  ScanResult r;
  r.host.hostname = "web-1";
  r.findings.push_back(key_finding("/srv/low.pem", 20, "low"));
  r.findings.push_back(key_finding("/srv/a,b \"c\"\nd.pem", 95, "critical"));
  r.findings.push_back(key_finding("=cmd|' /C calc'!A0.pem", 75, "high"));
  return r;
}

// Rows as Python's csv module reads the text (newline='' keeps the CRLF handling to csv).
json parse(const std::string& text) {
  const auto run = t::run_python(
      "import csv, json, sys\n"
      "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
      "    print(json.dumps(list(csv.reader(f, strict=True))))\n",
      text);
  INFO(run.output);
  REQUIRE(run.status == 0);
  return json::parse(run.output);
}

std::size_t column(std::string_view name) {
  const auto& c = csv_columns();
  for (std::size_t i = 0; i < c.size(); ++i)
    if (c[i] == name) return i;
  FAIL("no column " << name);
  return 0;
}

}  // namespace

TEST_CASE("the CSV header is the frozen, documented column list") {
  const std::vector<std::string_view> expected = {
      "id",        "host",        "path",         "member",      "line",           "kind",         "format",
      "rule",      "severity",    "score",        "algorithm",   "bits",           "curve",        "quantum_vulnerable",
      "encrypted", "spki_sha256", "cert_subject", "cert_issuer", "cert_not_after", "code_signing", "owner",
      "mode",      "suppressed",  "factors",      "remediation", "plan_item",      "plan_state",   "plan_strategy",
      "plan_token"};
  CHECK(csv_columns() == expected);
  const ScanResult empty;
  const auto text = render_csv(ReportInput{empty, nullptr, "t", 0, "0"});
  CHECK(text ==
        "id,host,path,member,line,kind,format,rule,severity,score,algorithm,bits,curve,quantum_vulnerable,"
        "encrypted,spki_sha256,cert_subject,cert_issuer,cert_not_after,code_signing,owner,mode,suppressed,"
        "factors,remediation,plan_item,plan_state,plan_strategy,plan_token\r\n");
}

TEST_CASE("CSV rows end in CRLF, come in rank order and quote commas, quotes and line breaks") {
  const ScanResult r = sample();
  const auto text = render_csv(ReportInput{r, nullptr, "t", 0, "0"});
  CHECK(text.find("\"/srv/a,b \"\"c\"\"\nd.pem\"") != std::string::npos);
  // Every record ends in CRLF; the only bare LF is the one inside the quoted path.
  std::size_t crlf = 0;
  for (std::size_t i = text.find("\r\n"); i != std::string::npos; i = text.find("\r\n", i + 2)) ++crlf;
  CHECK(crlf == 4);
  const auto rows = parse(text);
  REQUIRE(rows.size() == 4);
  const auto path = column("path");
  CHECK(rows[1][path] == "/srv/a,b \"c\"\nd.pem");
  CHECK(rows[2][path] == "'=cmd|' /C calc'!A0.pem");
  CHECK(rows[3][path] == "/srv/low.pem");
  CHECK(rows[1][column("score")] == "95");
  CHECK(rows[1][column("severity")] == "critical");
  CHECK(rows[1][column("host")] == "web-1");
  CHECK(rows[1][column("algorithm")] == "RSA-2048");
  CHECK(rows[1][column("bits")] == "2048");
  CHECK(rows[1][column("quantum_vulnerable")] == "true");
  CHECK(rows[1][column("encrypted")] == "false");
  CHECK(rows[1][column("mode")] == "0644");
  CHECK(rows[1][column("line")] == "3");
  CHECK(rows[1][column("factors")] == "unencrypted-private-key;world-readable");
  CHECK(rows[1][column("remediation")] == "Move it, then rotate.");
  CHECK(text.find("secret-comment") == std::string::npos);
}

TEST_CASE("CSV text cells that a spreadsheet would run as formulas get a leading apostrophe") {
  ScanResult r;
  auto f = key_finding("/k.pem", 50, "medium");
  f.location.member = "+SUM(1)";
  f.location.host = "@evil";
  f.file.owner = "-2+3";
  f.certificate.emplace();
  f.certificate->subject = "\tCN=tab";
  f.certificate->issuer = "\rCN=cr";
  r.findings.push_back(f);
  const auto rows = parse(render_csv(ReportInput{r, nullptr, "t", 0, "0"}));
  REQUIRE(rows.size() == 2);
  const auto& row = rows[1];
  CHECK(row[column("member")] == "'+SUM(1)");
  CHECK(row[column("host")] == "'@evil");
  CHECK(row[column("owner")] == "'-2+3");
  CHECK(row[column("cert_subject")] == "'\tCN=tab");
  CHECK(row[column("cert_issuer")] == "'\rCN=cr");
  for (const auto& cell : row) {
    const std::string s = cell;
    CHECK((s.empty() || std::string_view("=+-@\t\r").find(s[0]) == std::string_view::npos));
  }
}

TEST_CASE(
    "CSV writes bytes that are not UTF-8 as escapes (backslash x and two hex digits) and keeps valid UTF-8 as it is") {
  ScanResult r;
  r.findings.push_back(key_finding(std::string("/srv/caf\xc3\xa9-\xff\xfe.pem"), 50, "medium"));
  const auto text = render_csv(ReportInput{r, nullptr, "t", 0, "0"});
  const auto rows = parse(text);
  CHECK(rows[1][column("path")] == "/srv/caf\xc3\xa9-\\xff\\xfe.pem");
}

TEST_CASE("CSV plan columns name the plan item whose identity is the finding's key identity") {
  ScanResult r;
  r.findings.push_back(key_finding("/srv/a.pem", 80, "high"));
  r.findings.push_back(key_finding("/srv/b.pem", 81, "high"));
  keyward::migrate::Plan plan;
  keyward::migrate::PlanItem item;
  item.id = "0123456789abcdef";
  item.identity = r.findings[0].key_identity();
  item.state = keyward::migrate::ItemState::approved;
  item.strategy = keyward::migrate::Strategy::import;
  item.target.token = "codesign";
  plan.items.push_back(item);
  const auto rows = parse(render_csv(ReportInput{r, &plan, "t", 0, "0"}));
  REQUIRE(rows.size() == 3);
  // b (81) ranks first and has no item; a has it.
  CHECK(rows[1][column("path")] == "/srv/b.pem");
  CHECK(rows[1][column("plan_state")] == "");
  CHECK(rows[2][column("plan_item")] == "0123456789abcdef");
  CHECK(rows[2][column("plan_state")] == "approved");
  CHECK(rows[2][column("plan_strategy")] == "import");
  CHECK(rows[2][column("plan_token")] == "codesign");
  CHECK(rows[2][column("spki_sha256")] == r.findings[0].key->spki_sha256);
}
