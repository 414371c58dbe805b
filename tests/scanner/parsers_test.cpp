// SPDX-License-Identifier: Apache-2.0
// Tests of the own key-format parsers (scanner/src/detectors/parsers.hpp) against keys that
// ssh-keygen, puttygen, gpg and openssl generate at test time, once per run (a shared temp dir).
// Expected SPKI hashes come from OpenSSL (`openssl pkey -pubout -outform DER | sha256sum`) and
// expected SSH fingerprints from `ssh-keygen -lf`, never from the code under test.
#include <doctest/doctest.h>

#include "support/generated_dir.hpp"

#include "detectors/parsers.hpp"
#include "encoding.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace keyward::scanner;
using keyward::scanner::detail::ByteVec;

namespace {

using keyward::test::shell_quote;
using keyward::test::slurp;

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), in octal for dash's printf.
constexpr const char* kEd25519SpkiPrefix = "\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000";

// Keys generated once per test run in a temp dir; every expected value is computed by the
// tools themselves into "<name>.spki" / "<name>.fp" files.
struct Keys : keyward::test::GeneratedDir {
  std::string gpg_rsa, gpg_ed, gpg_ec;  // fingerprints as gpg prints them
  std::string gpg_ed_sub;               // the cv25519 subkey added to the Ed25519 key

  Keys() { prepare("parsers-keys-3"); }
  ~Keys() override {
    if (!shared) cleanup();
  }

  void reused() override {
    gpg_rsa = value("gpg_rsa.fpr");
    gpg_ed = value("gpg_ed.fpr");
    gpg_ec = value("gpg_ec.fpr");
    gpg_ed_sub = value("gpg_ed_sub.fpr");
  }

  void cleanup() override {  // stop the gpg-agent that gpg started for this folder
    if (dir.empty()) return;
    std::system(
        ("gpgconf --homedir " + shell_quote((dir / "gnupg").string()) + " --kill gpg-agent >/dev/null 2>&1").c_str());
  }

