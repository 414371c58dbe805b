// SPDX-License-Identifier: Apache-2.0
// Tests of the Bouncy Castle store readers (scanner/src/detectors/binary.hpp: parse_bks,
// parse_uber, parse_bcfks; bks.cpp, bcfks.cpp) against stores that Bouncy Castle itself writes at
// test time: openssl makes a PKCS#12, keytool with bcprov converts it to BKS, UBER and BCFKS.
// keytool cannot make a BKS-V1 store ("BKS-V1 not found"), so a small Java program compiled at
// test time writes one through BC's own BcKeyStoreSpi.Version1; the same program writes a store
// with an unprotected key entry (type 2, which no BC API writes any more), MACs it with BC's own
// PKCS12ParametersGenerator and HMac, and loads it back with BC before saving it. Expected SPKI
// hashes come from openssl, never from the code under test.
#include <doctest/doctest.h>

#include "support/generated_dir.hpp"
#include "support/temp_tree.hpp"

#include "detectors/binary.hpp"
#include "encoding.hpp"

#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace keyward::scanner;
using detail::ByteVec;
using detail::PasswordCandidate;
using detail::PasswordSet;
using keyward::common::SecretBytes;

namespace {

using keyward::test::slurp;

// Arguments: mode (v1 | plainkey), source PKCS#12, password, output file.
constexpr const char* kBksToolJava = R"java(
import java.io.*;
import java.security.*;
import java.security.cert.Certificate;
import org.bouncycastle.crypto.PBEParametersGenerator;
import org.bouncycastle.crypto.digests.SHA1Digest;
import org.bouncycastle.crypto.generators.PKCS12ParametersGenerator;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.jcajce.provider.keystore.bc.BcKeyStoreSpi;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class BksTool {
  public static void main(String[] a) throws Exception {
    char[] pw = a[2].toCharArray();
    Provider bc = new BouncyCastleProvider();
    Security.addProvider(bc);
    KeyStore src = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(a[1])) { src.load(in, pw); }
    String alias = src.aliases().nextElement();
    Key key = src.getKey(alias, pw);
    Certificate[] chain = src.getCertificateChain(alias);
    byte[] out;
    if (a[0].equals("v1")) {
      KeyStore dst = new KeyStore(new BcKeyStoreSpi.Version1(), bc, "BKS-V1") {};
      dst.load(null, null);
      dst.setKeyEntry(alias, key, pw, chain);
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      dst.store(b, pw);
      out = b.toByteArray();
    } else {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      DataOutputStream d = new DataOutputStream(body);
      d.write(2); d.writeUTF(alias); d.writeLong(System.currentTimeMillis()); d.writeInt(chain.length);
      for (Certificate c : chain) { byte[] e = c.getEncoded(); d.writeUTF(c.getType()); d.writeInt(e.length); d.write(e); }
      byte[] k = key.getEncoded();
      d.write(0); d.writeUTF("PKCS#8"); d.writeUTF(key.getAlgorithm()); d.writeInt(k.length); d.write(k);
      d.write(0);
      d.flush();
      byte[] salt = new byte[20];
      new SecureRandom().nextBytes(salt);
      PKCS12ParametersGenerator gen = new PKCS12ParametersGenerator(new SHA1Digest());
      gen.init(PBEParametersGenerator.PKCS12PasswordToBytes(pw), salt, 1500);
      HMac mac = new HMac(new SHA1Digest());
      mac.init(gen.generateDerivedMacParameters(160));
      byte[] b = body.toByteArray();
      mac.update(b, 0, b.length);
      byte[] m = new byte[20];
      mac.doFinal(m, 0);
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      DataOutputStream o = new DataOutputStream(all);
      o.writeInt(2); o.writeInt(20); o.write(salt); o.writeInt(1500); o.write(b); o.write(m);
      o.flush();
      out = all.toByteArray();
    }
    KeyStore check = KeyStore.getInstance("BKS", bc);  // reads versions 0, 1 and 2
    check.load(new ByteArrayInputStream(out), pw);
    // BC hands out an unprotected (type 2) key only to a caller that gives no key password.
    Key back = a[0].equals("v1") ? check.getKey(alias, pw) : check.getKey(alias, null);
    if (back == null || !java.util.Arrays.equals(back.getEncoded(), key.getEncoded()))
      throw new Exception("BC cannot read its key back");
    try (OutputStream f = new FileOutputStream(a[3])) { f.write(out); }
  }
}
)java";

