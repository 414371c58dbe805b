// SPDX-License-Identifier: Apache-2.0
// A PKCS#12 whose key bag sits inside its encrypted SafeContents (issue 15): unopened, what it
// holds is unknown, so it is no trust store. The store is written at test time by OpenSSL's
// PKCS#12 writer (PKCS12_add_key/PKCS12_add_cert/PKCS12_add_safe), the key bag and the certificate
// bag in one PBES2/AES-256 EncryptedData, and checked with the openssl tool.
#include "support/keygen.hpp"
#include "support/run_command.hpp"
#include "support/temp_tree.hpp"

#include "detectors/binary.hpp"

#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

using namespace keyward::scanner;
using namespace keyward::scanner::detail;
namespace t = keyward::test;

namespace {

// DER of a PKCS#12 holding `key` and its certificate, both in one encrypted safe.
std::string sealed_store(const t::Pkey& key, const std::string& cert_pem, const std::string& password) {
  BIO* b = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  REQUIRE(cert != nullptr);
  STACK_OF(PKCS12_SAFEBAG)* bags = nullptr;
  REQUIRE(PKCS12_add_key(&bags, key.get(), 0, 0, -1, nullptr) != nullptr);  // a plain keyBag...
  REQUIRE(PKCS12_add_cert(&bags, cert) != nullptr);
  STACK_OF(PKCS7)* safes = nullptr;
  // ...and the certificate, sealed together in one EncryptedData.
  REQUIRE(PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, 2048, password.c_str()) == 1);
  PKCS12* p12 = PKCS12_add_safes(safes, 0);
  REQUIRE(p12 != nullptr);
  REQUIRE(PKCS12_set_mac(p12, password.c_str(), -1, nullptr, 0, 2048, EVP_sha256()) == 1);
  unsigned char* out = nullptr;
  const int n = i2d_PKCS12(p12, &out);
  REQUIRE(n > 0);
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  PKCS12_free(p12);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  X509_free(cert);
  return der;
}

PasswordSet candidates(const std::vector<std::string>& passwords) {
  PasswordSet set;
  for (const auto& p : passwords) set.candidates.push_back({keyward::common::SecretBytes::copy_of(p), ""});
  set.max_tries = 64;
  return set;
}

bool has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("a PKCS#12 whose encrypted contents were not opened is no trust store: it may hold a key") {
  unsigned char raw[16];
  REQUIRE(RAND_bytes(raw, sizeof raw) == 1);
  std::string password;
  for (unsigned char c : raw) password += "abcdefghijklmnopqrstuvwxyz234567"[c & 31];
  const std::string der =
      sealed_store(t::ec_p256(), t::certificate_pem(t::ec_p256(), t::ec_p256(), "Sealed"), password);

  // The openssl tool opens it and finds one private key in it.
  t::TempTree dir;
  const std::string file = dir.write("sealed.p12", der, 0600);
  const std::string pass = dir.write("pass", password, 0600);
  int status = -1;
  const std::string keys = t::run_command("openssl pkcs12 -in " + file + " -passin file:" + pass +
                                              " -nocerts -nodes 2>/dev/null | grep -c 'BEGIN PRIVATE KEY'",
                                          status);
  REQUIRE(keys == "1\n");

  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(der.data()), der.size());
  auto closed = parse_pkcs12(bytes, candidates({"changeit", "", "password"}));
  REQUIRE(closed.has_value());
  REQUIRE(closed->store);
  CHECK(closed->kind == Kind::keystore);
  CHECK_FALSE(closed->store->opened);
  CHECK_FALSE(closed->store->truststore);
  CHECK(has(closed->store->contents, "encrypted-contents"));
  CHECK(closed->store->contents_unknown());          // weighed by the rules as a store that may hold a key
  CHECK_FALSE(has(closed->store->contents, "key"));  // nothing is visible outside the encryption
  CHECK(closed->entries.empty());
  CHECK(closed->store->certificates == 0u);

  // The password proves what the closed store could not say: a key was in it.
  auto open = parse_pkcs12(bytes, candidates({password}));
  REQUIRE(open.has_value());
  CHECK(open->store->opened);
  CHECK_FALSE(open->store->truststore);
  CHECK(open->holds_private_key());
  CHECK_FALSE(open->store->contents_unknown());
  CHECK(open->identity == t::spki_sha256(t::ec_p256()));
}

TEST_CASE("a certificate-only PKCS#12 with its certificates in clear is a trust store without its password") {
  t::TempTree dir;
  const std::string cert = dir.write("ca.pem", t::certificate_pem(t::ec_p256(), t::ec_p256(), "Clear CA"));
  const std::string pass = dir.write("pass", "not-a-common-one-7c1f", 0600);
  int status = -1;
  t::run_command("openssl pkcs12 -export -nokeys -certpbe NONE -in " + cert + " -passout file:" + pass + " -out " +
                     dir.path("trust.p12") + " 2>/dev/null",
                 status);
  REQUIRE(status == 0);
  std::ifstream in(dir.path("trust.p12"), std::ios::binary);
  const std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(der.data()), der.size());
  auto f = parse_pkcs12(bytes, candidates({"changeit"}));
  REQUIRE(f.has_value());
  CHECK_FALSE(f->store->opened);
  CHECK_FALSE(has(f->store->contents, "encrypted-contents"));
  CHECK(f->store->truststore);
  CHECK(f->store->certificates == 1u);
}
