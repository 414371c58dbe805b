// SPDX-License-Identifier: Apache-2.0
// PEM shapes real projects' fixtures hold that OpenSSL loads (or loaded, before 3.0) and keyward
// must report (issue 15): legacy PEM encrypted with ECB modes, DER with trailing bytes inside a
// PEM block, Proc-Type/DEK-Info around a PKCS#8 body, and PEM lines behind a log prefix. Every
// fixture is made at test time (tests/support/legacy_pem.hpp); no key text reaches the output.
#include "support/keygen.hpp"
#include "support/legacy_pem.hpp"
#include "text_detect.hpp"

#include <openssl/rand.h>

#include <doctest/doctest.h>

using namespace keyward::scanner;
using namespace keyward::scanner::detail;
namespace t = keyward::test;

namespace {

struct Detected {
  std::vector<TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
};

Detected detect(const std::string& text) {
  Detected d;
  detect_text(text, d.hits, d.rejected);
  return d;
}

// `n` random bytes as upper-case hex, as DEK-Info writes them.
std::string random_hex(std::size_t n) {
  std::string bytes(n, '\0');
  REQUIRE(RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) == 1);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string json_escaped(const std::string& pem) {
  std::string out;
  for (char c : pem) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out;
}

// Every line of `pem` behind a log prefix whose timestamp moves on a second a line.
std::string log_prefixed(const std::string& pem, const std::string& tag) {
  std::string out = "2024-01-01T00:00:00Z build[123]: starting\n";
  int second = 0;
  std::size_t start = 0;
  while (start < pem.size()) {
    const std::size_t end = pem.find('\n', start);
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "2024-01-01T00:%02d:%02dZ ", (second / 60) % 60, second % 60);
    ++second;
    out += stamp + tag + pem.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out + "2024-01-01T00:59:59Z build[123]: done\n";
}

void check_legacy(const Finding& f, const std::string& cipher, const std::string& algorithm) {
  CHECK(f.kind == Kind::private_key);
  CHECK(f.format == Format::pem_legacy_encrypted);
  CHECK(f.rule == "private-key/legacy-encrypted");
  REQUIRE(f.key);
  CHECK(f.key->encrypted);
  CHECK(f.key->algorithm == algorithm);
  REQUIRE(f.key->protection);
  CHECK(f.key->protection->cipher == lower(cipher));
  CHECK(f.key->protection->kdf == "evp-bytes-to-key-md5");
  CHECK(f.key->spki_sha256.empty());
}

}  // namespace

