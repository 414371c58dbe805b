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
  CHECK(text.find("Private keys (1)") != std::string::npos);
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