  void generate() override {
    // OpenSSH keys.
    run("ssh-keygen -q -t rsa -b 2048 -N '' -C 'rsa comment' -f rsa");
    run("ssh-keygen -q -t ecdsa -b 256 -N '' -C 'ec256' -f ec256");
    // -a 16 given: OpenSSH 10's default is 24 rounds, 9's 16.
    run("ssh-keygen -q -t ecdsa -b 384 -N 'secret pass' -a 16 -C 'hidden' -f ec384_enc");
    run("ssh-keygen -q -t ed25519 -N '' -C 'ed comment' -f ed");
    run("ssh-keygen -q -t ed25519 -N 'secret pass' -a 20 -f ed_enc");
    // DSA: OpenSSH 10 (Debian 13) neither makes nor reads DSA keys; PuTTY still does both. So the
    // key comes from puttygen there, and its SPKI (through a PEM export that OpenSSL reads) and
    // fingerprint come from puttygen and OpenSSL on every release.
    run("ssh-keygen -q -t dsa -N '' -f dsa 2>/dev/null || (rm -f dsa dsa.pub && puttygen -q -t dsa -b 1024 "
        "-O private-openssh-new -o dsa --new-passphrase /dev/null 2>/dev/null && "
        "puttygen dsa -O public-openssh -o dsa.pub)");
    run("puttygen dsa -O private-openssh -o dsa.pem --new-passphrase /dev/null && "
        "openssl pkey -in dsa.pem -pubout -outform DER | sha256sum | cut -c1-64 > dsa.spki");
    run("puttygen -l dsa.pub | awk '{print $3}' > dsa.fp");
    for (const char* k : {"rsa", "ec256", "ec384_enc"})
      run(std::string("ssh-keygen -e -m PKCS8 -f ") + k +
          ".pub | openssl pkey -pubin -outform DER | "
          "sha256sum | cut -c1-64 > " +
          k + ".spki");
    for (const char* k : {"ed", "ed_enc"})
      run(std::string("awk '{print $2}' ") + k + ".pub | base64 -d | tail -c 32 > " + k +
          ".raw && "
          "(printf '" +
          kEd25519SpkiPrefix + "'; cat " + k + ".raw) > " + k +
          ".der && "
          "openssl pkey -pubin -inform DER -in " +
          k + ".der -outform DER | sha256sum | cut -c1-64 > " + k + ".spki");
    for (const char* k : {"rsa", "ec256", "ec384_enc", "ed", "ed_enc"})
      run(std::string("ssh-keygen -lf ") + k + ".pub | awk '{print $2}' > " + k + ".fp");

    // PuTTY and SSH.com conversions of the same keys (so the expected facts are shared).
    run("printf 'secret pass\\n' > pass");
    run("puttygen rsa -O private -o rsa_v3.ppk --new-passphrase /dev/null");
    run("puttygen ed -O private -o ed_v3_enc.ppk --new-passphrase pass");
    run("puttygen ec256 -O private --ppk-param version=2 -o ec256_v2.ppk --new-passphrase /dev/null");
    run("puttygen rsa -O private --ppk-param version=2 -o rsa_v2_enc.ppk --new-passphrase pass");
    run("puttygen rsa -O private-sshcom -o rsa.sshcom --new-passphrase /dev/null");
    run("puttygen rsa -O private-sshcom -o rsa_enc.sshcom --new-passphrase pass");
    run("puttygen dsa -O private-sshcom -o dsa.sshcom --new-passphrase /dev/null");

    // OpenPGP keys; their SPKI via gpg's SSH export of the same key.
    run("mkdir -m 700 gnupg");
    const std::string gpg = "gpg --homedir gnupg --batch --quiet --pinentry-mode loopback ";
    run(gpg + "--passphrase '' --quick-gen-key 'RSA Tester <rsa@example.org>' rsa2048");
    run(gpg + "--passphrase '' --quick-gen-key 'Ed Tester <ed@example.org>' ed25519");
    run(gpg + "--passphrase 'secret pass' --quick-gen-key 'EC Tester <ec@example.org>' nistp256");
    gpg_rsa = fingerprint(gpg, "rsa@example.org");
    gpg_ed = fingerprint(gpg, "ed@example.org");
    gpg_ec = fingerprint(gpg, "ec@example.org");
    run(gpg + "--passphrase '' --quick-add-key " + gpg_ed + " cv25519 encr");
    gpg_ed_sub = fingerprint(gpg, "ed@example.org", 1);
    run(gpg + "--passphrase '' --export-secret-subkeys " + gpg_ed + " > pgp_ed_sub.gpg");
    run(gpg + "--export " + gpg_ed + " > pgp_ed_pub.gpg");
    run(gpg + "--passphrase '' --armor --export-secret-keys " + gpg_rsa + " > pgp_rsa.asc");
    run(gpg + "--passphrase '' --armor --export-secret-keys " + gpg_ed + " > pgp_ed.asc");
    run(gpg + "--passphrase '' --export-secret-keys " + gpg_ed + " > pgp_ed.gpg");
    run(gpg + "--passphrase 'secret pass' --armor --export-secret-keys " + gpg_ec + " > pgp_ec_enc.asc");
    run(gpg + "--export-ssh-key " + gpg_rsa + "! > pgp_rsa.pub");
    run(gpg + "--export-ssh-key " + gpg_ec + "! > pgp_ec_enc.pub");
    run(gpg + "--export-ssh-key " + gpg_ed + "! > pgp_ed.pub");
    for (const char* k : {"pgp_rsa", "pgp_ec_enc"})
      run(std::string("ssh-keygen -e -m PKCS8 -f ") + k +
          ".pub | openssl pkey -pubin -outform DER | "
          "sha256sum | cut -c1-64 > " +
          k + ".spki");
    run(std::string("awk '{print $2}' pgp_ed.pub | base64 -d | tail -c 32 > pgp_ed.raw && (printf '") +
        kEd25519SpkiPrefix +
        "'; cat pgp_ed.raw) > pgp_ed.der && openssl pkey -pubin -inform DER "
        "-in pgp_ed.der -outform DER | sha256sum | cut -c1-64 > pgp_ed.spki");

    // PEM keys for JWK and XML (the RSA one is the OpenSSH RSA key in PKCS#1 PEM).
    run("cp rsa rsa_pem && ssh-keygen -q -p -m PEM -P '' -N '' -f rsa_pem");
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.pem");
    run("openssl genpkey -algorithm ED25519 -out okp.pem");
    for (const char* k : {"ec384", "okp"})
      run(std::string("openssl pkey -in ") + k + ".pem -pubout -outform DER | sha256sum | cut -c1-64 > " + k + ".spki");
    // Remembered for the processes that reuse this folder (see reused()).
    std::ofstream(dir / "gpg_rsa.fpr") << gpg_rsa << "\n";
    std::ofstream(dir / "gpg_ed.fpr") << gpg_ed << "\n";
    std::ofstream(dir / "gpg_ec.fpr") << gpg_ec << "\n";
    std::ofstream(dir / "gpg_ed_sub.fpr") << gpg_ed_sub << "\n";
  }

  // The fingerprint of the n-th key (0: primary) of `who`.
  std::string fingerprint(const std::string& gpg, const std::string& who, int n = 0) {
    if (!failure.empty()) return {};
    const std::string cmd =
        "cd " + shell_quote(dir.string()) + " && " + gpg + "--with-colons --list-secret-keys " + who + " 2>/dev/null";
    std::string out;
    if (FILE* f = popen(cmd.c_str(), "r")) {
      char buf[4096];
      std::size_t got = 0;
      while ((got = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, got);
      pclose(f);
    }
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("fpr:", 0) != 0 || n-- > 0) continue;
      // fpr:::::::::<FINGERPRINT>:
      std::size_t field = 0, start = 0;
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] != ':') continue;
        if (++field == 9) start = i + 1;
        if (field == 10) return line.substr(start, i - start);
      }
    }
    failure = "no gpg fingerprint for " + who;
    return {};
  }
};

