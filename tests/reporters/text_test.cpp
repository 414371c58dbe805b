// SPDX-License-Identifier: Apache-2.0
#include <keyward/reporters/json.hpp>
#include <keyward/reporters/text.hpp>

#include <doctest/doctest.h>

#include <algorithm>

using namespace keyward::scanner;
using namespace keyward::reporters;

namespace {

ScanResult sample() {
  ScanResult r;
  Finding key;
  key.id = "k1";
  key.kind = Kind::private_key;
  key.format = Format::pem_pkcs8;
  key.location.path = "/home/dev/sign.pem";
  key.location.line = 1;
  key.key.emplace();
  key.key->algorithm = "rsa";
  key.key->bits = 3072;
  key.paired_with = {"c1"};
  Finding cert;
  cert.id = "c1";
  cert.kind = Kind::certificate;
  cert.format = Format::pem_cert;
  cert.location.path = "/home/dev/sign.crt";
  cert.certificate.emplace();
  cert.certificate->subject = "CN=Dev Signing";
  cert.certificate->issuer = "CN=Some CA";
  cert.certificate->not_after = 4102444800;  // 2100
  cert.certificate->extended_key_usage = {"codeSigning"};
  cert.paired_with = {"k1"};
  Finding root;
  root.id = "r1";
  root.kind = Kind::certificate;
  root.format = Format::pem_cert;
  root.location.path = "/etc/ssl/certs/root.pem";
  root.certificate.emplace();
  root.certificate->subject = "CN=Trusted Root";
  root.certificate->trust_store = true;
  r.findings = {key, cert, root};
  r.stats.files_seen = 10;
  r.stats.files_scanned = 9;
  r.stats.skipped["too_large"] = 1;
  return r;
}

}  // namespace

TEST_CASE("the text report shows type, encryption, code signing and the paired certificate") {
  const auto text = render_text(sample(), {});
  CHECK(text.find("Exposures: private keys and key stores, riskiest first (1)") != std::string::npos);
  CHECK(text.find("RSA 3072") != std::string::npos);
  CHECK(text.find("NOT ENCRYPTED") != std::string::npos);
  CHECK(text.find("CODE-SIGNING KEY") != std::string::npos);
  CHECK(text.find("paired with certificate /home/dev/sign.crt") != std::string::npos);
  CHECK(text.find("too_large 1") != std::string::npos);
}

TEST_CASE("trust-store certificates are counted, not listed, unless asked") {
  const auto text = render_text(sample(), {});
  CHECK(text.find("Trusted Root") == std::string::npos);
  CHECK(text.find("Trust-store certificates: 1") != std::string::npos);
  TextOptions o;
  o.list_trust_store = true;
  CHECK(render_text(sample(), o).find("Trusted Root") != std::string::npos);
}

TEST_CASE("colour codes appear only when asked for") {
  CHECK(render_text(sample(), {}).find("\x1b[") == std::string::npos);
  TextOptions o;
  o.color = true;
  CHECK(render_text(sample(), o).find("\x1b[") != std::string::npos);
}

TEST_CASE("jsonl writes one finding per line and the document last") {
  const auto out = render_jsonl(sample());
  CHECK(std::count(out.begin(), out.end(), '\n') == 4);
  CHECK(out.rfind("{\"host\"") != std::string::npos);
}

TEST_CASE("code-signing keys in key stores are counted with those in key files") {
  auto r = sample();
  Finding store;
  store.id = "s1";
  store.kind = Kind::keystore;
  store.format = Format::pkcs12;
  store.location.path = "/home/dev/release.pfx";
  store.store.emplace();
  StoreEntry e;
  e.kind = Kind::private_key;
  e.certificate.emplace();
  e.certificate->extended_key_usage = {"codeSigning"};
  store.entries.push_back(e);
  r.findings.push_back(store);
  const auto text = render_text(r, {});
  CHECK(text.find("1 private key (1 not encrypted)") != std::string::npos);
  CHECK(text.find("2 code-signing keys in files or stores") != std::string::npos);
}

