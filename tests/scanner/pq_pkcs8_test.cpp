// SPDX-License-Identifier: Apache-2.0
// Post-quantum private keys in PKCS#8 (ML-DSA, ML-KEM, SLH-DSA), which OpenSSL 3.0 cannot load:
// recognised by the algorithm OID that OpenSSL's ASN.1 decoder reads, in PEM and whole-file DER.
// OpenSSL 3.5 (Debian 13) loads them itself, and then the facts it derives are reported too.
// The structures are built at test time by `openssl asn1parse -genconf` with random key bytes.
#include "encoding.hpp"
#include "support/run_command.hpp"
#include "support/temp_tree.hpp"
#include "text_detect.hpp"

#include <keyward/scanner/scan.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <iterator>

#include <doctest/doctest.h>

using namespace keyward::scanner;
using namespace keyward::scanner::detail;
namespace t = keyward::test;

namespace {

std::string random_hex(std::size_t n) {
  std::string b(n, '\0');
  REQUIRE(RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(n)) == 1);
  return keyward::common::to_hex(b);
}

// A DER length for `n` content bytes, in hex.
std::string der_length(std::size_t n) {
  char buf[24];  // "82" and up to 16 hex digits of a size_t, and the NUL
  if (n < 0x80) std::snprintf(buf, sizeof buf, "%02zx", n);
  else if (n < 0x100) std::snprintf(buf, sizeof buf, "81%02zx", n);
  else std::snprintf(buf, sizeof buf, "82%04zx", n);
  return buf;
}

// A PKCS#8 PrivateKeyInfo with algorithm `oid` (and `params` when not empty) and the private-key
// OCTET STRING holding `key_hex`, written by openssl asn1parse -genconf.
std::string genconf_pkcs8(const std::string& oid, const std::string& key_hex, const std::string& params = "") {
  t::TempTree tmp;
  const std::string conf = tmp.write("p8.cnf",
                                     "asn1=SEQUENCE:pk\n[pk]\nversion=INTEGER:0\nalg=SEQUENCE:alg\n"
                                     "key=FORMAT:HEX,OCTETSTRING:" +
                                         key_hex + "\n[alg]\noid=OID:" + oid + "\n" + params);
  int status = 0;
  t::run_command("openssl asn1parse -genconf " + conf + " -noout -out " + tmp.path("p8.der") + " 2>&1", status);
  REQUIRE(status == 0);
  std::ifstream in(tmp.path("p8.der"), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string pem(const std::string& der) {
  std::string out = "-----BEGIN PRIVATE KEY-----\n";
  const std::string body = base64_encode(der);
  for (std::size_t i = 0; i < body.size(); i += 64) out += body.substr(i, 64) + "\n";
  return out + "-----END PRIVATE KEY-----\n";
}

// ML-DSA / ML-KEM private keys: the seed ([0] IMPLICIT), the expanded key (OCTET STRING), or both.
std::string seed_form(std::size_t seed) { return "80" + der_length(seed) + random_hex(seed); }
std::string expanded_form(std::size_t size) { return "04" + der_length(size) + random_hex(size); }
std::string both_form(std::size_t seed, std::size_t size) {
  const std::string inner = "04" + der_length(seed) + random_hex(seed) + expanded_form(size);
  return "30" + der_length(inner.size() / 2) + inner;
}

// Whether this OpenSSL has a key manager for the algorithm (names are case-insensitive).
bool openssl_loads(const std::string& algorithm) {
  EVP_KEYMGMT* m = EVP_KEYMGMT_fetch(nullptr, algorithm.c_str(), nullptr);
  EVP_KEYMGMT_free(m);
  return m != nullptr;
}

void check_pq(const std::string& der, const std::string& algorithm) {
  std::vector<TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  detect_text(pem(der), hits, rejected);
  REQUIRE(hits.size() == 1);
  const Finding& f = hits[0].finding;
  CHECK(f.kind == Kind::private_key);
  CHECK(f.format == Format::pem_pkcs8);
  CHECK(f.rule == "private-key/pkcs8");
  REQUIRE(f.key);
  CHECK(f.key->algorithm == algorithm);
  if (!openssl_loads(algorithm)) {  // OpenSSL 3.0: the OID names the key, and nothing more is known
    CHECK(!f.key->bits);
    CHECK(f.key->spki_sha256.empty());
  } else if (f.key->bits) {  // OpenSSL 3.5 loaded it: its public key is known too
    CHECK(!f.key->spki_sha256.empty());
  }
  CHECK(!f.key->encrypted);
  CHECK(!f.identity.empty());
  CHECK(rejected.empty());

  std::vector<Finding> out;
  ScanStats stats;
  scan_buffer(der, "pq.der", "pq.der", FileFacts{}, ScanOptions{}, out, stats);
  REQUIRE(out.size() == 1);
  CHECK(out[0].format == Format::der_pkcs8);
  CHECK(out[0].key->algorithm == algorithm);
}

}  // namespace

TEST_CASE("ML-DSA keys in PKCS#8 are private keys named by their OID, seed, expanded or both") {
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.3.17", seed_form(32)), "ml-dsa-44");
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.3.18", expanded_form(4032)), "ml-dsa-65");
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.3.19", both_form(32, 4896)), "ml-dsa-87");
}

TEST_CASE("ML-KEM and SLH-DSA keys in PKCS#8 are private keys named by their OID") {
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.4.1", seed_form(64)), "ml-kem-512");
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.4.2", expanded_form(2400)), "ml-kem-768");
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.4.3", seed_form(64)), "ml-kem-1024");
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.3.20", random_hex(64)), "slh-dsa-sha2-128s");
  check_pq(genconf_pkcs8("2.16.840.1.101.3.4.3.31", random_hex(128)), "slh-dsa-shake-256f");
}

TEST_CASE("an unknown OID or a post-quantum OID with parameters is still refused") {
  for (const auto& der : {genconf_pkcs8("1.3.6.1.4.1.99999.7", seed_form(32)),
                          genconf_pkcs8("2.16.840.1.101.3.4.3.17", seed_form(32), "params=NULL\n")}) {
    std::vector<TextHit> hits;
    std::map<std::string, std::uint64_t> rejected;
    detect_text(pem(der), hits, rejected);
    CHECK(hits.empty());
    CHECK(!rejected.empty());
    std::vector<Finding> out;
    ScanStats stats;
    scan_buffer(der, "x.der", "x.der", FileFacts{}, ScanOptions{}, out, stats);
    CHECK(out.empty());
  }
}