const Keys& keys() {
  static Keys k;
  REQUIRE_MESSAGE(k.failure.empty(), k.failure);
  return k;
}

ByteVec bytes(std::string_view s) { return ByteVec(s.begin(), s.end()); }

// The decoded body of an "-----BEGIN OPENSSH PRIVATE KEY-----" file.
ByteVec openssh_body(const std::string& pem) {
  const auto begin = pem.find('\n');
  const auto end = pem.find("-----END");
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  auto decoded = detail::base64_decode(std::string_view(pem).substr(begin + 1, end - begin - 1));
  REQUIRE(decoded.has_value());
  return *decoded;
}

const KeyFacts& key_of(const Finding& f) {
  REQUIRE(f.key.has_value());
  return *f.key;
}

// Identity follows the contract: SPKI first.
void check_identity(const Finding& f) {
  const KeyFacts& k = key_of(f);
  if (!k.spki_sha256.empty()) CHECK(f.identity == k.spki_sha256);
  else if (!k.ssh_fingerprint.empty()) CHECK(f.identity == "ssh:" + k.ssh_fingerprint);
  else if (!k.pgp_fingerprint.empty()) CHECK(f.identity == "pgp:" + k.pgp_fingerprint);
}

// SSH wire writer for hand-built openssh-key-v1 blobs (security-key types cannot be generated
// without a token).
struct Wire {
  ByteVec out;
  Wire& u32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
    return *this;
  }
  Wire& u8(std::uint8_t v) {
    out.push_back(v);
    return *this;
  }
  Wire& str(std::span<const std::uint8_t> s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
    return *this;
  }
  Wire& str(std::string_view s) { return str(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())); }
};

// Reads the fields of an SSH public key line's blob ("type base64 comment").
ByteVec pub_blob(const std::string& line) {
  const auto a = line.find(' ');
  const auto b = line.find(' ', a + 1);
  auto blob = detail::base64_decode(std::string_view(line).substr(a + 1, b - a - 1));
  REQUIRE(blob.has_value());
  return *blob;
}

// Builds an unencrypted openssh-key-v1 blob around `public_blob` with the given private fields.
ByteVec openssh_v1(std::string_view type, const ByteVec& public_blob, const ByteVec& private_fields,
                   std::string_view comment) {
  Wire priv;
  priv.u32(0x01020304).u32(0x01020304).str(type);
  priv.out.insert(priv.out.end(), private_fields.begin(), private_fields.end());
  priv.str(comment);
  for (std::uint8_t pad = 1; priv.out.size() % 8 != 0; ++pad) priv.u8(pad);
  Wire w;
  w.out = bytes(std::string_view("openssh-key-v1\0", 15));
  w.str("none").str("none").str("").u32(1).str(public_blob).str(priv.out);
  return w.out;
}

std::string fingerprint_of_pub_line(const Keys& k, const std::string& name, const std::string& line) {
  std::ofstream(k.dir / (name + ".pub")) << line << "\n";
  const std::string cmd =
      "cd " + shell_quote(k.dir.string()) + " && ssh-keygen -lf " + name + ".pub | awk '{print $2}' > " + name + ".fp";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return k.value(name + ".fp");
}

std::string base64url(std::span<const std::uint8_t> data) {
  std::string s = detail::base64_encode(data, false);
  for (auto& c : s) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return s;
}

ByteVec bn_param(const EVP_PKEY* pkey, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(pkey, name, &bn) == 1);
  ByteVec out(pad > 0 ? static_cast<std::size_t>(pad) : static_cast<std::size_t>(BN_num_bytes(bn)));
  if (pad > 0) BN_bn2binpad(bn, out.data(), pad);
  else BN_bn2bin(bn, out.data());
  BN_clear_free(bn);
  return out;
}

EVP_PKEY* read_pem(const Keys& k, const std::string& name) {
  FILE* f = std::fopen((k.dir / name).c_str(), "r");
  REQUIRE(f != nullptr);
  EVP_PKEY* pkey = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(pkey != nullptr);
  return pkey;
}

// Every proper prefix of `text` (ending before its final newline) must fail, never crash.
template <class Parse>
void every_prefix_fails(const std::string& text, Parse parse) {
  std::size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
  for (std::size_t cut = 0; cut < end; ++cut) {
    const std::string prefix = text.substr(0, cut);
    const auto r = parse(std::string_view(prefix));
    if (r.has_value()) FAIL_CHECK("a prefix of " << cut << " bytes parsed");
  }
}

}  // namespace