TEST_CASE("a remote scan's finding is shown as host:path, a local one as its path") {
  ScanResult r = sample();
  r.findings[0].location.host = "build-1:2222";
  const auto text = render_text(r, {});
  CHECK(text.find("build-1:2222:/home/dev/sign.pem") != std::string::npos);
  CHECK(text.find("build-1:2222:/home/dev/sign.crt") == std::string::npos);
  CHECK(text.find("/home/dev/sign.crt") != std::string::npos);
  r.findings[0].location.host = "ev\x1b[2Jil";  // a host label is shown as safely as a path
  CHECK(render_text(r, {}).find('\x1b') == std::string::npos);
}

TEST_CASE("names from the scanned machine cannot drive the terminal: escapes and newlines are shown as text") {
  ScanResult r = sample();
  r.findings[0].location.path = "/home/dev/a\x1b[2Jb\nforged.pem";
  r.findings[0].file.owner = "ev\x07il";
  r.findings[1].certificate->subject = "CN=x\x1b]0;title\x07";
  r.findings[1].certificate->issuer =
      "CN=\xc2\x9b"
      "31m";  // U+009B, the C1 CSI
  r.errors.push_back({"/srv/\x1b[31mred", "cannot read\nforged line"});
  r.stats.errors = 1;
  const auto text = render_text(r, {});
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
  CHECK(text.find("\xc2\x9b") == std::string::npos);
  CHECK(text.find("forged.pem") != std::string::npos);
  CHECK(text.find("a\\x1b[2Jb\\x0aforged.pem") != std::string::npos);
  CHECK(text.find("\\u009b31m") != std::string::npos);
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1))
    CHECK(text.compare(at + 1, 6, "forged") != 0);  // no line starts with the forged text
}

namespace {

std::string fmt_id(int i) { return "c" + std::to_string(100 + i) + "000011112222"; }

Finding scored(std::string id, Kind kind, std::string severity, int raw, std::string path) {
  Finding f;
  f.id = std::move(id);
  f.kind = kind;
  f.format = kind == Kind::certificate ? Format::pem_cert : Format::pem_pkcs8;
  f.location.path = std::move(path);
  if (kind == Kind::private_key) {
    f.key.emplace();
    f.key->algorithm = "rsa";
    f.key->bits = 2048;
  }
  if (kind == Kind::certificate) {
    f.certificate.emplace();
    f.certificate->subject = "CN=" + f.id;
    f.certificate->not_after = 4102444800;
  }
  f.risk.emplace();
  f.risk->severity = std::move(severity);
  f.risk->raw = raw;
  f.risk->score = std::min(raw, 100);
  return f;
}

}  // namespace

TEST_CASE("the text report starts with the severity counts, then lists exposures by rank with short ids") {
  ScanResult r;
  // Given in path order; the report must rank them: critical before high, higher raw first.
  r.findings = {scored("aaaa000011112222", Kind::private_key, "high", 80, "/a/high.pem"),
                scored("bbbb000011112222", Kind::private_key, "critical", 120, "/b/crit-low-raw.pem"),
                scored("cccc000011112222", Kind::private_key, "critical", 160, "/c/crit-high-raw.pem"),
                scored("dddd000011112222", Kind::certificate, "info", 0, "/d/inventory.crt")};
  const std::string text = render_text(r, {});
  const auto sev = text.find("By severity: critical 2, high 1, medium 0, low 0, info 1");
  REQUIRE(sev != std::string::npos);
  const auto first = text.find("/c/crit-high-raw.pem");
  const auto second = text.find("/b/crit-low-raw.pem");
  const auto third = text.find("/a/high.pem");
  const auto inventory = text.find("/d/inventory.crt");
  CHECK(sev < first);
  CHECK(first < second);
  CHECK(second < third);
  CHECK(third < inventory);
  CHECK(text.find("cccc0000  private key  /c/crit-high-raw.pem") != std::string::npos);
  CHECK(text.find("Scanned") > inventory);  // the statistics stay at the end
}

TEST_CASE("short ids grow until they are unique in the report") {
  std::vector<Finding> fs(2);
  fs[0].id = "0123456789abcdef";
  fs[1].id = "0123456789abffff";
  CHECK(short_id_length(fs) == 13);
  fs[1].id = "f123456789abffff";
  CHECK(short_id_length(fs) == 8);
}