constexpr const char* kBc =
    " -providerpath /usr/share/java/bcprov.jar -providerclass org.bouncycastle.jce.provider.BouncyCastleProvider";

struct Stores : keyward::test::GeneratedDir {
  Stores() { prepare("stores-bks-4"); }

  void convert(const std::string& from, const std::string& pass_from, const std::string& to, const std::string& type,
               const std::string& pass_to) {
    run("keytool -importkeystore -noprompt -srckeystore " + from + " -srcstoretype PKCS12 -srcstorepass " + pass_from +
        " -destkeystore " + to + " -deststoretype " + type + " -deststorepass " + pass_to + kBc);
  }

  void generate() override {
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj /CN=bks-test -days 30");
    run("openssl pkey -in key.pem -pubout -outform DER | sha256sum | cut -c1-64 > key.spki");
    run("openssl pkcs12 -export -inkey key.pem -in cert.pem -name mykey -passout pass:changeit -out weak.p12");
    run("openssl rand -hex 16 > strong.pass");
    run("openssl pkcs12 -export -inkey key.pem -in cert.pem -name mykey -passout pass:$(cat strong.pass) "
        "-out strong.p12");
    const std::string strong = "\"$(cat strong.pass)\"";
    for (const char* type : {"BKS", "UBER", "BCFKS"}) {
      const std::string ext = type == std::string("BKS") ? "bks" : type == std::string("UBER") ? "uber" : "bcfks";
      convert("weak.p12", "changeit", "weak." + ext, type, "changeit");
      convert("strong.p12", strong, "strong." + ext, type, strong);
    }
    convert("weak.p12", "changeit", "weak.jks", "JKS", "changeit");
    // A trust store: one certificate, no key.
    run(std::string("keytool -importcert -noprompt -alias ca -file cert.pem -keystore trust.bks -storetype BKS "
                    "-storepass changeit") +
        kBc);
    std::ofstream(dir / "BksTool.java") << kBksToolJava;
    // BC 1.72 refuses BKS-V1 unless this property enables it.
    run("java -Dorg.bouncycastle.bks.enable_v1=true -cp /usr/share/java/bcprov.jar BksTool.java v1 weak.p12 changeit "
        "v1.bks");
    run("java -cp /usr/share/java/bcprov.jar BksTool.java plainkey weak.p12 changeit plainkey.bks");
  }

  ByteVec bytes(const std::string& name) const {
    const std::string s = slurp(dir / name);
    return ByteVec(s.begin(), s.end());
  }
};

const Stores& stores() {
  static Stores s;
  REQUIRE_MESSAGE(s.failure.empty(), s.failure);
  return s;
}

PasswordSet common(std::initializer_list<const char*> passwords) {
  PasswordSet set;
  for (const char* p : passwords) set.candidates.push_back(PasswordCandidate{SecretBytes::copy_of(p), ""});
  set.max_time = std::chrono::milliseconds(30000);  // generous: sanitizer builds are slow
  return set;
}

const StoreFacts& store_of(const Finding& f) {
  REQUIRE(f.store.has_value());
  return *f.store;
}

bool has(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

const StoreEntry& only_key_entry(const Finding& f) {
  REQUIRE(f.entries.size() == 1);
  REQUIRE(f.entries[0].kind == Kind::private_key);
  REQUIRE(f.entries[0].key.has_value());
  return f.entries[0];
}

}  // namespace