TEST_SUITE("openssh-key-v1") {
  TEST_CASE("unencrypted OpenSSH RSA key reports its size, SPKI, fingerprint and comment") {
    const auto& k = keys();
    auto r = detail::parse_openssh_v1(openssh_body(k.text("rsa")));
    REQUIRE(r.has_value());
    CHECK(r->kind == Kind::private_key);
    CHECK(r->format == Format::openssh);
    CHECK(r->rule == "private-key/openssh");
    const auto& key = key_of(*r);
    CHECK(key.algorithm == "rsa");
    CHECK(key.bits == 2048u);
    CHECK_FALSE(key.encrypted);
    CHECK_FALSE(key.protection.has_value());
    CHECK(key.spki_sha256 == k.value("rsa.spki"));
    CHECK(key.ssh_fingerprint == k.value("rsa.fp"));
    CHECK(key.comment == "rsa comment");
    check_identity(*r);
  }

  TEST_CASE("unencrypted OpenSSH ECDSA, Ed25519 and DSA keys report their facts") {
    const auto& k = keys();
    {
      auto r = detail::parse_openssh_v1(openssh_body(k.text("ec256")));
      REQUIRE(r.has_value());
      CHECK(key_of(*r).algorithm == "ec");
      CHECK(key_of(*r).curve == "P-256");
      CHECK(key_of(*r).bits == 256u);
      CHECK(key_of(*r).spki_sha256 == k.value("ec256.spki"));
      CHECK(key_of(*r).ssh_fingerprint == k.value("ec256.fp"));
      CHECK(key_of(*r).comment == "ec256");
    }
    {
      auto r = detail::parse_openssh_v1(openssh_body(k.text("ed")));
      REQUIRE(r.has_value());
      CHECK(key_of(*r).algorithm == "ed25519");
      CHECK(key_of(*r).spki_sha256 == k.value("ed.spki"));
      CHECK(key_of(*r).ssh_fingerprint == k.value("ed.fp"));
      CHECK(key_of(*r).comment == "ed comment");
    }
    {
      auto r = detail::parse_openssh_v1(openssh_body(k.text("dsa")));
      REQUIRE(r.has_value());
      CHECK(key_of(*r).algorithm == "dsa");
      CHECK(key_of(*r).bits == 1024u);
      CHECK(key_of(*r).spki_sha256 == k.value("dsa.spki"));
      CHECK(key_of(*r).ssh_fingerprint == k.value("dsa.fp"));
    }
  }

  TEST_CASE("encrypted OpenSSH keys keep their public facts and report bcrypt protection but no comment") {
    const auto& k = keys();
    {
      auto r = detail::parse_openssh_v1(openssh_body(k.text("ec384_enc")));
      REQUIRE(r.has_value());
      const auto& key = key_of(*r);
      CHECK(key.encrypted);
      REQUIRE(key.protection.has_value());
      CHECK(key.protection->cipher == "aes256-ctr");
      CHECK(key.protection->kdf == "bcrypt");
      CHECK(key.protection->kdf_iterations == 16u);
      CHECK(key.curve == "P-384");
      CHECK(key.spki_sha256 == k.value("ec384_enc.spki"));
      CHECK(key.ssh_fingerprint == k.value("ec384_enc.fp"));
      CHECK(key.comment.empty());
    }
    {
      auto r = detail::parse_openssh_v1(openssh_body(k.text("ed_enc")));
      REQUIRE(r.has_value());
      CHECK(key_of(*r).encrypted);
      CHECK(key_of(*r).protection->kdf_iterations == 20u);
      CHECK(key_of(*r).spki_sha256 == k.value("ed_enc.spki"));
      CHECK(key_of(*r).ssh_fingerprint == k.value("ed_enc.fp"));
    }
  }

  TEST_CASE("security-key OpenSSH keys are reported as sk-ed25519 and sk-ecdsa with the SPKI of their public key") {
    const auto& k = keys();
    {
      const ByteVec ed = pub_blob(k.text("ed.pub"));
      const ByteVec pk(ed.end() - 32, ed.end());
      const ByteVec pub = Wire().str("sk-ssh-ed25519@openssh.com").str(pk).str("ssh:").out;
      const ByteVec priv = Wire().str(pk).str("ssh:").u8(1).str("handle").str("").out;
      auto r = detail::parse_openssh_v1(openssh_v1("sk-ssh-ed25519@openssh.com", pub, priv, "sk comment"));
      REQUIRE(r.has_value());
      CHECK(key_of(*r).algorithm == "sk-ed25519");
      CHECK(key_of(*r).spki_sha256 == k.value("ed.spki"));
      CHECK(key_of(*r).comment == "sk comment");
      CHECK(key_of(*r).ssh_fingerprint ==
            fingerprint_of_pub_line(k, "sk_ed", "sk-ssh-ed25519@openssh.com " + detail::base64_encode(pub) + " sk"));
    }
    {
      const ByteVec ec = pub_blob(k.text("ec256.pub"));
      detail::Reader rd(ec);
      std::span<const std::uint8_t> type, curve, point;
      REQUIRE(rd.ssh_string(type));
      REQUIRE(rd.ssh_string(curve));
      REQUIRE(rd.ssh_string(point));
      const ByteVec q(point.begin(), point.end());
      const ByteVec pub = Wire().str("sk-ecdsa-sha2-nistp256@openssh.com").str("nistp256").str(q).str("ssh:").out;
      const ByteVec priv = Wire().str("nistp256").str(q).str("ssh:").u8(1).str("handle").str("").out;
      auto r = detail::parse_openssh_v1(openssh_v1("sk-ecdsa-sha2-nistp256@openssh.com", pub, priv, "c"));
      REQUIRE(r.has_value());
      CHECK(key_of(*r).algorithm == "sk-ecdsa");
      CHECK(key_of(*r).curve == "P-256");
      CHECK(key_of(*r).spki_sha256 == k.value("ec256.spki"));
      CHECK(key_of(*r).ssh_fingerprint ==
            fingerprint_of_pub_line(k, "sk_ec",
                                    "sk-ecdsa-sha2-nistp256@openssh.com " + detail::base64_encode(pub) + " sk"));
    }
  }

  TEST_CASE("truncated or altered openssh-key-v1 blobs fail cleanly") {
    const auto& k = keys();
    for (const char* name : {"rsa", "ed_enc"}) {
      const ByteVec body = openssh_body(k.text(name));
      for (std::size_t cut = 0; cut < body.size(); ++cut) {
        const ByteVec prefix(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(cut));
        if (detail::parse_openssh_v1(prefix).has_value()) FAIL_CHECK(name << " prefix " << cut << " parsed");
      }
    }
    const ByteVec body = openssh_body(k.text("ed"));
    {
      ByteVec bad = body;
      bad[0] = 'O';
      CHECK(detail::parse_openssh_v1(bad).error() == make_error_code(Errc::bad_magic));
    }
    {
      const ByteVec ed = pub_blob(k.text("ed.pub"));
      const ByteVec pk(ed.end() - 32, ed.end());
      ByteVec two_keys = openssh_v1("ssh-ed25519", ed, Wire().str(pk).str(ByteVec(64, 7)).out, "c");
      REQUIRE(detail::parse_openssh_v1(two_keys).has_value());
      // check-ints at offset: magic(15) + "none"(8) + "none"(8) + ""(4) + nkeys(4) + pub(4 + n) + len(4)
      const std::size_t check = 15 + 8 + 8 + 4 + 4 + 4 + ed.size() + 4;
      ByteVec mismatch = two_keys;
      mismatch[check + 7] ^= 0xFF;
      CHECK(detail::parse_openssh_v1(mismatch).error() == make_error_code(Errc::bad_structure));
      ByteVec wrong_type = openssh_v1("ssh-rsa", ed, Wire().str(pk).str(ByteVec(64, 7)).out, "c");
      CHECK(detail::parse_openssh_v1(wrong_type).error() == make_error_code(Errc::bad_structure));
      two_keys[15 + 8 + 8 + 4 + 3] = 2;
      CHECK_FALSE(detail::parse_openssh_v1(two_keys).has_value());
    }
  }

}  // TEST_SUITE

