// SPDX-License-Identifier: Apache-2.0
// Tests of the Java keystore and GnuPG key-file parsers (scanner/src/detectors/binary.hpp:
// parse_jks, parse_gpg_key_file) against stores keytool writes and key files gpg-agent writes at
// test time, once per run (a shared temp dir). Expected SPKI hashes come from
// `keytool -exportcert` + `openssl x509 -pubkey` and from gpg's SSH export, never from the code
// under test; the JCEKS equal-salt-halves case is sealed by Java's own cipher.
#include <doctest/doctest.h>

#include "support/generated_dir.hpp"

#include "detectors/binary.hpp"
#include "encoding.hpp"

#include <keyward/scanner/finding_json.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace keyward::scanner;
using detail::ByteVec;
using detail::PasswordCandidate;
using detail::PasswordSet;
using keyward::common::SecretBytes;

namespace {

using keyward::test::shell_quote;
using keyward::test::slurp;

// Writes a JCEKS store by hand around a key that Java's own PBEWithMD5AndTripleDES sealed under a
// salt whose halves are equal (Java would pick such a salt once in 2^32 stores).
// Arguments: source JKS, alias, password, output file.
constexpr const char* kQuirkJava = R"java(
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.security.*;
import java.security.cert.Certificate;
import javax.crypto.*;
import javax.crypto.spec.*;

public class Quirk {
  static byte[] cat(byte[] x, byte[] y) {
    byte[] r = new byte[x.length + y.length];
    System.arraycopy(x, 0, r, 0, x.length);
    System.arraycopy(y, 0, r, x.length, y.length);
    return r;
  }
  static byte[] tlv(int tag, byte[] v) {
    byte[] h = v.length < 128 ? new byte[] {(byte) tag, (byte) v.length}
        : v.length < 256 ? new byte[] {(byte) tag, (byte) 0x81, (byte) v.length}
        : new byte[] {(byte) tag, (byte) 0x82, (byte) (v.length >> 8), (byte) v.length};
    return cat(h, v);
  }
  public static void main(String[] a) throws Exception {
    char[] pw = a[2].toCharArray();
    KeyStore src = KeyStore.getInstance("JKS");
    try (InputStream in = new FileInputStream(a[0])) { src.load(in, pw); }
    Key key = src.getKey(a[1], pw);
    Certificate cert = src.getCertificate(a[1]);
    byte[] salt = {1, 2, 3, 4, 1, 2, 3, 4};
    PBEParameterSpec spec = new PBEParameterSpec(salt, 1000);
    SecretKey pbe = SecretKeyFactory.getInstance("PBEWithMD5AndTripleDES").generateSecret(new PBEKeySpec(pw));
    Cipher c = Cipher.getInstance("PBEWithMD5AndTripleDES");
    c.init(Cipher.ENCRYPT_MODE, pbe, spec);
    byte[] sealed = c.doFinal(key.getEncoded());
    // The salt as given: the cipher's own parameters hold it after Java's inversion.
    AlgorithmParameters params = AlgorithmParameters.getInstance("PBEWithMD5AndTripleDES");
    params.init(spec);
    byte[] oid = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x13, 0x01};
    byte[] epki = tlv(0x30, cat(tlv(0x30, cat(oid, params.getEncoded())), tlv(0x04, sealed)));
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(buf);
    out.writeInt(0xCECECECE); out.writeInt(2); out.writeInt(1);
    out.writeInt(1); out.writeUTF("quirk"); out.writeLong(System.currentTimeMillis());
    out.writeInt(epki.length); out.write(epki);
    byte[] der = cert.getEncoded();
    out.writeInt(1); out.writeUTF("X.509"); out.writeInt(der.length); out.write(der);
    out.flush();
    MessageDigest md = MessageDigest.getInstance("SHA-1");
    md.update(new String(pw).getBytes(StandardCharsets.UTF_16BE));
    md.update("Mighty Aphrodite".getBytes(StandardCharsets.UTF_8));
    md.update(buf.toByteArray());
    out.write(md.digest());
    try (OutputStream f = new FileOutputStream(a[3])) { f.write(buf.toByteArray()); }
  }
}
)java";

// Stores and key files generated once per test run; every expected value is computed by the
// tools themselves into "<name>.spki" / "<name>.sha256" files.
struct Stores : keyward::test::GeneratedDir {
  Stores() { prepare("stores-jks-1"); }
  ~Stores() override {
    if (!shared) cleanup();
  }

