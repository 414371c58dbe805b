// SPDX-License-Identifier: Apache-2.0
// DER private keys with no PEM armour: base64 in source and config (encoding "base64"), raw DER
// inside binary files (encoding "embedded", at its offset), and post-quantum PKCS#8 keys named by
// their algorithm OID. Every key is made at test time: OpenSSL in process, python3's sqlite3 and
// pickle, `openssl asn1parse -genconf` for the post-quantum structures.
#include "detectors/der.hpp"
#include "encoding.hpp"
#include "support/keygen.hpp"
#include "support/run_command.hpp"
#include "support/scan_result.hpp"
#include "support/temp_tree.hpp"
#include "text_detect.hpp"

#include <keyward/scanner/scan.hpp>

#include <openssl/rand.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <doctest/doctest.h>

using namespace keyward::scanner;
using namespace keyward::scanner::detail;
namespace t = keyward::test;

namespace {

using Bytes = std::string;  // DER bytes

Bytes pkcs8_der(const t::Pkey& k) {
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(k.get());
  REQUIRE(p8 != nullptr);
  unsigned char* out = nullptr;
  const int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &out);
  PKCS8_PRIV_KEY_INFO_free(p8);
  REQUIRE(n > 0);
  Bytes der(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return der;
}

// PKCS#1 for RSA, SEC1 for EC.
Bytes traditional_der(const t::Pkey& k) {
  unsigned char* out = nullptr;
  const int n = i2d_PrivateKey(k.get(), &out);
  REQUIRE(n > 0);
  Bytes der(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return der;
}

std::string b64(const Bytes& der) { return base64_encode(der); }

Bytes random_bytes(std::size_t n) {
  Bytes b(n, '\0');
  REQUIRE(RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(n)) == 1);
  return b;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Detected {
  std::vector<TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  std::uint64_t rejects(const std::string& family) const {
    const auto it = rejected.find(family);
    return it == rejected.end() ? 0 : it->second;
  }
};

Detected detect(const std::string& text) {
  Detected d;
  detect_text(text, d.hits, d.rejected);
  return d;
}

// One key, found once in `text`, from the base64 run that starts at `run`.
void check_base64_key(const std::string& text, std::size_t run, const t::Pkey& k, Format format,
                      const std::string& algorithm) {
  const Detected d = detect(text);
  REQUIRE(d.hits.size() == 1);
  const Finding& f = d.hits[0].finding;
  CHECK(f.kind == Kind::private_key);
  CHECK(f.format == format);
  CHECK(f.encoding == "base64");
  CHECK(d.hits[0].offset == run);
  REQUIRE(f.key);
  CHECK(f.key->algorithm == algorithm);
  CHECK(f.key->spki_sha256 == t::spki_sha256(k));
  CHECK(d.rejected.empty());
}

// The same base64 in the places a key is pasted: a Java constant, an XML element, YAML, JSON.
void check_in_sources(const Bytes& der, const t::Pkey& k, Format format, const std::string& algorithm) {
  const std::string text = b64(der);
  for (const std::string& before :
       {std::string("class K {\n  static final String KEY = \""), std::string("<config>\n  <privateKey>"),
        std::string("signing:\n  key: "), std::string("{\"id\": 7, \"private_key\": \"")}) {
    CAPTURE(before);
    check_base64_key(before + text + "\";\n}\n", before.size(), k, format, algorithm);
  }
}

// `text` wrapped at 64 columns, the lines joined by `joint`.
std::string wrapped(const std::string& text, const std::string& joint) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 64) out += (i ? joint : "") + text.substr(i, 64);
  return out;
}

}  // namespace

TEST_CASE("base64 PKCS#8 keys in a Java constant, XML, YAML and JSON are found with their facts") {
  for (const char* bits : {"1024", "2048", "3072"}) {
    CAPTURE(bits);
    const t::Pkey k = t::generate("RSA", bits);
    check_in_sources(pkcs8_der(k), k, Format::der_pkcs8, "rsa");
  }
  for (const char* curve : {"P-256", "P-384", "P-521", "secp256k1"}) {
    CAPTURE(curve);
    const t::Pkey k = t::generate("EC", curve);
    check_in_sources(pkcs8_der(k), k, Format::der_pkcs8, "ec");
  }
  for (const char* alg : {"ED25519", "X25519", "ED448", "X448"}) {
    CAPTURE(alg);
    const t::Pkey k = t::generate(alg);
    check_in_sources(pkcs8_der(k), k, Format::der_pkcs8, lower(alg));
  }
}

TEST_CASE("base64 PKCS#1 RSA and SEC1 EC keys are found with their facts") {
  for (const char* bits : {"1024", "2048", "3072", "4096"}) {
    CAPTURE(bits);
    const t::Pkey k = t::generate("RSA", bits);
    check_in_sources(traditional_der(k), k, Format::der_pkcs1, "rsa");
  }
  for (const char* curve : {"P-256", "P-384", "P-521", "secp256k1"}) {
    CAPTURE(curve);
    const t::Pkey k = t::generate("EC", curve);
    check_in_sources(traditional_der(k), k, Format::der_sec1, "ec");
  }
}