TEST_SUITE("bks") {
  TEST_CASE("a BKS store keytool wrote under changeit opens, and its sealed key decrypts to the openssl key") {
    const auto& s = stores();
    auto r = detail::parse_bks(s.bytes("weak.bks"), common({"secret", "changeit"}));
    REQUIRE(r.has_value());
    CHECK(r->kind == Kind::keystore);
    CHECK(r->format == Format::bks);
    CHECK(r->rule == "keystore/bks");
    const auto& st = store_of(*r);
    CHECK(st.opened);
    CHECK(st.weak_password);
    CHECK_FALSE(st.truststore);
    CHECK(st.mac == "sha1");
    CHECK(st.mac_iterations.value_or(0) >= 1024u);
    CHECK(has(st.weaknesses, "sha1-mac"));
    CHECK(has(st.weaknesses, "3des"));
    CHECK(has(st.weaknesses, "low-iterations"));  // BC writes 1024..2047 rounds
    CHECK_FALSE(has(st.weaknesses, "bks-v1-mac"));
    const auto& e = only_key_entry(*r);
    CHECK(e.alias == "mykey");
    CHECK(e.chain_length == 1u);
    CHECK(e.created > 1'600'000'000);
    CHECK(e.key->encrypted);
    CHECK(e.key->weak_password);
    CHECK(e.key->algorithm == "rsa");
    CHECK(e.key->bits == 2048u);
    CHECK(e.key->spki_sha256 == s.value("key.spki"));
    REQUIRE(e.key->protection.has_value());
    CHECK(e.key->protection->cipher == "des-ede3-cbc");
    CHECK(e.key->protection->kdf == "pkcs12");
    REQUIRE(e.certificate.has_value());
    CHECK(e.certificate->subject == "CN=bks-test");
    CHECK(r->identity == s.value("key.spki"));
  }

  TEST_CASE("a BKS-V1 store (BcKeyStoreSpi.Version1) opens through its 16-bit MAC key and is graded for it") {
    const auto& s = stores();
    const ByteVec data = s.bytes("v1.bks");
    REQUIRE(data.size() > 4);
    CHECK(data[3] == 1);  // BC wrote version 1
    auto r = detail::parse_bks(data, common({"changeit"}));
    REQUIRE(r.has_value());
    CHECK(store_of(*r).opened);
    CHECK(has(store_of(*r).weaknesses, "bks-v1-mac"));
    CHECK(only_key_entry(*r).key->spki_sha256 == s.value("key.spki"));
    CHECK(only_key_entry(*r).key->weak_password);
    // The v2 derivation (a 20-byte MAC key) must not verify a v1 store: rewrite the version.
    ByteVec as_v2 = data;
    as_v2[3] = 2;
    auto wrong = detail::parse_bks(as_v2, common({"changeit"}));
    REQUIRE(wrong.has_value());
    CHECK_FALSE(has(store_of(*wrong).weaknesses, "bks-v1-mac"));
    // The sealed key still decrypts with the password (its cipher does not depend on the version).
    CHECK(only_key_entry(*wrong).key->weak_password);
  }

  TEST_CASE("a BKS store under a strong password lists its key entry from the chain but does not open") {
    const auto& s = stores();
    auto r = detail::parse_bks(s.bytes("strong.bks"), common({"", "changeit", "secret"}));
    REQUIRE(r.has_value());
    const auto& st = store_of(*r);
    CHECK_FALSE(st.opened);
    CHECK_FALSE(st.weak_password);
    CHECK_FALSE(st.truststore);
    const auto& e = only_key_entry(*r);
    CHECK(e.key->encrypted);
    CHECK_FALSE(e.key->weak_password);
    CHECK(e.key->spki_sha256 == s.value("key.spki"));  // from its certificate: pairing works
  }

  TEST_CASE("an unprotected BKS key entry (type 2) is an unencrypted private key in the store") {
    const auto& s = stores();
    auto r = detail::parse_bks(s.bytes("plainkey.bks"), PasswordSet{});
    REQUIRE(r.has_value());
    const auto& e = only_key_entry(*r);
    CHECK_FALSE(e.key->encrypted);
    CHECK(e.key->algorithm == "rsa");
    CHECK(e.key->spki_sha256 == s.value("key.spki"));
    CHECK(has(store_of(*r).weaknesses, "unencrypted-key"));
    CHECK(r->holds_private_key());
  }

  TEST_CASE("a BKS trust store (certificates only) opens and is a trust store") {
    const auto& s = stores();
    auto r = detail::parse_bks(s.bytes("trust.bks"), common({"changeit"}));
    REQUIRE(r.has_value());
    CHECK(store_of(*r).opened);
    CHECK(store_of(*r).truststore);
    REQUIRE(r->entries.size() == 1);
    CHECK(r->entries[0].kind == Kind::certificate);
    CHECK(r->entries[0].certificate->subject == "CN=bks-test");
    CHECK_FALSE(has(store_of(*r).weaknesses, "3des"));
  }

  TEST_CASE("an UBER store is reported from its header: Twofish, not opened, contents unknown, not a trust store") {
    const auto& s = stores();
    for (const char* name : {"weak.uber", "strong.uber"}) {
      CAPTURE(name);
      auto r = detail::parse_uber(s.bytes(name));
      REQUIRE(r.has_value());
      CHECK(r->format == Format::uber);
      CHECK(r->rule == "keystore/uber");
      const auto& st = store_of(*r);
      CHECK_FALSE(st.opened);
      CHECK_FALSE(st.truststore);
      CHECK(has(st.contents, "encrypted"));
      REQUIRE(st.encryption.size() == 1);
      CHECK(st.encryption[0].cipher == "twofish-cbc");
      CHECK(st.encryption[0].kdf == "pkcs12");
      CHECK(st.encryption[0].kdf_iterations.value_or(0) >= 1024u);
      CHECK(r->entries.empty());
    }
  }

  TEST_CASE("a BCFKS store: PBKDF2 + AES-CCM graded, its HMAC-SHA512 opened by changeit, never by a wrong one") {
    const auto& s = stores();
    auto weak = detail::parse_bcfks(s.bytes("weak.bcfks"), common({"secret", "changeit"}));
    REQUIRE(weak.has_value());
    CHECK(weak->format == Format::bcfks);
    CHECK(weak->rule == "keystore/bcfks");
    CHECK(store_of(*weak).opened);
    CHECK(store_of(*weak).weak_password);
    CHECK_FALSE(store_of(*weak).truststore);
    CHECK(store_of(*weak).mac == "sha512");
    REQUIRE(store_of(*weak).encryption.size() == 1);
    CHECK(store_of(*weak).encryption[0].cipher == "aes-256-ccm");
    CHECK(store_of(*weak).encryption[0].kdf == "pbkdf2");
    CHECK(store_of(*weak).encryption[0].kdf_iterations.value_or(0) >= 10000u);
    CHECK_FALSE(has(store_of(*weak).weaknesses, "low-iterations"));
    auto strong = detail::parse_bcfks(s.bytes("strong.bcfks"), common({"", "changeit"}));
    REQUIRE(strong.has_value());
    CHECK_FALSE(store_of(*strong).opened);
    CHECK_FALSE(store_of(*strong).truststore);
    CHECK(has(store_of(*strong).contents, "encrypted"));
  }

  TEST_CASE("the binary sniff names each Bouncy Castle store, and nothing else as one") {
    const auto& s = stores();
    for (const char* name : {"weak.bks", "strong.bks", "v1.bks", "plainkey.bks", "trust.bks"})
      CHECK(detail::sniff_binary(s.bytes(name)) == "bks");
    CHECK(detail::sniff_binary(s.bytes("weak.uber")) == "uber");
    CHECK(detail::sniff_binary(s.bytes("weak.bcfks")) == "bcfks");
    CHECK(detail::sniff_binary(s.bytes("weak.p12")) == "pkcs12");
    CHECK(detail::sniff_binary(s.bytes("weak.jks")) == "jks");
    std::mt19937 rng(15);
    for (int i = 0; i < 2000; ++i) {
      ByteVec random(64 + rng() % 4096);
      for (auto& b : random) b = static_cast<std::uint8_t>(rng());
      const auto name = detail::sniff_binary(random);
      CHECK((name != "bks" && name != "uber" && name != "bcfks"));
    }
    for (const char* path : {"/bin/ls", "/bin/sh", "/usr/bin/openssl", "/usr/bin/java", "/usr/share/java/bcprov.jar"}) {
      if (!fs::exists(path)) continue;
      const std::string bin = slurp(fs::canonical(path));
      const auto name = detail::sniff_binary(ByteVec(bin.begin(), bin.end()));
      CAPTURE(path);
      CHECK((name != "bks" && name != "uber" && name != "bcfks"));
    }
  }

  TEST_CASE("every truncation of a BKS, UBER or BCFKS store fails cleanly") {
    const auto& s = stores();
    for (const char* name : {"weak.bks", "trust.bks", "plainkey.bks"}) {
      const ByteVec data = s.bytes(name);
      for (std::size_t cut = 0; cut < data.size(); ++cut)
        if (detail::parse_bks(std::span(data.data(), cut), PasswordSet{}).has_value())
          FAIL_CHECK(name << ": a prefix of " << cut << " bytes parsed");
    }
    const ByteVec bcfks = s.bytes("weak.bcfks");
    for (std::size_t cut = 0; cut < bcfks.size(); ++cut)
      if (detail::parse_bcfks(std::span(bcfks.data(), cut), PasswordSet{}).has_value())
        FAIL_CHECK("bcfks: a prefix of " << cut << " bytes parsed");
    const ByteVec uber = s.bytes("weak.uber");
    for (std::size_t cut = 0; cut < uber.size(); ++cut)
      if (cut % 16 != uber.size() % 16 && detail::parse_uber(std::span(uber.data(), cut)).has_value())
        FAIL_CHECK("uber: a prefix of " << cut << " bytes parsed");
  }

  TEST_CASE("altered BKS and BCFKS bytes never crash and never open the store by a MAC that no longer matches") {
    const auto& s = stores();
    const ByteVec bks = s.bytes("weak.bks");
    for (std::size_t at = 32; at < bks.size() - 20; at += 7) {
      ByteVec data = bks;
      data[at] ^= 0x5a;
      auto r = detail::parse_bks(data, common({"changeit"}));
      if (!r) continue;
      CHECK(r->entries.size() <= 1);
      // Only the sealed key may still decrypt; the MAC over the altered body fails.
      if (store_of(*r).opened) CHECK((r->entries.size() == 1 && r->entries[0].key && r->entries[0].key->weak_password));
    }
    const ByteVec bcfks = s.bytes("weak.bcfks");
    for (std::size_t at = 0; at < bcfks.size(); at += 97) {
      ByteVec data = bcfks;
      data[at] ^= 0x5a;
      auto r = detail::parse_bcfks(data, common({"changeit"}));
      if (r) CHECK_FALSE(store_of(*r).opened);
    }
  }
}

TEST_SUITE("bks-scan") {
  // A scan of a tree (nearby passwords, rejected counts, JSON output), then the rules' scores.
  struct Scanned {
    ScanResult result;
    const Finding* at(std::string_view suffix) const {
      for (const auto& f : result.findings)
        if (f.location.path.ends_with(suffix)) return &f;
      return nullptr;
    }
  };

  Scanned scan_tree(const keyward::test::TempTree& tree) {
    ScanOptions o;
    o.roots = {tree.path()};
    o.threads = 1;
    o.password_max_time = std::chrono::milliseconds(30000);
    o.passwords = keyward::common::SecretList{"secret", "changeit"};
    Scanned s{scan(o)};
    keyward::rules::ScoreContext ctx;
    ctx.package_db_dir.clear();
    keyward::rules::score(s.result, keyward::rules::RuleSet::builtin(), ctx);
    return s;
  }

  TEST_CASE("a scan finds each store, takes a nearby password, counts a garbled store and leaks nothing") {
    const auto& s = stores();
    keyward::test::TempTree tree;
    tree.write("app/release.bks", s.text("strong.bks"));
    tree.write("app/gradle.properties", "storePassword=" + s.value("strong.pass") + "\n");
    tree.write("ks/strong.uber", s.text("strong.uber"));
    tree.write("ks/strong.bcfks", s.text("strong.bcfks"));
    const std::string weak = s.text("weak.bks");
    tree.write("ks/garbled.bks", weak.substr(0, weak.size() - 40));
    const Scanned scanned = scan_tree(tree);
    const Finding* release = scanned.at("app/release.bks");
    REQUIRE(release != nullptr);
    CHECK(release->format == Format::bks);
    CHECK(release->store->opened);
    CHECK(release->store->password_exposed_in.ends_with("app/gradle.properties"));
    CHECK(release->entries.at(0).key->password_exposed_in.ends_with("app/gradle.properties"));
    CHECK(scanned.at("ks/strong.uber")->format == Format::uber);
    CHECK(scanned.at("ks/strong.bcfks")->format == Format::bcfks);
    CHECK(scanned.at("ks/garbled.bks") == nullptr);
    CHECK(scanned.result.stats.rejected.at("bks") == 1u);
    const std::string json = to_json(scanned.result).dump();
    CHECK(json.find(s.value("strong.pass")) == std::string::npos);
    CHECK(json.find("changeit") == std::string::npos);
    CHECK(json.find("\"bks\"") != std::string::npos);
    CHECK(json.find("\"uber\"") != std::string::npos);
    CHECK(json.find("\"bcfks\"") != std::string::npos);
  }

  TEST_CASE("scores: an opened BKS ranks with an opened JKS, unopened UBER/BCFKS with an unopened PKCS#12") {
    const auto& s = stores();
    // Two scans: the stores of one scan hold the same key, and a key in several files scores
    // duplicated-key; opened and unopened stores are compared within their own scan.
    keyward::test::TempTree opened, closed;
    for (const char* name : {"weak.bks", "weak.jks", "trust.bks"})
      opened.write(std::string("srv/") + name, s.text(name));
    for (const char* name : {"strong.uber", "strong.bcfks", "strong.p12"})
      closed.write(std::string("srv/") + name, s.text(name));
    const Scanned a = scan_tree(opened), b = scan_tree(closed);
    auto risk = [](const Scanned& scanned, const char* name) {
      const Finding* f = scanned.at(name);
      REQUIRE_MESSAGE(f != nullptr, name);
      REQUIRE(f->risk.has_value());
      return *f->risk;
    };
    const auto bks = risk(a, "weak.bks"), jks = risk(a, "weak.jks");
    CHECK(bks.severity == jks.severity);
    CHECK((bks.severity == "high" || bks.severity == "critical"));
    CHECK(bks.score >= jks.score);
    const auto p12 = risk(b, "strong.p12");
    CHECK((p12.severity == "medium" || p12.severity == "high"));  // world-readable in /tmp
    for (const char* name : {"strong.uber", "strong.bcfks"}) {
      CAPTURE(name);
      const auto r = risk(b, name);
      CHECK(r.severity == p12.severity);
      CHECK(r.score >= p12.score);  // may hold a key, like the unopened PKCS#12; UBER adds low-iterations
      CHECK(r.score <= p12.score + 10);
      CHECK(r.score < bks.score);
    }
    CHECK(risk(a, "trust.bks").score < p12.score);
    CHECK(risk(a, "trust.bks").severity == "info");
  }
}