TEST_CASE("--min-severity and --kind hide findings from the list but never from the counts") {
  ScanResult r;
  r.findings = {scored("aaaa000011112222", Kind::private_key, "critical", 100, "/k/critical.pem"),
                scored("bbbb000011112222", Kind::private_key, "low", 20, "/k/low.pem"),
                scored("cccc000011112222", Kind::certificate, "info", 0, "/k/cert.crt")};
  TextOptions o;
  o.min_severity = keyward::rules::Severity::high;
  std::string text = render_text(r, o);
  CHECK(text.find("/k/critical.pem") != std::string::npos);
  CHECK(text.find("/k/low.pem") == std::string::npos);
  CHECK(text.find("/k/cert.crt") == std::string::npos);
  CHECK(text.find("By severity: critical 1, high 0, medium 0, low 1, info 1") != std::string::npos);
  CHECK(text.find("Hidden by --min-severity/--kind: 2") != std::string::npos);
  CHECK(text.find("2 private keys") != std::string::npos);
  TextOptions k;
  k.kinds = {Kind::certificate};
  text = render_text(r, k);
  CHECK(text.find("/k/cert.crt") != std::string::npos);
  CHECK(text.find("/k/critical.pem") == std::string::npos);
  CHECK(text.find("Hidden by --min-severity/--kind: 2") != std::string::npos);
}

TEST_CASE("a key with many copies of its certificate shows one line with a count") {
  ScanResult r;
  Finding key = scored("aaaa000011112222", Kind::private_key, "high", 80, "/k/key.pem");
  r.findings.push_back(key);
  for (int i = 0; i < 18; ++i) {
    Finding c = scored(fmt_id(i), Kind::certificate, "info", 0, "/k/copy" + std::to_string(i) + ".crt");
    c.certificate->sha256 = "same-der";
    c.paired_with = {key.id};
    r.findings.front().paired_with.push_back(c.id);
    r.findings.push_back(c);
  }
  const std::string text = render_text(r, {});
  std::size_t lines = 0;
  for (auto p = text.find("paired with certificate"); p != std::string::npos;
       p = text.find("paired with certificate", p + 1))
    ++lines;
  CHECK(lines == 1);
  CHECK(text.find("and 17 more copies of it") != std::string::npos);
  CHECK(text.find("+ 17 more copies of this certificate") != std::string::npos);
  CHECK(text.find("/k/copy5.crt") == std::string::npos);  // the copies are counted, not listed
  CHECK(text.find("Certificates (18)") != std::string::npos);
}

TEST_CASE("a raw DER key embedded in a binary file shows the byte where it starts") {
  ScanResult r = sample();
  r.findings[0].encoding = "embedded";
  r.findings[0].location.offset = 8192;
  const auto text = render_text(r, {});
  CHECK(text.find("(DER embedded at byte 8192)") != std::string::npos);
  CHECK(text.find("embedded in text") == std::string::npos);
  r.findings[0].encoding = "base64";
  CHECK(render_text(r, {}).find("(base64 in text)") != std::string::npos);
}

TEST_CASE("a locked store with encrypted contents is not called a trust store: its contents are unknown") {
  auto r = sample();
  Finding store;
  store.id = "s2";
  store.kind = Kind::keystore;
  store.format = Format::pkcs12;
  store.location.path = "/srv/app/sealed.p12";
  store.store.emplace();
  store.store->contents = {"encrypted-contents", std::string(kStoreContentsEncrypted)};
  r.findings.push_back(store);
  const auto text = render_text(r, {});
  const auto line = text.substr(text.find("sealed.p12"));
  CHECK(line.find("encrypted contents unknown (may hold a private key)") != std::string::npos);
  CHECK(line.find("trust store") == std::string::npos);
  store.store->truststore = true;  // a store read whole without a key is one
  store.store->contents = {"certificate"};
  r.findings.back() = store;
  CHECK(render_text(r, {}).find("encrypted contents unknown") == std::string::npos);
}