TEST_CASE("base64 wrapped over lines, string concatenation and \\n escapes is one key") {
  const t::Pkey& k = t::rsa_2048();
  const std::string text = b64(pkcs8_der(k));
  const std::string yaml = "key: |\n    ";
  check_base64_key(yaml + wrapped(text, "\n    ") + "\nother: 1\n", yaml.size(), k, Format::der_pkcs8, "rsa");
  const std::string java = "String key = \"";
  check_base64_key(java + wrapped(text, "\" +\n      \"") + "\";\n", java.size(), k, Format::der_pkcs8, "rsa");
  const std::string json = "{\"key\": \"";
  check_base64_key(json + wrapped(text, "\\n") + "\"}", json.size(), k, Format::der_pkcs8, "rsa");
  const std::string xml = "<key>\r\n";
  const Bytes sec1 = traditional_der(t::ec_p256());
  check_base64_key(xml + wrapped(b64(sec1), "\r\n") + "\r\n</key>", xml.size(), t::ec_p256(), Format::der_sec1, "ec");
}

TEST_CASE("PEM and base64-wrapped PEM are reported once, by the PEM detectors") {
  const std::string pem = t::pkcs8_pem(t::rsa_2048());
  Detected d = detect(pem);
  REQUIRE(d.hits.size() == 1);
  CHECK(d.hits[0].finding.format == Format::pem_pkcs8);
  d = detect("tls.key: " + base64_encode(pem) + "\n");
  REQUIRE(d.hits.size() == 1);
  CHECK(d.hits[0].finding.format == Format::pem_pkcs8);
  CHECK(d.hits[0].finding.encoding == "base64");
  // A PEM block whose body is cut is the PEM detector's rejection alone.
  const std::string cut = pem.substr(0, pem.find('\n') + 200) + "\n-----END PRIVATE KEY-----\n";
  d = detect(cut);
  CHECK(d.hits.empty());
  CHECK(d.rejects("der-base64") == 0);
  CHECK(!d.rejected.empty());
}

TEST_CASE("random base64, a cut key, a key inside a larger base64 run and a certificate are not keys") {
  const std::string noise = b64(random_bytes(1217));
  Detected d = detect("String blob = \"" + noise + "\";\n");
  CHECK(d.hits.empty());
  CHECK(d.rejected.empty());
  // Cut after the anchor: a candidate that does not validate.
  const std::string text = b64(pkcs8_der(t::rsa_2048()));
  d = detect("String key = \"" + text.substr(0, 300) + "\";\n");
  CHECK(d.hits.empty());
  CHECK(d.rejects("der-base64") == 1);
  // A flipped byte inside the key: OpenSSL refuses it.
  Bytes bad = pkcs8_der(t::rsa_2048());
  bad[26] = static_cast<char>(bad[26] ^ 0x5a);  // the inner RSAPrivateKey SEQUENCE tag
  d = detect("key: " + b64(bad) + "\n");
  CHECK(d.hits.empty());
  CHECK(d.rejects("der-base64") == 1);
  // The DER does not start the run: not where a key's base64 starts.
  d = detect("blob: QUJD" + text + "\n");
  CHECK(d.hits.empty());
  CHECK(d.rejected.empty());
  // A certificate's base64 (MII...) is no private key anchor.
  const std::string cert = t::certificate_pem(t::rsa_2048(), t::rsa_2048(), "x");
  d = detect("<cert>" + cert.substr(cert.find('\n') + 1) + "</cert>");
  CHECK(d.rejected.empty());
}

TEST_CASE("keyward's own sources hold no base64 DER key candidates") {
  const std::string root = KEYWARD_TEST_SOURCE_DIR;
  for (const char* rel : {"scanner/src/detectors/bare_der.hpp", "scanner/src/detectors/bare_der.cpp",
                          "tests/scanner/bare_der_test.cpp", "docs/scan.md", "tests/support/make_corpus.sh"}) {
    CAPTURE(rel);
    const Detected d = detect(read_file(root + "/" + rel));
    CHECK(d.rejects("der-base64") == 0);
    CHECK(d.rejects("der-embedded") == 0);
    for (const auto& h : d.hits) CHECK(h.finding.encoding != "base64");
  }
}

namespace {

ScanResult scan_tree(const t::TempTree& tree) {
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 1;
  return scan(o);
}

using keyward::test::private_keys;

std::uint64_t rejects(const ScanResult& r, const std::string& family) {
  const auto it = r.stats.rejected.find(family);
  return it == r.stats.rejected.end() ? 0 : it->second;
}

// One embedded key in `file`: its format, its offset (where its DER sits in the file's bytes).
void check_embedded(const ScanResult& r, const std::string& file, const Bytes& der, Format format, const t::Pkey& k) {
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 1);
  const Finding& f = *keys[0];
  CHECK(f.format == format);
  CHECK(f.encoding == "embedded");
  const std::size_t at = read_file(file).find(der);
  REQUIRE(at != std::string::npos);
  CHECK(f.location.offset == at);
  CHECK(f.key->spki_sha256 == t::spki_sha256(k));
}