TEST_CASE("legacy PEM encrypted with an ECB cipher is an encrypted key named by its cipher") {
  const std::string rsa = t::private_der(t::rsa_2048(), false);
  for (const char* cipher :
       {"AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "DES-ECB", "DES-EDE3-ECB", "RC2-ECB", "BF-ECB"}) {
    CAPTURE(cipher);
    const std::string pem = t::legacy_pem("RSA PRIVATE KEY", rsa, cipher, random_hex(8), "fixture-pass", true);
    const auto d = detect(pem);
    REQUIRE(d.hits.size() == 1);
    check_legacy(d.hits[0].finding, cipher, "rsa");
  }
  const std::string ec = t::private_der(t::ec_p256(), false);
  const auto d = detect(t::legacy_pem("EC PRIVATE KEY", ec, "AES-256-ECB", random_hex(8), "fixture-pass", true));
  REQUIRE(d.hits.size() == 1);
  check_legacy(d.hits[0].finding, "AES-256-ECB", "ec");
}

TEST_CASE("an ECB DEK-Info whose hex is not an 8-byte salt is rejected, as is a CBC one without its IV") {
  const std::string rsa = t::private_der(t::rsa_2048(), false);
  const std::string salt = random_hex(8);
  const std::string iv = random_hex(16);
  std::string ecb = t::legacy_pem("RSA PRIVATE KEY", rsa, "AES-128-ECB", salt, "fixture-pass", true);
  std::string cbc = t::legacy_pem("RSA PRIVATE KEY", rsa, "AES-128-CBC", iv, "fixture-pass", false);
  ecb.replace(ecb.find(salt), salt.size(), salt.substr(0, 10));
  cbc.replace(cbc.find(iv), iv.size(), iv.substr(0, 16));  // an 8-byte IV for a 16-byte block cipher
  for (const std::string& text : {ecb, cbc}) {
    const auto d = detect(text);
    CHECK(d.hits.empty());
    CHECK(d.rejected.at("pem-private-key") == 1);
  }
}

TEST_CASE("Proc-Type and DEK-Info around a PKCS#8 body are an encrypted key OpenSSL opens") {
  struct Case {
    const t::Pkey* key;
    const char* cipher;
  };
  for (const Case& c :
       {Case{&t::ed25519(), "AES-128-CBC"}, Case{&t::rsa_2048(), "DES-EDE3-CBC"}, Case{&t::ec_p256(), "AES-256-CBC"}}) {
    CAPTURE(c.cipher);
    const std::size_t iv = std::string(c.cipher).rfind("AES", 0) == 0 ? 16 : 8;
    const std::string pem =
        t::legacy_pem("PRIVATE KEY", t::private_der(*c.key, true), c.cipher, random_hex(iv), "fixture-pass", false);
    REQUIRE(t::openssl_opens_key(pem, "fixture-pass"));  // the fixture is a real key file
    CHECK_FALSE(t::openssl_opens_key(pem, "wrong"));
    const auto d = detect(pem);
    REQUIRE(d.hits.size() == 1);
    // Which algorithm the PKCS#8 body holds is inside the encryption: unknown.
    check_legacy(d.hits[0].finding, c.cipher, "");
  }
}

TEST_CASE("a DER key with trailing bytes in its PEM block is reported with trailing_bytes and its SPKI identity") {
  const std::string der = t::private_der(t::ec_p256(), true);
  const std::string tail = std::string(7, '\0') + "garbage";
  const std::string pem = t::armour("PRIVATE KEY", der + tail);
  REQUIRE(t::openssl_opens_key(pem, ""));  // OpenSSL loads the key and ignores the rest
  const auto clean = detect(t::armour("PRIVATE KEY", der));
  REQUIRE(clean.hits.size() == 1);
  CHECK(clean.hits[0].finding.trailing_bytes == 0);
  for (const std::string& text : {pem, "{\"private_key\": \"" + json_escaped(pem) + "\"}"}) {
    const auto d = detect(text);
    REQUIRE(d.hits.size() == 1);
    const Finding& f = d.hits[0].finding;
    CHECK(f.kind == Kind::private_key);
    CHECK(f.format == Format::pem_pkcs8);
    CHECK(f.rule == "private-key/pkcs8");
    CHECK(f.trailing_bytes == tail.size());
    CHECK(f.key->spki_sha256 == t::spki_sha256(t::ec_p256()));
    CHECK(f.identity == clean.hits[0].finding.identity);
  }
  CHECK(detect("{\"k\": \"" + json_escaped(pem) + "\"}").hits.at(0).finding.encoding == "escaped");
  // A traditional RSA key too.
  const auto rsa = detect(t::armour("RSA PRIVATE KEY", t::private_der(t::rsa_2048(), false) + tail));
  REQUIRE(rsa.hits.size() == 1);
  CHECK(rsa.hits[0].finding.format == Format::pem_pkcs1);
  CHECK(rsa.hits[0].finding.trailing_bytes == tail.size());
}

TEST_CASE("trailing bytes are accepted only after a complete valid DER object") {
  const std::string der = t::private_der(t::ec_p256(), true);
  // The key cut short, with bytes after it; its outer length claims more than there is.
  const std::string cut = der.substr(0, der.size() - 10);
  // A well-formed SEQUENCE that is not a key, then the key.
  const std::string not_key = std::string("\x30\x03\x02\x01\x05", 5) + der;
  // The key with a length inside it broken, then trailing bytes.
  std::string damaged = der;
  damaged[4] = '\x7f';  // the version INTEGER's length now runs past the key
  for (const std::string& body : {cut + "xxxx", not_key, damaged + std::string(4, '\0')}) {
    const auto d = detect(t::armour("PRIVATE KEY", body));
    CHECK(d.hits.empty());
    CHECK(d.rejected.at("pem-private-key") == 1);
  }
}

TEST_CASE("a PKCS#7 bundle with trailing NUL bytes lists its certificates with trailing_bytes") {
  t::TempTree dir;
  const std::string a = dir.write("a.pem", t::certificate_pem(t::ec_p256(), t::ec_p256(), "Bundle A"));
  const std::string b = dir.write("b.pem", t::certificate_pem(t::rsa_2048(), t::rsa_2048(), "Bundle B"));
  int status = -1;
  t::run_command(
      "openssl crl2pkcs7 -nocrl -certfile " + a + " -certfile " + b + " -outform DER -out " + dir.path("bundle.p7b"),
      status);
  REQUIRE(status == 0);
  const std::string p7 = t::read_file(dir.path("bundle.p7b"));
  const auto d = detect(t::armour("PKCS7", p7 + std::string(16, '\0')));
  REQUIRE(d.hits.size() == 2);
  for (const auto& h : d.hits) {
    CHECK(h.finding.kind == Kind::certificate);
    CHECK(h.finding.format == Format::pkcs7);
    CHECK(h.finding.rule == "certificate/pkcs7");
    CHECK(h.finding.trailing_bytes == 16u);
  }
  CHECK(d.hits[0].finding.certificate->subject != d.hits[1].finding.certificate->subject);
}

TEST_CASE("PEM lines behind a log prefix are read without it") {
  SUBCASE("a key printed to a build log, timestamps moving on every line") {
    const auto d = detect(log_prefixed(t::pkcs8_pem(t::ec_p256()), "build[123]: "));
    REQUIRE(d.hits.size() == 1);
    CHECK(d.hits[0].finding.format == Format::pem_pkcs8);
    CHECK(d.hits[0].finding.key->spki_sha256 == t::spki_sha256(t::ec_p256()));
  }
  SUBCASE("an encrypted legacy key, its headers behind the prefix too") {
    const auto d = detect(log_prefixed(t::traditional_pem(t::rsa_2048(), "fixture-pass"), "ci: "));
    REQUIRE(d.hits.size() == 1);
    check_legacy(d.hits[0].finding, "AES-128-CBC", "rsa");
  }
  SUBCASE("a certificate behind a fixed [INFO] prefix") {
    const std::string pem = t::certificate_pem(t::ec_p256(), t::ec_p256(), "Logged");
    std::string text;
    std::size_t start = 0;
    while (start < pem.size()) {
      const std::size_t end = pem.find('\n', start);
      text += "[INFO] " + pem.substr(start, end - start) + "\n";
      start = end + 1;
    }
    const auto d = detect(text);
    REQUIRE(d.hits.size() == 1);
    CHECK(d.hits[0].finding.kind == Kind::certificate);
    CHECK(d.hits[0].finding.certificate->subject == "CN=Logged");
  }
  SUBCASE("a key whose lines lost the prefix shape is not read into garbage") {
    std::string text = log_prefixed(t::pkcs8_pem(t::ec_p256()), "build[123]: ");
    const auto second = text.find('\n', text.find("-----BEGIN")) + 1;
    text.replace(second, 4, "XXXX");  // the first body line's timestamp: not the prefix's shape
    CHECK(detect(text).hits.empty());
  }
}
