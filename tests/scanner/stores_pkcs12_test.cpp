// SPDX-License-Identifier: Apache-2.0
// Tests of the binary detectors for DER, PKCS#12, PVK and SNK (scanner/src/detectors/binary.hpp)
// against files openssl generates at test time, once per run (a shared temp dir). Expected SPKI
// hashes come from OpenSSL's command line (`openssl x509 -pubkey -noout | openssl pkey -pubin
// -outform DER | sha256sum`), never from the code under test.
#include <doctest/doctest.h>

#include "support/generated_dir.hpp"

#include "detectors/binary.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace keyward::scanner;
using namespace keyward::scanner::detail;

namespace {

using Bytes = std::vector<std::uint8_t>;

using keyward::test::slurp;

// Stores, keys and certificates generated once per test run; every expected value is computed
// by openssl itself into "<name>.spki" files.
struct Keys : keyward::test::GeneratedDir {
  Keys() { prepare("stores-keys-1"); }

  void generate() override {
    // A chain: an EC P-256 CA and an RSA-2048 leaf it signed.
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key");
    run("openssl req -x509 -new -key ca.key -subj '/CN=Keyward Test CA' -days 30 "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign -out ca.crt");
    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out leaf.key");
    run("openssl req -new -key leaf.key -subj '/CN=leaf.example' -out leaf.csr");
    run("openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 30 -out leaf.crt");
    // PVK holds DSA keys with a 160-bit q only.
    run("openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -pkeyopt dsa_paramgen_q_bits:160 "
        "-out dsa.param");
    run("openssl genpkey -paramfile dsa.param -out dsa.key");
    for (const char* c : {"leaf", "ca"})
      run(std::string("openssl x509 -in ") + c +
          ".crt -pubkey -noout | openssl pkey -pubin -outform DER | "
          "sha256sum | cut -c1-64 > " +
          c + ".spki");
    run("openssl pkey -in dsa.key -pubout -outform DER | sha256sum | cut -c1-64 > dsa.spki");
    run("openssl x509 -in leaf.crt -outform DER | sha256sum | cut -c1-64 > leaf.sha256");

    // PKCS#12 stores: modern (PBES2/AES-256, SHA-256 MAC) and -legacy (RC2-40, 3DES, SHA-1 MAC).
    run("openssl rand -hex 16 > strong.pass");
    const std::string chain = " -inkey leaf.key -in leaf.crt -certfile ca.crt -name leafalias ";
    run("openssl pkcs12 -export" + chain + "-passout pass:changeit -out modern_changeit.p12");
    run("openssl pkcs12 -export -legacy" + chain + "-passout pass:changeit -out legacy_changeit.p12");
    run("openssl pkcs12 -export" + chain + "-passout pass: -out modern_empty.p12");
    run("openssl pkcs12 -export -legacy" + chain + "-passout pass: -out legacy_empty.p12");
    run("openssl pkcs12 -export" + chain + "-passout file:strong.pass -out modern_strong.p12");
    run("openssl pkcs12 -export -legacy" + chain + "-passout file:strong.pass -out legacy_strong.p12");
    run("openssl pkcs12 -export" + chain + "-certpbe NONE -passout file:strong.pass -out certs_clear.p12");
    run("openssl pkcs12 -export -nokeys -in ca.crt -passout pass:changeit -out trust.p12");
    run("openssl pkcs12 -export -inkey leaf.key -in leaf.crt -keypbe NONE -certpbe NONE -nomac "
        "-passout pass: -out plain.p12");
    run("openssl pkcs12 -export -inkey leaf.key -in leaf.crt -iter 1000 -macalg sha1 "
        "-passout pass:changeit -out lowiter.p12");

    // DER objects.
    run("openssl x509 -in leaf.crt -outform DER -out leaf_cert.der");
    run("openssl pkey -in leaf.key -outform DER -out leaf_pkcs1.der");
    run("openssl pkey -in ca.key -outform DER -out ca_sec1.der");
    run("openssl pkey -in dsa.key -outform DER -out dsa.der");
    run("openssl pkcs8 -topk8 -nocrypt -in leaf.key -outform DER -out leaf_pkcs8.der");
    run("openssl pkcs8 -topk8 -in leaf.key -outform DER -passout pass:secret -out leaf_pkcs8_enc.der");
    run("openssl pkey -in leaf.key -pubout -outform DER -out leaf_pub.der");
    run("openssl req -in leaf.csr -outform DER -out leaf_csr.der");
    run("openssl crl2pkcs7 -nocrl -certfile leaf.crt -certfile ca.crt -outform DER -out chain.p7b");

    // PVK (the encrypted one needs RC4 from the legacy provider) and .NET SNK blobs.
    run("openssl rsa -in leaf.key -outform PVK -pvk-none -out leaf.pvk");
    run("openssl rsa -in leaf.key -outform PVK -pvk-strong -passout pass:secret "
        "-provider legacy -provider default -out leaf_enc.pvk");
    run("openssl dsa -in dsa.key -outform PVK -pvk-none -out dsa.pvk");
    run("openssl dsa -in dsa.key -outform PVK -pvk-strong -passout pass:secret "
        "-provider legacy -provider default -out dsa_enc.pvk");
    run("openssl rsa -in leaf.key -outform MSBLOB -out leaf.snk");
    run("openssl rsa -in leaf.key -pubout -outform MSBLOB -out leaf_pub.snk");
  }

  Bytes bytes(const std::string& name) const {
    const std::string s = slurp(dir / name);
    return Bytes(s.begin(), s.end());
  }
};

const Keys& keys() {
  static Keys k;
  REQUIRE_MESSAGE(k.failure.empty(), k.failure);
  return k;
}

// (password, where it was found) pairs as a store's candidates.
using Candidates = std::vector<std::pair<std::string, std::string>>;

PasswordSet passwords(const Candidates& candidates, std::size_t max_tries = 64) {
  PasswordSet set;
  for (const auto& [password, source] : candidates)
    set.candidates.push_back({keyward::common::SecretBytes::copy_of(password), source});
  set.max_tries = max_tries;
  return set;
}

Finding store(const std::string& name, const PasswordSet& set) {
  auto r = parse_pkcs12(keys().bytes(name), set);
  REQUIRE_MESSAGE(r.has_value(), name);
  REQUIRE(r->store.has_value());
  return *r;
}

bool has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::vector<const StoreEntry*> entries_of_kind(const Finding& f, Kind k) {
  std::vector<const StoreEntry*> out;
  for (const auto& e : f.entries)
    if (e.kind == k) out.push_back(&e);
  return out;
}

// Every string a finding carries, to check that no password leaks into it.
std::string all_text(const Finding& f) {
  std::string s = f.id + f.rule + f.identity + f.encoding;
  auto key = [&](const KeyFacts& k) {
    s += k.algorithm + k.curve + k.password_exposed_in + k.spki_sha256 + k.comment;
    if (k.protection) s += k.protection->cipher + k.protection->kdf;
  };
  auto cert = [&](const CertFacts& c) { s += c.subject + c.issuer + c.serial + c.sha256 + c.spki_sha256; };
  if (f.key) key(*f.key);
  if (f.certificate) cert(*f.certificate);
  if (f.store) {
    s += f.store->password_exposed_in + f.store->mac;
    for (const auto& p : f.store->encryption) s += p.cipher + p.kdf;
    for (const auto& w : f.store->weaknesses) s += w;
    for (const auto& c : f.store->contents) s += c;
  }
  for (const auto& e : f.entries) {
    s += e.alias;
    if (e.key) key(*e.key);
    if (e.certificate) cert(*e.certificate);
  }
  return s;
}

bool has_protection(const StoreFacts& s, std::string_view cipher, std::string_view kdf) {
  return std::any_of(s.encryption.begin(), s.encryption.end(),
                     [&](const Protection& p) { return p.cipher == cipher && p.kdf == kdf; });
}

// The leaf's key entry of an opened chain store: key and certificate share OpenSSL's SPKI.
void check_leaf_entry(const Finding& f, std::uint32_t chain) {
  const auto& k = keys();
  const auto key_entries = entries_of_kind(f, Kind::private_key);
  REQUIRE(key_entries.size() == 1);
  const StoreEntry& e = *key_entries[0];
  REQUIRE(e.key.has_value());
  CHECK(e.key->algorithm == "rsa");
  CHECK(e.key->bits == 2048u);
  CHECK(e.key->spki_sha256 == k.value("leaf.spki"));
  REQUIRE(e.certificate.has_value());
  CHECK(e.certificate->spki_sha256 == k.value("leaf.spki"));
  CHECK(e.certificate->sha256 == k.value("leaf.sha256"));
  CHECK(e.chain_length == chain);
  CHECK(e.alias == "leafalias");
  CHECK(f.identity == k.value("leaf.spki"));
}

}  // namespace

TEST_CASE("a modern PKCS#12 opened with a common password lists its key, certificate and chain") {
  const Finding f = store("modern_changeit.p12", passwords({{"wrong", ""}, {"changeit", ""}}));
  CHECK(f.kind == Kind::keystore);
  CHECK(f.format == Format::pkcs12);
  CHECK(f.rule == "keystore/pkcs12");
  const StoreFacts& s = *f.store;
  CHECK(s.opened);
  CHECK(s.weak_password);
  CHECK(s.password_exposed_in.empty());
  CHECK(s.mac == "sha256");
  CHECK(s.mac_iterations == 2048u);
  CHECK(has_protection(s, "aes-256-cbc", "pbkdf2"));
  CHECK(s.weaknesses.empty());
  CHECK_FALSE(s.truststore);
  CHECK(has(s.contents, "shrouded-key"));
  CHECK(has(s.contents, "encrypted-contents"));
  check_leaf_entry(f, 2);
  const auto certs = entries_of_kind(f, Kind::certificate);
  REQUIRE(certs.size() == 1);
  REQUIRE(certs[0]->certificate.has_value());
  CHECK(certs[0]->certificate->spki_sha256 == keys().value("ca.spki"));
  CHECK(certs[0]->certificate->is_ca);
  CHECK(f.holds_private_key());
  CHECK(all_text(f).find("changeit") == std::string::npos);
}

TEST_CASE("a legacy PKCS#12 is opened through the legacy provider and graded rc2-40 3des and sha1-mac") {
  const Finding f = store("legacy_changeit.p12", passwords({{"changeit", ""}}));
  const StoreFacts& s = *f.store;
  CHECK(s.opened);
  CHECK(s.weak_password);
  CHECK(s.mac == "sha1");
  CHECK(has(s.weaknesses, "rc2-40"));
  CHECK(has(s.weaknesses, "3des"));
  CHECK(has(s.weaknesses, "sha1-mac"));
  CHECK_FALSE(has(s.weaknesses, "low-iterations"));
  CHECK(has_protection(s, "rc2-40-cbc", "pkcs12-kdf-sha1"));
  CHECK(has_protection(s, "des-ede3-cbc", "pkcs12-kdf-sha1"));
  check_leaf_entry(f, 2);
  // The certificates sit in the RC2-40 safe: reading them proves the legacy provider was used.
  CHECK(entries_of_kind(f, Kind::certificate).size() == 1);
}

TEST_CASE("opening legacy stores leaves the default library context without the legacy provider") {
  (void)store("legacy_changeit.p12", passwords({{"changeit", ""}}));
  EVP_CIPHER* rc2 = EVP_CIPHER_fetch(nullptr, "RC2-40-CBC", nullptr);
  CHECK(rc2 == nullptr);
  EVP_CIPHER_free(rc2);
}

TEST_CASE("an unopened PKCS#12 still reports its private key entry and how it is protected") {
  SUBCASE("modern") {
    const Finding f = store("modern_strong.p12", passwords({{"changeit", ""}, {"", ""}, {"password", ""}}));
    const StoreFacts& s = *f.store;
    CHECK_FALSE(s.opened);
    CHECK_FALSE(s.weak_password);
    CHECK_FALSE(s.truststore);
    CHECK(has(s.contents, "shrouded-key"));
    CHECK(has(s.contents, "encrypted-contents"));
    CHECK(has_protection(s, "aes-256-cbc", "pbkdf2"));
    CHECK(s.weaknesses.empty());
    const auto key_entries = entries_of_kind(f, Kind::private_key);
    REQUIRE(key_entries.size() == 1);
    REQUIRE(key_entries[0]->key.has_value());
    CHECK(key_entries[0]->key->encrypted);
    REQUIRE(key_entries[0]->key->protection.has_value());
    CHECK(key_entries[0]->key->protection->cipher == "aes-256-cbc");
    CHECK(key_entries[0]->key->protection->kdf_iterations == 2048u);
    CHECK(key_entries[0]->key->spki_sha256.empty());
    CHECK(key_entries[0]->alias == "leafalias");
    CHECK(f.identity.rfind("blob:", 0) == 0);
    CHECK(f.holds_private_key());
  }
  SUBCASE("legacy") {
    const Finding f = store("legacy_strong.p12", passwords({}));
    const StoreFacts& s = *f.store;
    CHECK_FALSE(s.opened);
    CHECK(has(s.weaknesses, "rc2-40"));
    CHECK(has(s.weaknesses, "3des"));
    CHECK(has(s.weaknesses, "sha1-mac"));
    CHECK(entries_of_kind(f, Kind::private_key).size() == 1);
  }
}

TEST_CASE("an unopened PKCS#12 with certificates in clear ties its key entry to its certificate") {
  const Finding f = store("certs_clear.p12", passwords({{"changeit", ""}}));
  CHECK_FALSE(f.store->opened);
  CHECK(has(f.store->contents, "certificate"));
  CHECK(has(f.store->contents, "shrouded-key"));
  const auto key_entries = entries_of_kind(f, Kind::private_key);
  REQUIRE(key_entries.size() == 1);
  CHECK(key_entries[0]->key->encrypted);
  // Matched by localKeyID: the key's SPKI comes from its certificate.
  CHECK(key_entries[0]->key->spki_sha256 == keys().value("leaf.spki"));
  CHECK(key_entries[0]->key->algorithm == "rsa");
  CHECK(key_entries[0]->chain_length == 2u);
  CHECK(f.identity == keys().value("leaf.spki"));
}

TEST_CASE("a password found next to a PKCS#12 opens it and is reported by path never by value") {
  const std::string strong = keys().value("strong.pass");
  REQUIRE(strong.size() == 32);
  for (const char* name : {"modern_strong.p12", "legacy_strong.p12"}) {
    CAPTURE(name);
    const Finding f = store(name, passwords({{"changeit", ""}, {strong, "/srv/app/keystore.pass"}}));
    CHECK(f.store->opened);
    CHECK_FALSE(f.store->weak_password);
    CHECK(f.store->password_exposed_in == "/srv/app/keystore.pass");
    check_leaf_entry(f, 2);
    CHECK(all_text(f).find(strong) == std::string::npos);
  }
}

TEST_CASE("the empty password opens a PKCS#12 and counts as weak") {
  for (const char* name : {"modern_empty.p12", "legacy_empty.p12"}) {
    CAPTURE(name);
    const Finding f = store(name, passwords({{"changeit", ""}, {"", ""}}));
    CHECK(f.store->opened);
    CHECK(f.store->weak_password);
    check_leaf_entry(f, 2);
  }
}

TEST_CASE("the password budget of tries and time is honoured") {
  Candidates c;
  for (int i = 0; i < 5; ++i) c.push_back({"wrong" + std::to_string(i), ""});
  c.push_back({"changeit", ""});
  CHECK_FALSE(store("modern_changeit.p12", passwords(c, 3)).store->opened);
  CHECK_FALSE(store("modern_changeit.p12", passwords(c, 5)).store->opened);
  CHECK(store("modern_changeit.p12", passwords(c, 6)).store->opened);
  PasswordSet no_time = passwords(c, 64);
  no_time.max_time = std::chrono::milliseconds(0);
  CHECK_FALSE(store("modern_changeit.p12", no_time).store->opened);
}

TEST_CASE("a certificate-only PKCS#12 is a truststore once opened, closed, its encrypted contents are unknown") {
  // openssl encrypts the certificates: unopened, nothing says no key is among them.
  const Finding closed = store("trust.p12", passwords({}));
  CHECK_FALSE(closed.store->opened);
  CHECK_FALSE(closed.store->truststore);
  CHECK(has(closed.store->contents, "encrypted-contents"));
  CHECK_FALSE(closed.holds_private_key());
  const Finding open = store("trust.p12", passwords({{"changeit", ""}}));
  CHECK(open.store->opened);
  CHECK(open.store->truststore);
  CHECK_FALSE(open.holds_private_key());
  REQUIRE(open.entries.size() == 1);
  REQUIRE(open.entries[0].certificate.has_value());
  CHECK(open.entries[0].certificate->spki_sha256 == keys().value("ca.spki"));
}

TEST_CASE("a PKCS#12 without MAC or encryption is read without a password and graded") {
  const Finding f = store("plain.p12", passwords({}));
  const StoreFacts& s = *f.store;
  CHECK(s.opened);
  CHECK_FALSE(s.weak_password);
  CHECK(s.mac.empty());
  CHECK(has(s.weaknesses, "no-mac"));
  CHECK(has(s.weaknesses, "unencrypted-key"));
  CHECK(has(s.contents, "key"));
  CHECK(has(s.contents, "certificate"));
  const auto key_entries = entries_of_kind(f, Kind::private_key);
  REQUIRE(key_entries.size() == 1);
  CHECK_FALSE(key_entries[0]->key->encrypted);
  CHECK(key_entries[0]->key->spki_sha256 == keys().value("leaf.spki"));
  REQUIRE(key_entries[0]->certificate.has_value());
  CHECK(key_entries[0]->chain_length == 1u);
}

TEST_CASE("low iteration counts and a SHA-1 MAC are graded") {
  const Finding f = store("lowiter.p12", passwords({{"changeit", ""}}));
  CHECK(f.store->opened);
  CHECK(f.store->mac_iterations == 1000u);
  CHECK(has(f.store->weaknesses, "low-iterations"));
  CHECK(has(f.store->weaknesses, "sha1-mac"));
}

TEST_CASE("DER keys certificates public keys and CSRs are found with the SPKI OpenSSL computes") {
  const auto& k = keys();
  struct Case {
    const char* file;
    Kind kind;
    Format format;
    const char* rule;
    const char* spki;
  };
  const Case cases[] = {
      {"leaf_cert.der", Kind::certificate, Format::der_cert, "certificate/x509", "leaf.spki"},
      {"leaf_pkcs1.der", Kind::private_key, Format::der_pkcs1, "private-key/pkcs1", "leaf.spki"},
      {"leaf_pkcs8.der", Kind::private_key, Format::der_pkcs8, "private-key/pkcs8", "leaf.spki"},
      {"ca_sec1.der", Kind::private_key, Format::der_sec1, "private-key/sec1", "ca.spki"},
      {"dsa.der", Kind::private_key, Format::der_dsa, "private-key/dsa", "dsa.spki"},
      {"leaf_pub.der", Kind::public_key, Format::der_public_key, "public-key/spki", "leaf.spki"},
      {"leaf_csr.der", Kind::public_key, Format::der_csr, "public-key/csr", "leaf.spki"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    const Bytes data = k.bytes(c.file);
    CHECK(sniff_binary(data) == "der");
    auto r = parse_der(data);
    REQUIRE(r.has_value());
    REQUIRE(r->size() == 1);
    const Finding& f = r->front();
    CHECK(f.kind == c.kind);
    CHECK(f.format == c.format);
    CHECK(f.rule == c.rule);
    CHECK(f.spki() == k.value(c.spki));
    if (f.kind == Kind::certificate) CHECK(f.identity == k.value("leaf.sha256"));
    else CHECK(f.identity == k.value(c.spki));
  }
  // The EC key's curve and the DSA key's algorithm.
  CHECK(parse_der(k.bytes("ca_sec1.der"))->front().key->curve == "P-256");
  CHECK(parse_der(k.bytes("dsa.der"))->front().key->algorithm == "dsa");
}

TEST_CASE("an encrypted DER PKCS#8 key is reported as encrypted with its protection") {
  auto r = parse_der(keys().bytes("leaf_pkcs8_enc.der"));
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 1);
  const Finding& f = r->front();
  CHECK(f.format == Format::der_pkcs8_encrypted);
  CHECK(f.rule == "private-key/pkcs8-encrypted");
  REQUIRE(f.key.has_value());
  CHECK(f.key->encrypted);
  REQUIRE(f.key->protection.has_value());
  CHECK(f.key->protection->cipher == "aes-256-cbc");
  CHECK(f.key->protection->kdf == "pbkdf2");
  CHECK(f.identity.rfind("blob:", 0) == 0);
}

TEST_CASE("a DER PKCS#7 bundle gives one certificate finding per certificate") {
  auto r = parse_der(keys().bytes("chain.p7b"));
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  std::vector<std::string> spkis;
  for (const Finding& f : *r) {
    CHECK(f.kind == Kind::certificate);
    CHECK(f.format == Format::der_pkcs7);
    CHECK(f.rule == "certificate/pkcs7");
    spkis.push_back(f.spki());
  }
  CHECK(has(spkis, keys().value("leaf.spki")));
  CHECK(has(spkis, keys().value("ca.spki")));
}

TEST_CASE("random bytes that start like a DER SEQUENCE of the right length are not findings") {
  std::mt19937 rng(20240601);
  for (std::size_t size : {300u, 1200u, 2700u, 40000u}) {
    for (int round = 0; round < 50; ++round) {
      Bytes data(size);
      for (auto& b : data) b = static_cast<std::uint8_t>(rng());
      const std::size_t len = size - 4;  // 30 82 <len>: a minimal DER length for 256..65535
      data[0] = 0x30;
      data[1] = 0x82;
      data[2] = static_cast<std::uint8_t>(len >> 8);
      data[3] = static_cast<std::uint8_t>(len);
      CHECK(sniff_binary(data) == "der");
      CHECK_FALSE(parse_der(data).has_value());
      CHECK_FALSE(parse_pkcs12(data, passwords({{"", ""}})).has_value());
    }
  }
}

TEST_CASE("truncated and extended inputs fail cleanly") {
  const auto& k = keys();
  const PasswordSet set = passwords({{"changeit", ""}});
  for (const char* name : {"leaf_cert.der", "leaf_pkcs1.der", "leaf_pkcs8_enc.der", "ca_sec1.der", "chain.p7b"}) {
    CAPTURE(name);
    const Bytes data = k.bytes(name);
    for (std::size_t n = 0; n < data.size(); ++n) CHECK_FALSE(parse_der(std::span(data.data(), n)).has_value());
    Bytes longer = data;
    longer.push_back(0);
    CHECK_FALSE(parse_der(longer).has_value());
  }
  for (const char* name : {"modern_changeit.p12", "legacy_changeit.p12", "plain.p12"}) {
    CAPTURE(name);
    const Bytes data = k.bytes(name);
    for (std::size_t n = 0; n < data.size(); n += 7)
      CHECK_FALSE(parse_pkcs12(std::span(data.data(), n), set).has_value());
    Bytes longer = data;
    longer.push_back(0);
    CHECK_FALSE(parse_pkcs12(longer, set).has_value());
  }
  for (const char* name : {"leaf.pvk", "leaf_enc.pvk", "dsa.pvk", "dsa_enc.pvk"}) {
    CAPTURE(name);
    const Bytes data = k.bytes(name);
    for (std::size_t n = 0; n < data.size(); ++n) CHECK_FALSE(parse_pvk(std::span(data.data(), n)).has_value());
    Bytes longer = data;
    longer.push_back(0);
    CHECK_FALSE(parse_pvk(longer).has_value());
  }
  for (const char* name : {"leaf.snk", "leaf_pub.snk"}) {
    CAPTURE(name);
    const Bytes data = k.bytes(name);
    for (std::size_t n = 0; n < data.size(); ++n) CHECK_FALSE(parse_snk(std::span(data.data(), n)).has_value());
    Bytes longer = data;
    longer.push_back(0);
    CHECK_FALSE(parse_snk(longer).has_value());
  }
}

TEST_CASE("a plain PVK key is read by OpenSSL and an encrypted one reports RSA its size and RC4") {
  const auto& k = keys();
  const Bytes plain = k.bytes("leaf.pvk");
  CHECK(sniff_binary(plain) == "pvk");
  auto r = parse_pvk(plain);
  REQUIRE(r.has_value());
  CHECK(r->kind == Kind::private_key);
  CHECK(r->format == Format::pvk);
  CHECK(r->rule == "private-key/pvk");
  REQUIRE(r->key.has_value());
  CHECK_FALSE(r->key->encrypted);
  CHECK(r->key->algorithm == "rsa");
  CHECK(r->key->spki_sha256 == k.value("leaf.spki"));
  CHECK(r->identity == k.value("leaf.spki"));

  auto e = parse_pvk(k.bytes("leaf_enc.pvk"));
  REQUIRE(e.has_value());
  REQUIRE(e->key.has_value());
  CHECK(e->key->encrypted);
  CHECK(e->key->algorithm == "rsa");
  CHECK(e->key->bits == 2048u);
  REQUIRE(e->key->protection.has_value());
  CHECK(e->key->protection->cipher == "rc4");
  CHECK(e->key->spki_sha256.empty());
  CHECK(e->identity.rfind("blob:", 0) == 0);
}

TEST_CASE("DSA PVK keys report their algorithm and size in clear and encrypted form") {
  const auto& k = keys();
  auto r = parse_pvk(k.bytes("dsa.pvk"));
  REQUIRE(r.has_value());
  CHECK(r->key->algorithm == "dsa");
  CHECK(r->key->bits == 1024u);
  CHECK(r->key->spki_sha256 == k.value("dsa.spki"));
  auto e = parse_pvk(k.bytes("dsa_enc.pvk"));
  REQUIRE(e.has_value());
  CHECK(e->key->encrypted);
  CHECK(e->key->algorithm == "dsa");
  CHECK(e->key->bits == 1024u);
}

TEST_CASE("SNK private and public blobs are found with the SPKI OpenSSL computes") {
  const auto& k = keys();
  const Bytes priv = k.bytes("leaf.snk");
  CHECK(sniff_binary(priv) == "snk");
  auto r = parse_snk(priv);
  REQUIRE(r.has_value());
  CHECK(r->kind == Kind::private_key);
  CHECK(r->format == Format::snk);
  CHECK(r->rule == "private-key/snk");
  CHECK(r->key->bits == 2048u);
  CHECK(r->key->spki_sha256 == k.value("leaf.spki"));

  const Bytes pub = k.bytes("leaf_pub.snk");
  auto p = parse_snk(pub);
  REQUIRE(p.has_value());
  CHECK(p->kind == Kind::public_key);
  CHECK(p->rule == "public-key/snk");
  CHECK(p->key->spki_sha256 == k.value("leaf.spki"));

  // `sn -p` output: SigAlgID CALG_RSA_SIGN, HashAlgID CALG_SHA1, cbPublicKey, then the blob.
  Bytes sn = {0x00, 0x24, 0x00, 0x00, 0x04, 0x80, 0x00, 0x00};
  for (int s = 0; s < 32; s += 8) sn.push_back(static_cast<std::uint8_t>(pub.size() >> s));
  sn.insert(sn.end(), pub.begin(), pub.end());
  auto q = parse_snk(sn);
  REQUIRE(q.has_value());
  CHECK(q->kind == Kind::public_key);
  CHECK(q->key->spki_sha256 == k.value("leaf.spki"));
}
