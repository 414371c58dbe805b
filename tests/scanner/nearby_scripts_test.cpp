// SPDX-License-Identifier: Apache-2.0
// Passwords on the command lines of scripts, Makefiles and CI files next to a store
// (scanner/src/nearby.cpp, docs/scan.md): `-passout pass:X`, `-storepass X` and the like are
// tried first, and a store they open names the file, never the password. The stores are made
// at test time by running those very files (openssl, keytool) with a random password.
#include "nearby.hpp"
#include "support/python_check.hpp"
#include "support/temp_tree.hpp"

#include <keyward/common/random.hpp>
#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

using namespace keyward::scanner;
using keyward::common::SecretBytes;
using keyward::scanner::detail::password_values;
namespace t = keyward::test;

namespace {

bool has(const std::vector<SecretBytes>& v, std::string_view x) {
  return std::any_of(v.begin(), v.end(), [&](const auto& s) { return s.view() == x; });
}

// 32 random hex characters: no common list holds it.
std::string strong_password() { return keyward::common::random_hex(16); }

void sh(const t::TempTree& tree, const std::string& cmd) {
  const std::string full = "cd " + t::shell_quote(tree.path()) + " && (" + cmd + ") >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(full.c_str()) == 0, cmd);
}

ScanResult run(const std::string& root) {
  ScanOptions o;
  o.roots = {root};
  o.threads = 2;
  o.passwords = {"changeit", "password"};
  return scan(o);
}

const Finding& store_at(const ScanResult& r, const std::string& path) {
  for (const auto& f : r.findings)
    if (f.kind == Kind::keystore && f.location.path == path) return f;
  FAIL("no store at " << path);
  return r.findings.front();
}

}  // namespace

TEST_CASE("password options of openssl, keytool and gpg command lines are read, expansions are not") {
  const auto v = password_values(
      "openssl pkcs12 -export -in c.pem -inkey k.pem -passout pass:Sc1pt-pw -out s.p12\n"
      "openssl pkcs12 -in s.p12 -passin 'pass:single quoted' -nokeys\n"
      "openssl pkcs12 -in s.p12 -password pass:\"double quoted\" -info\n"
      "keytool -importkeystore -srcstorepass src-pw -deststorepass 'dest pw' -destkeypass dk\n"
      "keytool -genkeypair -alias a -storepass \"ks pw\" -keypass kp-pw\n"
      "gpg --batch --passphrase gpg-pw --pinentry-mode loopback -d x.gpg\n"
      "gpg --passphrase=eq-pw -c f\n"
      "  sh \"keytool -list -keystore x.jks -storepass jenkins-pw\"\n");
  for (const char* pw : {"Sc1pt-pw", "single quoted", "double quoted", "src-pw", "dest pw", "dk", "ks pw", "kp-pw",
                         "gpg-pw", "eq-pw", "jenkins-pw"})
    CHECK_MESSAGE(has(v, pw), pw);
  CHECK(v.size() == 11);
  // Where the password is kept instead: an environment variable, a file, a shell or make
  // expansion, a CI secret, stdin, keytool's :env/:file forms, gpg's --passphrase-file.
  CHECK(password_values("openssl pkcs12 -export -passout env:STORE_SECRET -out s.p12\n"
                        "openssl pkcs12 -passin file:pw.txt -passout fd:3 -password stdin\n"
                        "keytool -list -storepass $STORE_PW -keypass ${KEY_PW} -srcstorepass \"$(cat pw)\"\n"
                        "keytool -list -deststorepass $(DEST_PW) -storepass:env PW -keypass:file kp.txt\n"
                        "keytool -list -storepass ${{ secrets.STORE_PASSWORD }} -srcstorepass %WIN_PW%\n"
                        "gpg --passphrase-file pw.txt --passphrase `cat pw` -storepass\n"
                        "openssl rsa -passout pass: -out x\n")
            .empty());
}