TEST_SUITE("putty ppk") {
  TEST_CASE("unencrypted PPK v3 RSA key reports the same facts as the OpenSSH key it came from") {
    const auto& k = keys();
    const std::string text = k.text("rsa_v3.ppk");
    auto r = detail::parse_ppk(text);
    REQUIRE(r.has_value());
    CHECK(r->consumed == text.size());
    CHECK(r->finding.format == Format::putty_ppk);
    CHECK(r->finding.rule == "private-key/putty");
    const auto& key = key_of(r->finding);
    CHECK(key.algorithm == "rsa");
    CHECK(key.bits == 2048u);
    CHECK_FALSE(key.encrypted);
    CHECK(key.spki_sha256 == k.value("rsa.spki"));
    CHECK(key.ssh_fingerprint == k.value("rsa.fp"));
    CHECK(key.comment == "rsa comment");
    check_identity(r->finding);
  }

  TEST_CASE("encrypted PPK v3 key reports Argon2 protection and its public facts") {
    const auto& k = keys();
    auto r = detail::parse_ppk(k.text("ed_v3_enc.ppk"));
    REQUIRE(r.has_value());
    const auto& key = key_of(r->finding);
    CHECK(key.algorithm == "ed25519");
    CHECK(key.encrypted);
    REQUIRE(key.protection.has_value());
    CHECK(key.protection->cipher == "aes256-cbc");
    CHECK(key.protection->kdf == "argon2id");
    CHECK(key.protection->kdf_iterations.value_or(0) > 0);
    CHECK(key.spki_sha256 == k.value("ed.spki"));
    CHECK(key.ssh_fingerprint == k.value("ed.fp"));
  }

  TEST_CASE("PPK v2 keys parse, encrypted ones with the SHA-1 key derivation") {
    const auto& k = keys();
    {
      auto r = detail::parse_ppk(k.text("ec256_v2.ppk"));
      REQUIRE(r.has_value());
      CHECK(key_of(r->finding).curve == "P-256");
      CHECK_FALSE(key_of(r->finding).encrypted);
      CHECK(key_of(r->finding).spki_sha256 == k.value("ec256.spki"));
      CHECK(key_of(r->finding).ssh_fingerprint == k.value("ec256.fp"));
    }
    {
      auto r = detail::parse_ppk(k.text("rsa_v2_enc.ppk"));
      REQUIRE(r.has_value());
      CHECK(key_of(r->finding).encrypted);
      CHECK(key_of(r->finding).protection->kdf == "sha1");
      CHECK_FALSE(key_of(r->finding).protection->kdf_iterations.has_value());
      CHECK(key_of(r->finding).spki_sha256 == k.value("rsa.spki"));
    }
  }

  TEST_CASE("PPK with CRLF line ends parses and trailing text is not consumed") {
    const auto& k = keys();
    std::string crlf;
    for (char c : k.text("ed_v3_enc.ppk")) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    auto r = detail::parse_ppk(crlf + "more text\n");
    REQUIRE(r.has_value());
    CHECK(r->consumed == crlf.size());
    CHECK(key_of(r->finding).ssh_fingerprint == k.value("ed.fp"));
  }

  TEST_CASE("truncated or altered PPK files fail cleanly") {
    const auto& k = keys();
    const std::string text = k.text("ed_v3_enc.ppk");
    every_prefix_fails(text, [](std::string_view s) { return detail::parse_ppk(s); });
    const std::string no_mac = text.substr(0, text.find("Private-MAC"));
    CHECK(detail::parse_ppk(no_mac).error() == make_error_code(Errc::truncated));
    std::string bad_type = text;
    bad_type.replace(bad_type.find("ssh-ed25519"), 11, "ssh-ed25518");
    CHECK_FALSE(detail::parse_ppk(bad_type).has_value());
    std::string bad_base64 = text;
    bad_base64[bad_base64.find("Public-Lines: ") + 17] = '!';
    CHECK(detail::parse_ppk(bad_base64).error() == make_error_code(Errc::bad_encoding));
  }

}  // TEST_SUITE

