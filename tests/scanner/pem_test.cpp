// SPDX-License-Identifier: Apache-2.0
#include "encoding.hpp"
#include "support/keygen.hpp"
#include "text_detect.hpp"

#include <span>

#include <doctest/doctest.h>

using namespace keyward::scanner;
using namespace keyward::scanner::detail;
namespace t = keyward::test;

namespace {

struct Detected {
  std::vector<TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  std::size_t private_keys() const {
    std::size_t n = 0;
    for (const auto& h : hits) n += h.finding.kind == Kind::private_key;
    return n;
  }
};

Detected detect(const std::string& text) {
  Detected d;
  detect_text(text, d.hits, d.rejected);
  return d;
}

// Replaces "\n" with a literal backslash-n, as a JSON or .env string holds it.
std::string escaped(const std::string& pem) {
  std::string out;
  for (char c : pem) {
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

TEST_CASE("an EC PKCS#8 key is found with its curve and the SPKI OpenSSL computes") {
  const auto d = detect(t::pkcs8_pem(t::ec_p256()));
  REQUIRE(d.hits.size() == 1);
  const Finding& f = d.hits[0].finding;
  CHECK(f.kind == Kind::private_key);
  CHECK(f.format == Format::pem_pkcs8);
  CHECK(f.rule == "private-key/pkcs8");
  REQUIRE(f.key);
  CHECK(f.key->algorithm == "ec");
  CHECK(f.key->curve == "P-256");
  CHECK_FALSE(f.key->encrypted);
  CHECK(f.key->spki_sha256 == t::spki_sha256(t::ec_p256()));
}

TEST_CASE("an RSA PKCS#1 key reports its bits") {
  const auto d = detect(t::traditional_pem(t::rsa_2048()));
  REQUIRE(d.hits.size() == 1);
  CHECK(d.hits[0].finding.format == Format::pem_pkcs1);
  CHECK(d.hits[0].finding.key->algorithm == "rsa");
  CHECK(d.hits[0].finding.key->bits == 2048u);
}

TEST_CASE("an encrypted PKCS#8 key is encrypted, with its cipher and KDF but no algorithm") {
  const auto d = detect(t::pkcs8_pem(t::ec_p256(), "correct horse"));
  REQUIRE(d.hits.size() == 1);
  const auto& k = *d.hits[0].finding.key;
  CHECK(d.hits[0].finding.format == Format::pem_pkcs8_encrypted);
  CHECK(k.encrypted);
  CHECK(k.algorithm.empty());
  CHECK_FALSE(k.bits);
  REQUIRE(k.protection);
  CHECK(k.protection->cipher == "aes-256-cbc");
  CHECK(k.protection->kdf == "pbkdf2");
  CHECK(k.protection->kdf_iterations.value_or(0) >= 1);
}

TEST_CASE("a legacy encrypted PEM key names its algorithm from the label and its cipher from DEK-Info") {
  const auto d = detect(t::traditional_pem(t::rsa_2048(), "secret"));
  REQUIRE(d.hits.size() == 1);
  const auto& f = d.hits[0].finding;
  CHECK(f.format == Format::pem_legacy_encrypted);
  CHECK(f.key->encrypted);
  CHECK(f.key->algorithm == "rsa");
  CHECK(f.key->protection->cipher == "aes-128-cbc");
}

TEST_CASE("CRLF line ends, a UTF-8 BOM and a Bag Attributes preamble do not hide a key") {
  std::string pem = t::pkcs8_pem(t::ed25519());
  std::string crlf;
  for (char c : pem) {
    if (c == '\n') crlf += "\r\n";
    else crlf += c;
  }
  const std::string text =
      "\xEF\xBB\xBF"
      "Bag Attributes\r\n    localKeyID: 01 02 03\r\nKey Attributes: <No Attributes>\r\n" +
      crlf;
  const auto d = detect(text);
  REQUIRE(d.hits.size() == 1);
  CHECK(d.hits[0].finding.key->algorithm == "ed25519");
}

TEST_CASE("PEM inside a JSON string with \\n escapes is found and marked escaped") {
  const std::string json = "{\"private_key\": \"" + escaped(t::pkcs8_pem(t::ec_p256())) + "\"}";
  const auto d = detect(json);
  REQUIRE(d.private_keys() == 1);
  CHECK(d.hits[0].finding.encoding == "escaped");
  CHECK(d.hits[0].finding.key->spki_sha256 == t::spki_sha256(t::ec_p256()));
}

TEST_CASE("PEM built by quoted line concatenation in source code is found") {
  const std::string pem = t::traditional_pem(t::ec_p256());
  std::string java = "String key =\n";
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    java += "    \"" + pem.substr(start, end - start) + "\\n\" +\n";
    start = end + 1;
  }
  java += "    \"\";\n";
  const auto d = detect(java);
  REQUIRE(d.private_keys() == 1);
  CHECK(d.hits[0].finding.format == Format::pem_sec1);
}

TEST_CASE("PEM in an indented YAML block scalar is found") {
  const std::string pem = t::pkcs8_pem(t::ec_p256());
  std::string yaml = "tls:\n  key: |\n";
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    yaml += "    " + pem.substr(start, end - start) + "\n";
    start = end + 1;
  }
  CHECK(detect(yaml).private_keys() == 1);
}

TEST_CASE("base64-wrapped PEM (a Kubernetes Secret's tls.key) is found") {
  const std::string pem = t::pkcs8_pem(t::ec_p256());
  const std::string b64 = keyward::scanner::detail::base64_encode(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()));
  const std::string yaml = "apiVersion: v1\nkind: Secret\ndata:\n  tls.key: " + b64 + "\n  other: x\n";
  const auto d = detect(yaml);
  REQUIRE(d.private_keys() == 1);
  CHECK(d.hits[0].finding.encoding == "base64");
  CHECK(d.hits[0].offset == yaml.find(b64));
}

