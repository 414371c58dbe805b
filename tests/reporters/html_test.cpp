// SPDX-License-Identifier: Apache-2.0
// The HTML report (docs/formats/html.md): the CSP hashes are those of the page's own inline
// script and style bytes, hostile names from a scanned machine never appear as markup, nothing
// references the network outside the data, the summary counts, the charts and the embedded data
// (rank order, plan step, no key comment).
#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <keyward/reporters/html.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <string>

using namespace keyward::scanner;
using namespace keyward::reporters;
using nlohmann::json;

namespace {

constexpr const char* kScriptTag = "</script><script>alert(1)</script>";
constexpr const char* kImgTag = "<img src=x onerror=alert(1)>";

Finding finding(const std::string& path, int score, const std::string& severity, Kind kind = Kind::private_key) {
  Finding f;
  f.id = "id-" + std::to_string(score);
  f.rule = kind == Kind::certificate ? "certificate/x509" : "private-key/pkcs8";
  f.kind = kind;
  f.format = kind == Kind::certificate ? Format::pem_cert : Format::pem_pkcs8;
  f.location.path = path;
  f.file.owner = "alice";
  f.file.mode = 0600;
  f.key.emplace();
  f.key->algorithm = "ec";
  f.key->curve = "P-256";
  f.key->spki_sha256 = std::string(64, static_cast<char>('a' + score % 6));
  f.key->comment = "bob@laptop private-comment";
  f.risk.emplace();
  f.risk->score = score;
  f.risk->raw = score;
  f.risk->severity = severity;
  f.risk->factors = {{"unencrypted-private-key", 40, "the key is not encrypted"}};
  f.risk->remediation = "See https://example.invalid/rotate & rotate.";
  return f;
}

ScanResult hostile() {
  ScanResult r;
  r.host.hostname = "web-1";
  r.roots = {std::string("/srv/") + kImgTag};
  r.findings.push_back(finding(std::string("/srv/") + kScriptTag + ".pem", 95, "critical"));
  r.findings.push_back(finding(std::string("/srv/") + kImgTag + ".pem", 72, "high"));
  auto cert = finding("/srv/site.crt", 10, "info", Kind::certificate);
  cert.key.reset();
  cert.certificate.emplace();
  cert.certificate->subject = std::string("CN=") + kImgTag;
  cert.certificate->not_after = 1000;  // long expired
  cert.certificate->key_algorithm = "rsa";
  cert.certificate->key_bits = 2048;
  cert.certificate->sha256 = std::string(64, '9');
  r.findings.push_back(cert);
  auto remote = finding("/etc/k.pem", 93, "critical");
  remote.location.host = kImgTag;
  r.findings.push_back(remote);
  return r;
}

std::string base64_sha256(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr) == 1);
  unsigned char out[64];
  const int len = EVP_EncodeBlock(out, md, static_cast<int>(n));
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
}

// The text between `open` and the next `close` after it.
std::string between(const std::string& page, const std::string& open, const std::string& close) {
  const auto a = page.find(open);
  REQUIRE(a != std::string::npos);
  const auto b = page.find(close, a + open.size());
  REQUIRE(b != std::string::npos);
  return page.substr(a + open.size(), b - a - open.size());
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

std::string render(const ScanResult& r, const keyward::migrate::Plan* plan = nullptr) {
  return render_html(ReportInput{r, plan, "scan of /srv", 1767225600, "1.2.3"});
}

json data_of(const std::string& page) {
  return json::parse(between(page, "<script type=\"application/json\" id=\"data\">", "</script>"));
}

}  // namespace

TEST_CASE("the HTML report's CSP allows exactly its inline script and style sheet by their SHA-256") {
  const auto page = render(hostile());
  const auto style = between(page, "<style>", "</style>");
  const auto script = between(page, "\n<script>", "</script>");
  CHECK(script.find("textContent") != std::string::npos);
  const auto csp = between(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"", "\"");
  CHECK(csp.find("default-src 'none'") == 0);
  CHECK(csp.find("style-src 'sha256-" + base64_sha256(style) + "'") != std::string::npos);
  CHECK(csp.find("script-src 'sha256-" + base64_sha256(script) + "'") != std::string::npos);
  CHECK(csp.find("base-uri 'none'") != std::string::npos);
  CHECK(csp.find("form-action 'none'") != std::string::npos);
  CHECK(csp.find("unsafe") == std::string::npos);
  // Exactly two script elements (the data block and the hashed script), no inline handler or style attribute.
  CHECK(count(page, "<script") == 2);
  CHECK(page.find(" style=") == std::string::npos);
  CHECK(page.find(" onclick=") == std::string::npos);
}

TEST_CASE("hostile names from a scanned machine never appear as markup in the HTML report") {
  const auto page = render(hostile());
  CHECK(page.find(kScriptTag) == std::string::npos);
  CHECK(page.find(kImgTag) == std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("alert(1)</script>") == std::string::npos);
  // The summary's host table and the header escape them.
  CHECK(page.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  // The data block writes < > & as \u escapes and still round-trips the exact path.
  const auto data = data_of(page);
  CHECK(data["findings"][0]["path"] == std::string("/srv/") + kScriptTag + ".pem");
  CHECK(page.find("\\u003c/script\\u003e") != std::string::npos);
}

TEST_CASE("the HTML report references no network address outside its data") {
  auto page = render(hostile());
  CHECK(page.find("https://example.invalid") != std::string::npos);  // the remediation, in the data
  const auto data = between(page, "<script type=\"application/json\" id=\"data\">", "</script>");
  page.erase(page.find(data), data.size());
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("src=\"") == std::string::npos);
  CHECK(page.find("href=") == std::string::npos);
}