TEST_SUITE("ssh.com") {
  TEST_CASE("unencrypted SSH.com RSA key reports its size and the SPKI of its OpenSSH original") {
    const auto& k = keys();
    const std::string text = k.text("rsa.sshcom");
    auto r = detail::parse_sshcom(text);
    REQUIRE(r.has_value());
    CHECK(r->consumed == text.size());
    CHECK(r->finding.format == Format::sshcom);
    CHECK(r->finding.rule == "private-key/sshcom");
    const auto& key = key_of(r->finding);
    CHECK(key.algorithm == "rsa");
    CHECK(key.bits == 2048u);
    CHECK_FALSE(key.encrypted);
    CHECK(key.spki_sha256 == k.value("rsa.spki"));
    CHECK(key.comment == "rsa comment");
    check_identity(r->finding);
  }

  TEST_CASE("unencrypted SSH.com DSA key reports its facts") {
    const auto& k = keys();
    auto r = detail::parse_sshcom(k.text("dsa.sshcom"));
    REQUIRE(r.has_value());
    CHECK(key_of(r->finding).algorithm == "dsa");
    CHECK(key_of(r->finding).bits == 1024u);
    CHECK(key_of(r->finding).spki_sha256 == k.value("dsa.spki"));
  }

  TEST_CASE("encrypted SSH.com key reports its algorithm and cipher only") {
    const auto& k = keys();
    auto r = detail::parse_sshcom(k.text("rsa_enc.sshcom"));
    REQUIRE(r.has_value());
    const auto& key = key_of(r->finding);
    CHECK(key.algorithm == "rsa");
    CHECK(key.encrypted);
    CHECK_FALSE(key.bits.has_value());
    CHECK(key.spki_sha256.empty());
    REQUIRE(key.protection.has_value());
    CHECK(key.protection->cipher == "3des-cbc");
  }

  TEST_CASE("SSH.com header continuation lines and CRLF are accepted and truncation fails cleanly") {
    const auto& k = keys();
    const std::string text = k.text("rsa.sshcom");
    const auto nl = text.find('\n');
    std::string with_headers =
        text.substr(0, nl + 1) + "Subject: someone\nx-long: first \\\n  second\\\n  third\n" + text.substr(nl + 1);
    std::string crlf;
    for (char c : with_headers) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    auto r = detail::parse_sshcom(crlf);
    REQUIRE(r.has_value());
    CHECK(key_of(r->finding).spki_sha256 == k.value("rsa.spki"));
    every_prefix_fails(text, [](std::string_view s) { return detail::parse_sshcom(s); });
    std::string bad = text;
    bad[bad.find("P2/56w")] = 'Q';  // magic
    CHECK(detail::parse_sshcom(bad).error() == make_error_code(Errc::bad_magic));
  }

}  // TEST_SUITE