TEST_CASE("a PKCS#12 made by the generate-certs.sh beside it is opened by that script's password") {
  t::TempTree tree;
  const std::string pw = strong_password();
  tree.write("certs/generate-certs.sh",
             "#!/bin/sh\nset -e\n"
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem "
             "-days 30 -subj /CN=svc\n"
             "openssl pkcs12 -export -inkey key.pem -in cert.pem -name svc -passout pass:" +
                 pw + " -out server.p12\nrm key.pem\n");
  // A script that keeps its password in the environment gives none.
  tree.write("certs/other.sh", "openssl pkcs12 -export -inkey k.pem -in c.pem -passout env:P12_SECRET -out o.p12\n");
  sh(tree, "cd certs && sh generate-certs.sh");
  const auto r = run(tree.path());
  const Finding& store = store_at(r, tree.path("certs/server.p12"));
  CHECK(store.format == Format::pkcs12);
  REQUIRE(store.store.has_value());
  CHECK(store.store->opened);
  CHECK_FALSE(store.store->weak_password);
  CHECK(store.store->password_exposed_in == tree.path("certs/generate-certs.sh"));
  CHECK(store.holds_private_key());
  const std::string json = to_json(r).dump();
  CHECK(json.find(pw) == std::string::npos);
  CHECK(json.find("generate-certs.sh") != std::string::npos);

  const auto candidates = detail::nearby_passwords(tree.path("certs/server.p12"));
  REQUIRE(candidates.size() == 1);  // other.sh gave none
  CHECK(candidates[0].source == tree.path("certs/generate-certs.sh"));
}

TEST_CASE("a JKS store made by a Makefile in a parent directory is opened by the Makefile's -storepass") {
  t::TempTree tree;
  const std::string pw = strong_password();
  tree.write("proj/Makefile",
             "KEYTOOL = keytool\n\n"
             "app/release.jks:\n"
             "\t$(KEYTOOL) -genkeypair -noprompt -storetype JKS -keystore $@ -alias release -keyalg EC -groupname "
             "secp256r1 -dname CN=release -validity 30 -storepass " +
                 pw + " -keypass " + pw + "\n");
  sh(tree, "mkdir -p proj/app && make -s -C proj app/release.jks");
  const auto r = run(tree.path());
  const Finding& store = store_at(r, tree.path("proj/app/release.jks"));
  CHECK(store.format == Format::jks);
  REQUIRE(store.store.has_value());
  CHECK(store.store->opened);
  CHECK_FALSE(store.store->weak_password);
  CHECK(store.store->password_exposed_in == tree.path("proj/Makefile"));
  REQUIRE(store.entries.size() == 1);
  REQUIRE(store.entries[0].key.has_value());
  CHECK(store.entries[0].key->password_exposed_in == tree.path("proj/Makefile"));
  CHECK(to_json(r).dump().find(pw) == std::string::npos);
}

TEST_CASE("GitHub workflows and scripts are read in the store's directory and its parents, by name order") {
  t::TempTree tree;
  tree.write("repo/.github/workflows/release.yml",
             "jobs:\n  sign:\n    steps:\n      - run: keytool -importkeystore -deststorepass wf-pw -srcstorepass "
             "${{ secrets.SRC }}\n");
  tree.write("repo/android/app/build.sh", "openssl pkcs12 -in a.p12 -passin pass:build-pw -info\n");
  tree.write("repo/android/app/notes.txt", "keytool -storepass not-read\n");
  const auto found = detail::nearby_passwords(tree.path("repo/android/app/release.p12"));
  REQUIRE(found.size() == 2);
  CHECK(found[0].password.view() == "build-pw");
  CHECK(found[0].source == tree.path("repo/android/app/build.sh"));
  CHECK(found[1].password.view() == "wf-pw");
  CHECK(found[1].source == tree.path("repo/.github/workflows/release.yml"));
}