TEST_CASE("the HTML summary counts findings by severity, kind and host") {
  const auto page = render(hostile());
  const auto row = [](const std::string& name, int n) {
    return "<tr><th scope=\"row\">" + name + "</th><td class=\"n\">" + std::to_string(n) + "</td></tr>";
  };
  const auto severity = between(page, "<table id=\"by-severity\">", "</table>");
  CHECK(severity.find(row("critical", 2)) != std::string::npos);
  CHECK(severity.find(row("high", 1)) != std::string::npos);
  CHECK(severity.find(row("medium", 0)) != std::string::npos);
  CHECK(severity.find(row("info", 1)) != std::string::npos);
  const auto kind = between(page, "<table id=\"by-kind\">", "</table>");
  CHECK(kind.find(row("private_key", 3)) != std::string::npos);
  CHECK(kind.find(row("certificate", 1)) != std::string::npos);
  const auto host = between(page, "<table id=\"by-host\">", "</table>");
  CHECK(host.find(row("web-1", 3)) != std::string::npos);
  CHECK(host.find(row("&lt;img src=x onerror=alert(1)&gt;", 1)) != std::string::npos);
  CHECK(page.find("id=\"filter-host\"") != std::string::npos);  // two hosts: a host filter
}

TEST_CASE("the HTML charts draw risk bands, expiry by month with expired marked, and quantum-vulnerable keys") {
  const auto page = render(hostile());
  const auto risk = between(page, "<svg class=\"chart-risk\"", "</svg>");
  CHECK(risk.find("<title>critical: 2</title>") != std::string::npos);
  const auto expiry = between(page, "<svg class=\"chart-expiry\"", "</svg>");
  CHECK(expiry.find("<title>expired: 1</title>") != std::string::npos);
  CHECK(expiry.find("2026-01") != std::string::npos);  // the report's month starts the axis
  const auto quantum = between(page, "<svg class=\"chart-quantum\"", "</svg>");
  // Three EC keys with three different SPKIs (scores 95, 72, 93 give 'f', 'a', 'd'): three keys.
  CHECK(quantum.find("<title>ECDSA-P-256: 3</title>") != std::string::npos);
  CHECK(quantum.find("class=\"bar vulnerable\"") != std::string::npos);
}

TEST_CASE("the HTML data holds ranked findings with factors and their plan step, never a key comment") {
  ScanResult r = hostile();
  keyward::migrate::Plan plan;
  keyward::migrate::PlanItem item;
  item.id = "00112233aabbccdd";
  item.identity = r.findings[1].key_identity();
  item.target.token = "codesign";
  item.steps.push_back({keyward::migrate::StepKind::verify, "web-1", "", "Verify it.", {}});
  item.steps.push_back({keyward::migrate::StepKind::migrate, "web-1", "", "Generate a new key in the token.", {}});
  plan.items.push_back(item);
  const auto page = render(r, &plan);
  CHECK(page.find("private-comment") == std::string::npos);
  const auto data = data_of(page);
  REQUIRE(data["findings"].size() == 4);
  std::vector<int> scores;
  for (const auto& f : data["findings"]) scores.push_back(f["score"]);
  CHECK(scores == std::vector<int>{95, 93, 72, 10});
  const auto& planned = data["findings"][2];
  CHECK(planned["plan"]["item"] == "00112233aabbccdd");
  CHECK(planned["plan"]["state"] == "proposed");
  CHECK(planned["plan"]["step"] == "Generate a new key in the token.");
  CHECK(planned["factors"][0]["id"] == "unencrypted-private-key");
  CHECK(data["findings"][0]["plan"].is_null());
  CHECK(data["findings"][3]["expired"] == true);
}

TEST_CASE("an HTML report of no findings is a complete page with empty charts") {
  const ScanResult empty;
  const auto page = render(empty);
  CHECK(data_of(page)["findings"].empty());
  CHECK(count(page, "<svg class=\"chart-") == 3);
  CHECK(count(page, ">none</text>") == 3);
  CHECK(page.find("id=\"filter-host\"") == std::string::npos);
  CHECK(page.rfind("</html>\n") == page.size() - 8);
}

TEST_CASE("the HTML report writes bytes that are not UTF-8 as backslash-x escapes, in the data and in the markup") {
  ScanResult r;
  r.findings.push_back(finding(std::string("/srv/caf\xc3\xa9-\xff.pem"), 50, "medium"));
  r.roots = {std::string("/srv/\xfe")};
  const auto page = render(r);
  CHECK(data_of(page)["findings"][0]["path"] == "/srv/caf\xc3\xa9-\\xff.pem");
  CHECK(page.find("roots /srv/\\xfe") != std::string::npos);
  CHECK(page.find('\xff') == std::string::npos);
}