TEST_CASE("placeholders, truncated and garbled blocks and bare labels are not keys") {
  const std::string pem = t::traditional_pem(t::rsa_2048());
  const std::string placeholder = "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n";
  std::string truncated = pem.substr(0, pem.size() / 2);
  truncated = truncated.substr(0, truncated.rfind('\n') + 1) + "-----END RSA PRIVATE KEY-----\n";
  const std::string garbled =
      "-----BEGIN PRIVATE "
      "KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAq7BFUpkGp3+LQmlQ\nYWJjZGVm\n-----END PRIVATE "
      "KEY-----\n";
  std::string binary(
      "\x7f"
      "ELF\0\0\0",
      7);
  binary += "-----BEGIN RSA PRIVATE KEY-----";
  binary += std::string("\0\0\x01\x02", 4);
  const std::string prose = "Paste the block that starts with -----BEGIN OPENSSH PRIVATE KEY----- here.\n";
  const std::string no_end = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n";
  for (const auto& text : {placeholder, truncated, garbled, binary, prose, no_end}) {
    const auto d = detect(text);
    CHECK(d.private_keys() == 0);
  }
  CHECK(detect(placeholder).rejected.at("pem-private-key") == 1);
  CHECK(detect(truncated).rejected.at("pem-private-key") == 1);
}

TEST_CASE("a real PEM key inside binary data is a key") {
  std::string blob(4096, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>((i * 131) & 0xff);
  const std::string text = blob + t::pkcs8_pem(t::ec_p256()) + blob;
  const auto d = detect(text);
  REQUIRE(d.private_keys() == 1);
  CHECK(d.hits[0].offset == blob.size());
}

TEST_CASE("several blocks in one file are several findings, in order") {
  const std::string text = t::pkcs8_pem(t::ec_p256()) + "\n" + t::public_pem(t::ec_p256()) +
                           t::certificate_pem(t::ec_p256(), t::ec_p256(), "Bundle", "codeSigning");
  const auto d = detect(text);
  REQUIRE(d.hits.size() == 3);
  CHECK(d.hits[0].finding.kind == Kind::private_key);
  CHECK(d.hits[1].finding.kind == Kind::public_key);
  CHECK(d.hits[1].finding.format == Format::pem_public_key);
  CHECK(d.hits[2].finding.kind == Kind::certificate);
  CHECK(d.hits[0].offset < d.hits[1].offset);
  CHECK(d.hits[1].offset < d.hits[2].offset);
}

TEST_CASE("certificate facts: subject, code signing EKU, self-signed, validity and SPKI") {
  const auto ca_key = t::rsa_2048();
  const std::string cert = t::certificate_pem(t::ec_p256(), ca_key, "Signer", "codeSigning", -10, -1);
  const auto d = detect(cert);
  REQUIRE(d.hits.size() == 1);
  const auto& c = *d.hits[0].finding.certificate;
  CHECK(c.subject == "CN=Signer");
  CHECK(c.code_signing());
  CHECK_FALSE(c.is_ca);
  CHECK(c.spki_sha256 == t::spki_sha256(t::ec_p256()));
  CHECK(c.key_algorithm == "ec");
  CHECK(c.signature_algorithm == "sha256WithRSAEncryption");
  CHECK(c.not_after < c.not_before + 10 * 86400);
  CHECK(c.sha256.size() == 64);
  const auto ca = detect(t::certificate_pem(ca_key, ca_key, "Root", nullptr, -1, 3650, true));
  CHECK(ca.hits[0].finding.certificate->is_ca);
  CHECK(ca.hits[0].finding.certificate->self_signed);
}