  void cleanup() override {  // stop the gpg-agent that gpg started for this folder
    if (dir.empty()) return;
    std::system(
        ("gpgconf --homedir " + shell_quote((dir / "gnupg").string()) + " --kill gpg-agent >/dev/null 2>&1").c_str());
  }

  void generate() override {
    // JKS: an RSA and an EC key entry and a trusted certificate, under the common "changeit".
    const std::string jks =
        "keytool -noprompt -storetype JKS -keystore weak.jks -storepass changeit -keypass changeit ";
    run(jks + "-genkeypair -alias rsakey -keyalg RSA -keysize 2048 -dname CN=rsa -validity 365");
    run(jks + "-genkeypair -alias eckey -keyalg EC -groupname secp256r1 -dname CN=ec -validity 365");
    run("keytool -exportcert -rfc -keystore weak.jks -storepass changeit -alias rsakey -file rsakey.pem");
    run("keytool -exportcert -rfc -keystore weak.jks -storepass changeit -alias eckey -file eckey.pem");
    run(jks + "-importcert -alias trusted -file rsakey.pem");
    for (const char* c : {"rsakey", "eckey"}) {
      run(std::string("openssl x509 -in ") + c +
          ".pem -pubkey -noout | openssl pkey -pubin -outform DER | "
          "sha256sum | cut -c1-64 > " +
          c + ".spki");
      run(std::string("openssl x509 -in ") + c + ".pem -outform DER | sha256sum | cut -c1-64 > " + c + ".sha256");
    }
    // A strong random store password; the key under a different password.
    run("openssl rand -hex 16 > strong.pass");
    run("keytool -importkeystore -noprompt -srckeystore weak.jks -srcstoretype JKS -srcstorepass changeit "
        "-srcalias eckey -srckeypass changeit -destkeystore strong.jks -deststoretype JKS "
        "-deststorepass \"$(cat strong.pass)\" -destkeypass key-pass-1");
    // A truststore: certificates only.
    run("keytool -noprompt -storetype JKS -keystore trust.jks -storepass changeit -importcert -alias one -file "
        "rsakey.pem");
    run("keytool -noprompt -storetype JKS -keystore trust.jks -storepass changeit -importcert -alias two -file "
        "eckey.pem");
    // JCEKS: the RSA key, two secret keys and a trusted certificate.
    run("keytool -importkeystore -noprompt -srckeystore weak.jks -srcstoretype JKS -srcstorepass changeit "
        "-srcalias rsakey -srckeypass changeit -destkeystore weak.jceks -deststoretype JCEKS "
        "-deststorepass changeit -destkeypass changeit");
    const std::string jceks =
        "keytool -noprompt -storetype JCEKS -keystore weak.jceks -storepass changeit -keypass changeit ";
    run(jceks + "-genseckey -alias secret1 -keyalg AES -keysize 128");
    run(jceks + "-genseckey -alias secret2 -keyalg HmacSHA256 -keysize 256");
    run(jceks + "-importcert -alias trusted -file eckey.pem");
    // Java's PBEWithMD5AndTripleDES on a salt with equal halves.
    std::ofstream(dir / "Quirk.java") << kQuirkJava;
    run("java Quirk.java weak.jks rsakey changeit quirk.jceks");

    // GnuPG key files (extended format, as gpg 2.2+ writes them) and their SPKI via SSH export.
    run("mkdir -m 700 gnupg");
    const std::string gpg = "gpg --homedir gnupg --batch --quiet --pinentry-mode loopback ";
    run(gpg + "--passphrase '' --quick-gen-key 'RSA Tester <rsa@example.org>' rsa2048");
    run(gpg + "--passphrase 'secret pass' --quick-gen-key 'Ed Tester <ed@example.org>' ed25519");
    run(gpg + "--passphrase '' --quick-gen-key 'EC Tester <ec@example.org>' nistp256");
    for (const char* k : {"rsa", "ed", "ec"}) {
      const std::string who = std::string(k) + "@example.org";
      run(gpg + "--with-colons --with-keygrip -K " + who + " | awk -F: '/^grp/{print $10; exit}' > " + k + ".grip");
      run(gpg + "--with-colons -K " + who + " | awk -F: '/^fpr/{print $10; exit}' > " + k + ".fpr");
      run(std::string("cp gnupg/private-keys-v1.d/$(cat ") + k + ".grip).key " + k + ".key");
      run(gpg + "--export-ssh-key \"$(cat " + k + ".fpr)!\" > " + k + "_ssh.pub");
    }
    for (const char* k : {"rsa", "ec"})
      run(std::string("ssh-keygen -e -m PKCS8 -f ") + k +
          "_ssh.pub | openssl pkey -pubin -outform DER | "
          "sha256sum | cut -c1-64 > " +
          k + ".spki");
    // Ed25519 SPKI (RFC 8410): a fixed DER prefix, in octal for dash's printf, and the raw key.
    run("awk '{print $2}' ed_ssh.pub | base64 -d | tail -c 32 > ed.raw && "
        "(printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'; cat ed.raw) | "
        "openssl pkey -pubin -inform DER -outform DER | sha256sum | cut -c1-64 > ed.spki");
    // The canonical S-expression form (gpg-agent before 2.2.x), unprotected and protected with
    // openpgp-s2k3-sha1-aes-cbc, via gpg-protect-tool from the Key: value.
    run("awk '/^Key:/{sub(/^Key: /, \"\"); k=1; print; next} k && /^[ \\t]/{print; next} {k=0}' rsa.key > rsa.sexp");
    run("\"$(gpgconf --list-dirs libexecdir)/gpg-protect-tool\" --canonical rsa.sexp > rsa.canon");
    run("\"$(gpgconf --list-dirs libexecdir)/gpg-protect-tool\" --canonical --protect -P 'other pass' rsa.canon > "
        "rsa_prot.canon");
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

ByteVec bytes(std::string_view s) { return ByteVec(s.begin(), s.end()); }

PasswordSet common(std::initializer_list<const char*> passwords) {
  PasswordSet set;
  for (const char* p : passwords) set.candidates.push_back(PasswordCandidate{SecretBytes::copy_of(p), ""});
  set.max_time = std::chrono::milliseconds(30000);  // generous: sanitizer builds are slow
  return set;
}

const StoreEntry& entry(const Finding& f, std::string_view alias) {
  for (const auto& e : f.entries)
    if (e.alias == alias) return e;
  FAIL("no entry " << alias);
  return f.entries.front();
}

const StoreFacts& store_of(const Finding& f) {
  REQUIRE(f.store.has_value());
  return *f.store;
}

bool has(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A key entry whose key a password decrypted carries that password's provenance.
bool decrypted(const StoreEntry& e) { return e.key && (e.key->weak_password || !e.key->password_exposed_in.empty()); }

// Writes Java's DataOutputStream forms for hand-built stores.
struct JavaOut {
  ByteVec out;
  JavaOut& u32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
    return *this;
  }
  JavaOut& utf(std::string_view s) {
    out.push_back(static_cast<std::uint8_t>(s.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
    return *this;
  }
  JavaOut& raw(std::span<const std::uint8_t> b) {
    out.insert(out.end(), b.begin(), b.end());
    return *this;
  }
};

}  // namespace

TEST_SUITE("jks") {
  TEST_CASE("JKS store lists every entry with alias, kind, chain length and leaf key facts without a password") {
    const auto& s = stores();
    auto r = detail::parse_jks(s.bytes("weak.jks"), PasswordSet{});
    REQUIRE(r.has_value());
    CHECK(r->kind == Kind::keystore);
    CHECK(r->format == Format::jks);
    CHECK(r->rule == "keystore/jks");
    CHECK_FALSE(r->key.has_value());
    REQUIRE(r->entries.size() == 3);
    const auto& rsa = entry(*r, "rsakey");
    CHECK(rsa.kind == Kind::private_key);
    CHECK(rsa.chain_length == 1u);
    CHECK(rsa.created > 1'600'000'000);
    REQUIRE(rsa.key.has_value());
    CHECK(rsa.key->algorithm == "rsa");
    CHECK(rsa.key->bits == 2048u);
    CHECK(rsa.key->encrypted);
    CHECK(rsa.key->spki_sha256 == s.value("rsakey.spki"));
    CHECK_FALSE(decrypted(rsa));
    REQUIRE(rsa.certificate.has_value());
    CHECK(rsa.certificate->sha256 == s.value("rsakey.sha256"));
    CHECK(rsa.certificate->subject == "CN=rsa");
    const auto& ec = entry(*r, "eckey");
    CHECK(ec.kind == Kind::private_key);
    REQUIRE(ec.key.has_value());
    CHECK(ec.key->algorithm == "ec");
    CHECK(ec.key->curve == "P-256");
    CHECK(ec.key->spki_sha256 == s.value("eckey.spki"));
    const auto& trusted = entry(*r, "trusted");
    CHECK(trusted.kind == Kind::certificate);
    CHECK_FALSE(trusted.key.has_value());
    REQUIRE(trusted.certificate.has_value());
    CHECK(trusted.certificate->spki_sha256 == s.value("rsakey.spki"));

    const auto& st = store_of(*r);
    CHECK_FALSE(st.opened);
    CHECK_FALSE(st.weak_password);
    CHECK_FALSE(st.truststore);
    CHECK(st.certificates == 3u);  // each key entry's one-certificate chain and the trusted one
    CHECK(has(st.weaknesses, "jks-key-protection"));
    CHECK(has(st.weaknesses, "sha1-integrity"));
    CHECK(r->holds_private_key());
    std::vector<std::string> spkis{s.value("rsakey.spki"), s.value("eckey.spki")};
    std::sort(spkis.begin(), spkis.end());
    CHECK(r->identity == spkis[0] + "," + spkis[1]);
  }

  TEST_CASE("a common password opens a JKS store, marks it weak and decrypts every key to its certificate's SPKI") {
    const auto& s = stores();
    auto r = detail::parse_jks(s.bytes("weak.jks"), common({"password", "changeit"}));
    REQUIRE(r.has_value());
    const auto& st = store_of(*r);
    CHECK(st.opened);
    CHECK(st.weak_password);
    CHECK(st.password_exposed_in.empty());
    for (const char* alias : {"rsakey", "eckey"}) {
      const auto& e = entry(*r, alias);
      CHECK(decrypted(e));
      CHECK(e.key->weak_password);
      CHECK(e.key->spki_sha256 == s.value(std::string(alias) + ".spki"));
    }
    CHECK(entry(*r, "rsakey").key->bits == 2048u);
    CHECK(entry(*r, "eckey").key->curve == "P-256");
  }

  TEST_CASE("only wrong passwords leave a JKS store unopened and its keys undecrypted") {
    const auto& s = stores();
    auto r = detail::parse_jks(s.bytes("weak.jks"), common({"", "password", "changeme", "Changeit"}));
    REQUIRE(r.has_value());
    CHECK_FALSE(store_of(*r).opened);
    CHECK_FALSE(store_of(*r).weak_password);
    for (const auto& e : r->entries) CHECK_FALSE(decrypted(e));
    CHECK(r->entries.size() == 3);
  }

  TEST_CASE("a password from a nearby file opens a strong JKS store and is reported by path, never by value") {
    const auto& s = stores();
    const std::string strong = s.value("strong.pass");
    REQUIRE(strong.size() == 32);
    PasswordSet set = common({"changeit"});
    set.candidates.push_back(PasswordCandidate{SecretBytes::copy_of(strong), "/srv/app/application.properties"});
    auto r = detail::parse_jks(s.bytes("strong.jks"), set);
    REQUIRE(r.has_value());
    const auto& st = store_of(*r);
    CHECK(st.opened);
    CHECK_FALSE(st.weak_password);
    CHECK(st.password_exposed_in == "/srv/app/application.properties");
    // The key has its own password, which no candidate is.
    REQUIRE(r->entries.size() == 1);
    CHECK_FALSE(decrypted(r->entries[0]));
    CHECK(r->entries[0].key->spki_sha256 == s.value("eckey.spki"));
    const std::string json = to_json(*r).dump();
    CHECK(json.find(strong) == std::string::npos);
    CHECK(json.find("changeit") == std::string::npos);
  }

  TEST_CASE("a key password that differs from the store password decrypts its key and opens the store") {
    const auto& s = stores();
    PasswordSet set;
    set.candidates.push_back(PasswordCandidate{SecretBytes::copy_of("key-pass-1"), "/etc/app/keystore.conf"});
    auto r = detail::parse_jks(s.bytes("strong.jks"), set);
    REQUIRE(r.has_value());
    CHECK(store_of(*r).opened);
    CHECK(store_of(*r).password_exposed_in == "/etc/app/keystore.conf");
    REQUIRE(r->entries.size() == 1);
    const auto& e = r->entries[0];
    CHECK(decrypted(e));
    CHECK(e.key->password_exposed_in == "/etc/app/keystore.conf");
    CHECK_FALSE(e.key->weak_password);
    CHECK(e.key->spki_sha256 == s.value("eckey.spki"));
    CHECK(to_json(*r).dump().find("key-pass-1") == std::string::npos);
  }

  TEST_CASE("the password budget stops trying before the right password") {
    const auto& s = stores();
    {
      PasswordSet set = common({"wrong", "changeit"});
      set.max_tries = 1;
      auto r = detail::parse_jks(s.bytes("weak.jks"), set);
      REQUIRE(r.has_value());
      CHECK_FALSE(store_of(*r).opened);
      for (const auto& e : r->entries) CHECK_FALSE(decrypted(e));
    }
    {
      PasswordSet set = common({"changeit"});
      set.max_time = std::chrono::milliseconds(0);
      auto r = detail::parse_jks(s.bytes("weak.jks"), set);
      REQUIRE(r.has_value());
      CHECK_FALSE(store_of(*r).opened);
      CHECK(r->entries.size() == 3);
    }
    {
      PasswordSet set = common({"changeit", "wrong"});
      set.max_tries = 1;  // the right one first: the store opens and its keys decrypt
      auto r = detail::parse_jks(s.bytes("weak.jks"), set);
      REQUIRE(r.has_value());
      CHECK(store_of(*r).opened);
      CHECK(decrypted(entry(*r, "rsakey")));
    }
  }

  TEST_CASE("a JKS store of trusted certificates only is a truststore identified by its bytes") {
    const auto& s = stores();
    const ByteVec data = s.bytes("trust.jks");
    auto r = detail::parse_jks(data, common({"changeit"}));
    REQUIRE(r.has_value());
    CHECK(store_of(*r).truststore);
    CHECK(store_of(*r).opened);
    CHECK_FALSE(r->holds_private_key());
    REQUIRE(r->entries.size() == 2);
    CHECK(entry(*r, "one").certificate->spki_sha256 == s.value("rsakey.spki"));
    CHECK(entry(*r, "two").certificate->spki_sha256 == s.value("eckey.spki"));
    CHECK_FALSE(has(store_of(*r).weaknesses, "jks-key-protection"));
    CHECK(r->identity.rfind("blob:", 0) == 0);
    CHECK(r->identity.size() == 5 + 64);
  }

  TEST_CASE("JCEKS store lists its key, secret-key and trusted entries and the PBE iteration count") {
    const auto& s = stores();
    auto r = detail::parse_jks(s.bytes("weak.jceks"), PasswordSet{});
    REQUIRE(r.has_value());
    CHECK(r->format == Format::jceks);
    CHECK(r->rule == "keystore/jceks");
    REQUIRE(r->entries.size() == 4);
    const auto& rsa = entry(*r, "rsakey");
    CHECK(rsa.kind == Kind::private_key);
    CHECK(rsa.chain_length == 1u);
    CHECK(rsa.key->spki_sha256 == s.value("rsakey.spki"));
    REQUIRE(rsa.key->protection.has_value());
    CHECK(rsa.key->protection->cipher == "des-ede3-cbc");
    CHECK(rsa.key->protection->kdf_iterations.value_or(0) >= 1000u);
    for (const char* alias : {"secret1", "secret2"}) {
      const auto& e = entry(*r, alias);
      CHECK(e.kind == Kind::private_key);
      CHECK(e.key->algorithm == "secret");
      CHECK_FALSE(e.certificate.has_value());
    }
    CHECK(entry(*r, "trusted").certificate->spki_sha256 == s.value("eckey.spki"));
    const auto& st = store_of(*r);
    CHECK(has(st.weaknesses, "pbe-md5-3des"));
    CHECK(has(st.contents, "secret-key"));
    CHECK_FALSE(st.truststore);
    CHECK(r->identity == s.value("rsakey.spki"));
  }

  TEST_CASE("a common password opens a JCEKS store and decrypts its key with PBEWithMD5AndTripleDES") {
    const auto& s = stores();
    auto r = detail::parse_jks(s.bytes("weak.jceks"), common({"secret", "changeit"}));
    REQUIRE(r.has_value());
    CHECK(store_of(*r).opened);
    CHECK(store_of(*r).weak_password);
    const auto& rsa = entry(*r, "rsakey");
    CHECK(decrypted(rsa));
    CHECK(rsa.key->algorithm == "rsa");
    CHECK(rsa.key->spki_sha256 == s.value("rsakey.spki"));
    CHECK(r->entries.size() == 4);
  }

  TEST_CASE("a JCEKS key that Java sealed under a salt with equal halves decrypts") {
    const auto& s = stores();
    auto r = detail::parse_jks(s.bytes("quirk.jceks"), common({"changeit"}));
    REQUIRE(r.has_value());
    CHECK(store_of(*r).opened);
    REQUIRE(r->entries.size() == 1);
    CHECK(decrypted(r->entries[0]));
    CHECK(r->entries[0].key->spki_sha256 == s.value("rsakey.spki"));
    CHECK(r->entries[0].key->protection->kdf_iterations == 1000u);
  }

  TEST_CASE("every truncation of a JKS or JCEKS store fails cleanly") {
    const auto& s = stores();
    for (const char* name : {"weak.jks", "weak.jceks", "trust.jks"}) {
      const ByteVec data = s.bytes(name);
      for (std::size_t cut = 0; cut < data.size(); ++cut) {
        auto r = detail::parse_jks(std::span(data.data(), cut), PasswordSet{});
        if (r.has_value()) FAIL_CHECK(name << ": a prefix of " << cut << " bytes parsed");
      }
    }
  }

  TEST_CASE("altered JKS and JCEKS bytes never crash and never open the store by its digest") {
    const auto& s = stores();
    for (const char* name : {"weak.jks", "weak.jceks"}) {
      const ByteVec original = s.bytes(name);
      for (std::size_t at = 0; at < original.size(); at += 5) {
        ByteVec data = original;
        data[at] ^= 0x5a;
        // JKS keys are cheap to try; JCEKS keys take 200,000 MD5 rounds a try, so none there.
        const PasswordSet set = std::string_view(name).ends_with(".jks") ? common({"changeit"}) : PasswordSet{};
        auto r = detail::parse_jks(data, set);
        if (!r) continue;
        CHECK(r->entries.size() <= 4);
        // Only a key that still decrypts may open it: the integrity digest no longer matches.
        if (store_of(*r).opened) CHECK(std::any_of(r->entries.begin(), r->entries.end(), decrypted));
      }
    }
  }

  TEST_CASE("bad magic, unknown versions, oversized counts and unknown tags are rejected") {
    const ByteVec digest(20, 0);
    CHECK(detail::parse_jks(ByteVec{}, PasswordSet{}).error() == make_error_code(Errc::truncated));
    CHECK(detail::parse_jks(bytes("\xFE\xED\xFE"), PasswordSet{}).error() == make_error_code(Errc::truncated));
    CHECK(detail::parse_jks(JavaOut().u32(0xFEEDFEEF).u32(2).u32(0).raw(digest).out, PasswordSet{}).error() ==
          make_error_code(Errc::bad_magic));
    CHECK(detail::parse_jks(JavaOut().u32(0xFEEDFEED).u32(3).u32(0).raw(digest).out, PasswordSet{}).error() ==
          make_error_code(Errc::unsupported));
    CHECK(detail::parse_jks(JavaOut().u32(0xFEEDFEED).u32(2).u32(0x7fffffff).raw(digest).out, PasswordSet{}).error() ==
          make_error_code(Errc::too_large));
    CHECK(detail::parse_jks(JavaOut().u32(0xFEEDFEED).u32(2).u32(0x80000000).raw(digest).out, PasswordSet{}).error() ==
          make_error_code(Errc::bad_structure));
    // A secret-key entry (tag 3) belongs to JCEKS only.
    CHECK(detail::parse_jks(JavaOut().u32(0xFEEDFEED).u32(2).u32(1).u32(3).utf("s").u32(0).u32(0).raw(digest).out,
                            PasswordSet{})
              .error() == make_error_code(Errc::bad_structure));
    // A certificate length past 1 MiB.
    CHECK(detail::parse_jks(
              JavaOut().u32(0xFEEDFEED).u32(2).u32(1).u32(2).utf("c").u32(0).u32(0).utf("X.509").u32(2u << 20).out,
              PasswordSet{})
              .error() == make_error_code(Errc::too_large));
    // An empty store with its digest is a valid (empty) truststore.
    auto empty = detail::parse_jks(JavaOut().u32(0xFEEDFEED).u32(2).u32(0).raw(digest).out, PasswordSet{});
    REQUIRE(empty.has_value());
    CHECK(empty->entries.empty());
  }

  TEST_CASE("a JCEKS secret-key entry that cannot be skipped ends the listing with what was read") {
    // A serialized exception (TC_EXCEPTION) where the SealedObject should be.
    ByteVec object{0xAC, 0xED, 0x00, 0x05, 0x7B, 0x01, 0x02, 0x03};
    const ByteVec digest(20, 0x11);
    JavaOut out;
    out.u32(0xCECECECE).u32(2).u32(2);
    out.u32(3).utf("sealed").u32(0).u32(1000).raw(object);
    out.raw(digest);
    auto r = detail::parse_jks(out.out, common({"changeit"}));
    REQUIRE(r.has_value());
    REQUIRE(r->entries.size() == 1);
    CHECK(r->entries[0].alias == "sealed");
    CHECK(r->entries[0].created == 1);
    CHECK_FALSE(store_of(*r).opened);
    CHECK(r->holds_private_key());
  }

}  // TEST_SUITE

TEST_SUITE("gpg key file") {
  TEST_CASE("an unprotected RSA key file in the extended format reports its size and the SPKI gpg exports") {
    const auto& s = stores();
    auto r = detail::parse_gpg_key_file(s.bytes("rsa.key"));
    REQUIRE(r.has_value());
    CHECK(r->kind == Kind::private_key);
    CHECK(r->format == Format::gpg_key_file);
    CHECK(r->rule == "private-key/gpg-key-file");
    REQUIRE(r->key.has_value());
    CHECK(r->key->algorithm == "rsa");
    CHECK(r->key->bits == 2048u);
    CHECK_FALSE(r->key->encrypted);
    CHECK_FALSE(r->key->protection.has_value());
    CHECK(r->key->spki_sha256 == s.value("rsa.spki"));
    CHECK(r->identity == r->key->spki_sha256);
  }

  TEST_CASE("a passphrase-protected Ed25519 key file reports OCB protection, its S2K count and SPKI") {
    const auto& s = stores();
    auto r = detail::parse_gpg_key_file(s.bytes("ed.key"));
    REQUIRE(r.has_value());
    REQUIRE(r->key.has_value());
    CHECK(r->key->algorithm == "ed25519");
    CHECK(r->key->spki_sha256 == s.value("ed.spki"));
    CHECK(r->key->encrypted);
    REQUIRE(r->key->protection.has_value());
    CHECK(r->key->protection->cipher == "ocb-aes");
    CHECK(r->key->protection->kdf == "openpgp-s2k3-sha1");
    CHECK(r->key->protection->kdf_iterations.value_or(0) > 1024u);
  }

  TEST_CASE("a NIST P-256 key file reports its curve and SPKI") {
    const auto& s = stores();
    auto r = detail::parse_gpg_key_file(s.bytes("ec.key"));
    REQUIRE(r.has_value());
    CHECK(r->key->algorithm == "ec");
    CHECK(r->key->curve == "P-256");
    CHECK(r->key->bits == 256u);
    CHECK(r->key->spki_sha256 == s.value("ec.spki"));
    CHECK_FALSE(r->key->encrypted);
  }

  TEST_CASE("canonical S-expression key files give the same facts as the extended format") {
    const auto& s = stores();
    auto plain = detail::parse_gpg_key_file(s.bytes("rsa.canon"));
    REQUIRE(plain.has_value());
    CHECK(s.text("rsa.canon").rfind("(11:private-key", 0) == 0);
    CHECK(plain->key->spki_sha256 == s.value("rsa.spki"));
    CHECK_FALSE(plain->key->encrypted);
    auto prot = detail::parse_gpg_key_file(s.bytes("rsa_prot.canon"));
    REQUIRE(prot.has_value());
    CHECK(s.text("rsa_prot.canon").rfind("(21:protected-private-key", 0) == 0);
    CHECK(prot->key->spki_sha256 == s.value("rsa.spki"));
    CHECK(prot->key->encrypted);
    REQUIRE(prot->key->protection.has_value());
    // GnuPG 2.2 (Debian 12) protects with openpgp-s2k3-sha1-aes-cbc, 2.4 (Debian 13) with
    // openpgp-s2k3-ocb-aes: the same KDF, another mode.
    const std::string cipher = prot->key->protection->cipher;
    CHECK((cipher == "aes-cbc" || cipher == "ocb-aes"));
    CHECK(prot->key->protection->kdf == "openpgp-s2k3-sha1");
  }

  TEST_CASE("hex, quoted, base64 and display-hinted atoms of the advanced form decode to the same key") {
    EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    REQUIRE(raw != nullptr);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(raw, EVP_PKEY_free);
    unsigned char point[133];
    std::size_t point_len = 0;
    REQUIRE(EVP_PKEY_get_octet_string_param(raw, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &point_len) == 1);
    unsigned char* der = nullptr;
    const int der_len = i2d_PUBKEY(raw, &der);
    REQUIRE(der_len > 0);
    unsigned char md[32];
    EVP_Digest(der, static_cast<std::size_t>(der_len), md, nullptr, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    const std::string spki = detail::hex(std::span<const std::uint8_t>(md, 32));
    const std::string q64 = detail::base64_encode(std::span<const std::uint8_t>(point, point_len));
    const std::string text =
        "Created: 20240101T000000\nLabel: test key\nKey: (private-key (ecc (curve \"NIST\\x20P-256\")\n (q [4:hint]|" +
        q64.substr(0, 40) + "\n " + q64.substr(40) +
        "|)(d #01#))\n (comment \"a \\\"quoted\\\" comment\"))\nUse-for-ssh: yes\n";
    auto r = detail::parse_gpg_key_file(bytes(text));
    REQUIRE(r.has_value());
    CHECK(r->key->spki_sha256 == spki);
    CHECK(r->key->curve == "P-256");
    CHECK(r->key->comment == "a \"quoted\" comment");
  }

  TEST_CASE("shadowed smartcard stubs and public keys are not private keys") {
    using namespace std::string_view_literals;
    CHECK(detail::parse_gpg_key_file(bytes("(20:shadowed-private-key(3:rsa(1:n3:\x01\x00\x01)(1:e3:\x01\x00\x01)"
                                           "(8:shadowed5:t1-v1(16:0123456789ABCDEF1:1))))"sv))
              .error() == make_error_code(Errc::not_private));
    CHECK(detail::parse_gpg_key_file(bytes("Created: 20240101T000000\nKey: (shadowed-private-key (ecc (curve Ed25519)\n"
                                           " (q #40AB8633D4F72E6A663C7CA5B774EF551E7B592B4DAE4807C9DBB0B5407AEBE1FA#)\n"
                                           " (shadowed t1-v1 (#D2760001240103040006#))))\nToken: D2760001 OPENPGP.1\n"))
              .error() == make_error_code(Errc::not_private));
    CHECK(detail::parse_gpg_key_file(bytes("(10:public-key(3:ecc(5:curve7:Ed25519)(1:q2:\x40\x01)))")).error() ==
          make_error_code(Errc::not_private));
  }

  TEST_CASE("every truncation of a GnuPG key file fails cleanly") {
    const auto& s = stores();
    for (const char* name : {"rsa.key", "ed.key", "rsa_prot.canon"}) {
      const std::string text = s.text(name);
      std::size_t end = text.size();
      while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
      for (std::size_t cut = 0; cut < end; ++cut) {
        auto r = detail::parse_gpg_key_file(bytes(std::string_view(text).substr(0, cut)));
        if (r.has_value()) FAIL_CHECK(name << ": a prefix of " << cut << " bytes parsed");
      }
    }
  }

  TEST_CASE("garbage, unbalanced S-expressions and keys without their secret are rejected") {
    for (const char* bad :
         {"", "hello world", "\x01\x02\x03", "Created: 2024\n", "(11:private-key", "(11:private-key(3:rsa",
          "(11:private-key(3:rsa(1:n1:\x05)(1:e1:\x03)))", "(5:hello(3:rsa(1:d1:\x01)))",
          "(11:private-key(3:rsa(1:n1:\x05)(1:e1:\x03)(1:d1:\x01))) trailing",
          "Key: (private-key (rsa (n #0#)(e #03#)(d #01#)))\n",
          "Key: (private-key (rsa (n #05#)\nLabel: x\n (e #03#)(d #01#)))\n", "(11:private-key(7:unknown(1:x1:\x01)))",
          "(99999999999:x)"}) {
      auto r = detail::parse_gpg_key_file(bytes(bad));
      if (r.has_value()) FAIL_CHECK("parsed: " << bad);
    }
  }

}  // TEST_SUITE