TEST_SUITE("openpgp") {
  TEST_CASE("unprotected armored PGP RSA key reports size, SPKI, fingerprint and user ID") {
    const auto& k = keys();
    const std::string text = k.text("pgp_rsa.asc");
    auto r = detail::parse_pgp_armor(text);
    REQUIRE(r.has_value());
    CHECK(r->consumed == text.size());
    CHECK(r->finding.format == Format::pgp);
    CHECK(r->finding.rule == "private-key/pgp");
    const auto& key = key_of(r->finding);
    CHECK(key.algorithm == "rsa");
    CHECK(key.bits == 2048u);
    CHECK_FALSE(key.encrypted);
    CHECK(key.spki_sha256 == k.value("pgp_rsa.spki"));
    CHECK(key.pgp_fingerprint == k.gpg_rsa);
    CHECK(key.comment == "RSA Tester <rsa@example.org>");
    check_identity(r->finding);
  }

  TEST_CASE("armored and binary PGP Ed25519 keys report the same facts") {
    const auto& k = keys();
    auto armored = detail::parse_pgp_armor(k.text("pgp_ed.asc"));
    REQUIRE(armored.has_value());
    const std::string binary = k.text("pgp_ed.gpg");
    auto raw = detail::parse_pgp_packets(bytes(binary));
    REQUIRE(raw.has_value());
    for (const Finding* f : {&armored->finding, &*raw}) {
      CHECK(key_of(*f).algorithm == "ed25519");
      CHECK(key_of(*f).spki_sha256 == k.value("pgp_ed.spki"));
      CHECK(key_of(*f).pgp_fingerprint == k.gpg_ed);
      CHECK(key_of(*f).comment == "Ed Tester <ed@example.org>");
    }
  }

  TEST_CASE("secret subkeys exported without their primary report the subkey and a public keyring is not private") {
    const auto& k = keys();
    auto r = detail::parse_pgp_packets(bytes(k.text("pgp_ed_sub.gpg")));
    REQUIRE(r.has_value());
    CHECK(key_of(*r).algorithm == "x25519");
    CHECK(key_of(*r).pgp_fingerprint == k.gpg_ed_sub);
    CHECK(key_of(*r).comment == "Ed Tester <ed@example.org>");
    CHECK(detail::parse_pgp_packets(bytes(k.text("pgp_ed_pub.gpg"))).error() == make_error_code(Errc::not_private));
  }

  TEST_CASE("passphrase-protected PGP ECDSA key reports iterated S2K protection and its public facts") {
    const auto& k = keys();
    auto r = detail::parse_pgp_armor(k.text("pgp_ec_enc.asc"));
    REQUIRE(r.has_value());
    const auto& key = key_of(r->finding);
    CHECK(key.algorithm == "ec");
    CHECK(key.curve == "P-256");
    CHECK(key.encrypted);
    REQUIRE(key.protection.has_value());
    CHECK(key.protection->kdf == "s2k-iterated");
    CHECK(key.protection->cipher.starts_with("aes-"));
    CHECK(key.protection->kdf_iterations.value_or(0) >= 1024u);
    CHECK(key.spki_sha256 == k.value("pgp_ec_enc.spki"));
    CHECK(key.pgp_fingerprint == k.gpg_ec);
  }

  TEST_CASE("PGP armor with a wrong CRC, a cut or a missing END line fails cleanly") {
    const auto& k = keys();
    const std::string text = k.text("pgp_ed.asc");
    every_prefix_fails(text, [](std::string_view s) { return detail::parse_pgp_armor(s); });
    const auto crc = text.find("\n=");
    if (crc != std::string::npos) {
      std::string bad = text;
      bad[crc + 2] = bad[crc + 2] == 'A' ? 'B' : 'A';
      CHECK(detail::parse_pgp_armor(bad).error() == make_error_code(Errc::bad_encoding));
    }
    const std::string binary = k.text("pgp_ed.gpg");
    // Cuts inside the secret-key packet fail; the packet is the first one.
    const std::size_t first_len = 2 + static_cast<unsigned char>(binary[1]);
    for (std::size_t cut = 0; cut < first_len; ++cut)
      if (detail::parse_pgp_packets(bytes(binary.substr(0, cut))).has_value())
        FAIL_CHECK("binary prefix " << cut << " parsed");
    CHECK(detail::parse_pgp_packets(bytes("\x99\x00\x01")).error() == make_error_code(Errc::truncated));
  }

}  // TEST_SUITE