// Runs python3 with `script` (argv[1] is `arg`); REQUIREs success.
void python(const std::string& script, const std::string& arg) {
  t::TempTree tmp;
  const std::string path = tmp.write("gen.py", script);
  int status = 0;
  t::run_command("/usr/bin/python3 " + path + " " + arg, status);
  REQUIRE(status == 0);
}

}  // namespace

TEST_CASE("a DER key in a SQLite BLOB column is found at its offset") {
  t::TempTree tree;
  const Bytes der = pkcs8_der(t::rsa_2048());
  const std::string hex = keyward::common::to_hex(der);
  python(
      "import sqlite3, sys\n"
      "db = sqlite3.connect(sys.argv[1])\n"
      "db.execute('create table creds (id integer primary key, name text, key blob)')\n"
      "db.execute('insert into creds (name, key) values (?, ?)', ('signing', bytes.fromhex('" +
          hex +
          "')))\n"
          "db.commit()\n",
      tree.path("app.sqlite"));
  check_embedded(scan_tree(tree), tree.path("app.sqlite"), der, Format::der_pkcs8, t::rsa_2048());
}

TEST_CASE("a DER key in a python pickle and between random bytes is found at its offset") {
  t::TempTree tree;
  const Bytes sec1 = traditional_der(t::ec_p256());
  const std::string hex = keyward::common::to_hex(sec1);
  python(
      "import pickle, sys\n"
      "open(sys.argv[1], 'wb').write(pickle.dumps({'name': 'svc', 'key': bytes.fromhex('" +
          hex + "')}))\n",
      tree.path("state.pkl"));
  check_embedded(scan_tree(tree), tree.path("state.pkl"), sec1, Format::der_sec1, t::ec_p256());

  t::TempTree noise;
  const t::Pkey rsa = t::generate("RSA", "3072");
  const Bytes pkcs1 = traditional_der(rsa);
  noise.write("blob.bin", random_bytes(1000) + pkcs1 + random_bytes(777));
  check_embedded(scan_tree(noise), noise.path("blob.bin"), pkcs1, Format::der_pkcs1, rsa);
}

TEST_CASE("a whole-file DER key is the DER detector's, reported once and not embedded") {
  // A PKCS#8 RSA key holds a PKCS#1 RSAPrivateKey, whose own anchor is inside the file too.
  for (const Bytes& der :
       {pkcs8_der(t::rsa_2048()), pkcs8_der(t::ec_p256()), traditional_der(t::rsa_2048()), pkcs8_der(t::ed25519())}) {
    t::TempTree tree;
    tree.write("key.der", der);
    const auto r = scan_tree(tree);
    const auto keys = private_keys(r);
    REQUIRE(keys.size() == 1);
    CHECK((keys[0]->format == Format::der_pkcs8 || keys[0]->format == Format::der_pkcs1));
    CHECK(keys[0]->encoding.empty());
    CHECK(keys[0]->location.offset == 0);
  }
}

TEST_CASE("cut or damaged raw DER is not a key, a damaged one that fits is counted") {
  t::TempTree tree;
  const Bytes der = pkcs8_der(t::rsa_2048());
  tree.write("cut.bin", random_bytes(64) + der.substr(0, der.size() - 10));
  Bytes bad = der;
  bad[300] = static_cast<char>(bad[300] ^ 0x40);  // the private exponent INTEGER header
  bad[301] = static_cast<char>(bad[301] ^ 0x40);
  tree.write("bad.bin", random_bytes(64) + bad + random_bytes(64));
  tree.write("noise.bin", random_bytes(1 << 16));
  const auto r = scan_tree(tree);
  CHECK(private_keys(r).empty());
  CHECK(rejects(r, "der-embedded") >= 1);
}

TEST_CASE("an unencrypted key inside a PKCS#12 is the store's entry, not an embedded key") {
  t::TempTree tree;
  tree.write("key.pem", t::pkcs8_pem(t::rsa_2048()));
  tree.write("cert.pem", t::certificate_pem(t::rsa_2048(), t::rsa_2048(), "p12"));
  int status = 0;
  t::run_command("openssl pkcs12 -export -keypbe NONE -certpbe NONE -passout pass: -inkey " + tree.path("key.pem") +
                     " -in " + tree.path("cert.pem") + " -out " + tree.path("store.p12") + " 2>&1",
                 status);
  REQUIRE(status == 0);
  REQUIRE(read_file(tree.path("store.p12")).find(pkcs8_der(t::rsa_2048())) != std::string::npos);
  std::filesystem::remove(tree.path("key.pem"));
  const auto r = scan_tree(tree);
  std::size_t stores = 0;
  for (const auto& f : r.findings) {
    CHECK(f.encoding != "embedded");
    stores += f.kind == Kind::keystore;
  }
  CHECK(stores == 1);
}