TEST_SUITE("jwk and xml") {
  TEST_CASE("private and public RSA JWKs built from an OpenSSL key report its size and SPKI") {
    const auto& k = keys();
    EVP_PKEY* pkey = read_pem(k, "rsa_pem");
    const std::string n = base64url(bn_param(pkey, OSSL_PKEY_PARAM_RSA_N));
    const std::string e = base64url(bn_param(pkey, OSSL_PKEY_PARAM_RSA_E));
    const std::string d = base64url(bn_param(pkey, OSSL_PKEY_PARAM_RSA_D));
    EVP_PKEY_free(pkey);
    const std::string pub = R"({"kty":"RSA","kid":"k1","n":")" + n + R"(","e":")" + e + R"("})";
    const std::string priv = R"({"kty":"RSA","n":")" + n + R"(","e":")" + e + R"(","d":")" + d + R"("})";
    auto rp = detail::parse_jwk(priv);
    REQUIRE(rp.has_value());
    CHECK(rp->kind == Kind::private_key);
    CHECK(rp->rule == "private-key/jwk");
    CHECK(rp->format == Format::jwk);
    CHECK(key_of(*rp).algorithm == "rsa");
    CHECK(key_of(*rp).bits == 2048u);
    CHECK(key_of(*rp).spki_sha256 == k.value("rsa.spki"));
    check_identity(*rp);
    auto ru = detail::parse_jwk(pub);
    REQUIRE(ru.has_value());
    CHECK(ru->kind == Kind::public_key);
    CHECK(ru->rule == "public-key/jwk");
    CHECK(key_of(*ru).spki_sha256 == k.value("rsa.spki"));
  }

  TEST_CASE("EC and OKP JWKs built from OpenSSL keys report curve and SPKI") {
    const auto& k = keys();
    {
      EVP_PKEY* pkey = read_pem(k, "ec384.pem");
      const std::string x = base64url(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 48));
      const std::string y = base64url(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 48));
      const std::string d = base64url(bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, 48));
      EVP_PKEY_free(pkey);
      auto r =
          detail::parse_jwk(R"({"kty":"EC","crv":"P-384","x":")" + x + R"(","y":")" + y + R"(","d":")" + d + R"("})");
      REQUIRE(r.has_value());
      CHECK(r->kind == Kind::private_key);
      CHECK(key_of(*r).algorithm == "ec");
      CHECK(key_of(*r).curve == "P-384");
      CHECK(key_of(*r).spki_sha256 == k.value("ec384.spki"));
    }
    {
      EVP_PKEY* pkey = read_pem(k, "okp.pem");
      std::uint8_t raw[32];
      std::size_t len = sizeof raw;
      REQUIRE(EVP_PKEY_get_raw_public_key(pkey, raw, &len) == 1);
      EVP_PKEY_free(pkey);
      auto r = detail::parse_jwk(R"({"kty":"OKP","crv":"Ed25519","x":")" + base64url(std::span(raw, len)) + R"("})");
      REQUIRE(r.has_value());
      CHECK(r->kind == Kind::public_key);
      CHECK(key_of(*r).algorithm == "ed25519");
      CHECK(key_of(*r).spki_sha256 == k.value("okp.spki"));
    }
  }

  TEST_CASE("symmetric, malformed and oversized JWKs are rejected") {
    CHECK(detail::parse_jwk(R"({"kty":"oct","k":"AAAA"})").error() == make_error_code(Errc::unsupported));
    CHECK(detail::parse_jwk(R"({"kty":"RSA","n":)").error() == make_error_code(Errc::bad_encoding));
    CHECK(detail::parse_jwk(R"({"kty":"RSA","e":"AQAB"})").error() == make_error_code(Errc::bad_structure));
    CHECK(detail::parse_jwk(R"({"kty":"EC","crv":"P-256","x":"AA","y":5})").error() ==
          make_error_code(Errc::bad_structure));
    CHECK(detail::parse_jwk(R"(["kty"])").error() == make_error_code(Errc::bad_structure));
    CHECK(detail::parse_jwk(std::string(1024 * 1024 + 1, ' ')).error() == make_error_code(Errc::too_large));
  }

  TEST_CASE("RSAKeyValue XML with D is a private key, without it a public key, both with the SPKI") {
    const auto& k = keys();
    EVP_PKEY* pkey = read_pem(k, "rsa_pem");
    const std::string n = detail::base64_encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_N));
    const std::string e = detail::base64_encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_E));
    const std::string d = detail::base64_encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_D));
    EVP_PKEY_free(pkey);
    const std::string wrapped_n = n.substr(0, 40) + "\r\n  " + n.substr(40);
    const std::string priv = "<RSAKeyValue><Modulus>" + wrapped_n + "</Modulus><Exponent>" + e +
                             "</Exponent><P>x</P><DP>x</DP><D>" + d + "</D></RSAKeyValue>";
    auto r = detail::parse_xml_rsa(priv + "</root>");
    REQUIRE(r.has_value());
    CHECK(r->consumed == priv.size());
    CHECK(r->finding.kind == Kind::private_key);
    CHECK(r->finding.rule == "private-key/xml-rsa");
    CHECK(r->finding.format == Format::xml_rsa);
    CHECK(key_of(r->finding).bits == 2048u);
    CHECK(key_of(r->finding).spki_sha256 == k.value("rsa.spki"));
    const std::string pub = "<RSAKeyValue><Modulus>" + n + "</Modulus><Exponent>" + e + "</Exponent></RSAKeyValue>";
    auto p = detail::parse_xml_rsa(pub);
    REQUIRE(p.has_value());
    CHECK(p->finding.kind == Kind::public_key);
    CHECK(p->finding.rule == "public-key/xml-rsa");
    every_prefix_fails(priv, [](std::string_view s) { return detail::parse_xml_rsa(s); });
    CHECK(detail::parse_xml_rsa("<RSAKeyValue><Modulus>@@</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>").error() ==
          make_error_code(Errc::bad_encoding));
  }

}  // TEST_SUITE
