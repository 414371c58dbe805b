// SPDX-License-Identifier: Apache-2.0
// The weak-key-protection factor (rules/factors.yaml): a key encrypted with an ECB mode, single
// DES or RC2 ranks before the same kind of key under AES-CBC. Keys are written at test time in
// OpenSSL's legacy PEM form (tests/support/legacy_pem.hpp) and scanned from a temporary tree.
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rank.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/keygen.hpp>
#include <support/legacy_pem.hpp>
#include <support/temp_tree.hpp>

using keyward::rules::RuleSet;
using keyward::scanner::Finding;
using keyward::scanner::ScanResult;
using namespace keyward::test;

TEST_CASE("a legacy PEM key under an ECB, DES or RC2 cipher ranks before the same key under AES-CBC") {
  const std::string der = private_der(rsa_2048(), false);
  TempTree tree;
  tree.write("srv/app/cbc.key", traditional_pem(rsa_2048(), "fixture-pass"), 0600);  // AES-128-CBC
  tree.write("srv/app/aes-ecb.key",
             legacy_pem("RSA PRIVATE KEY", der, "AES-128-ECB", "0011223344556677", "fixture-pass", true), 0600);
  tree.write("srv/app/des-ecb.key",
             legacy_pem("RSA PRIVATE KEY", der, "DES-ECB", "8899AABBCCDDEEFF", "fixture-pass", true), 0600);
  tree.write("srv/app/rc2-cbc.key",
             legacy_pem("RSA PRIVATE KEY", der, "RC2-CBC", "0123456789ABCDEF", "fixture-pass", false), 0600);
  ScanResult r = scan_tree(tree.path());
  keyward::rules::score(r, RuleSet::builtin(), context());

  const Finding* cbc = find(r, "/cbc.key", "private-key/legacy-encrypted");
  REQUIRE(cbc != nullptr);
  REQUIRE(cbc->risk);
  CHECK_FALSE(has_factor(*cbc, "weak-key-protection"));
  for (const char* name : {"aes-ecb.key", "des-ecb.key", "rc2-cbc.key"}) {
    CAPTURE(name);
    const Finding* weak = find(r, std::string("/") + name, "private-key/legacy-encrypted");
    REQUIRE(weak != nullptr);
    REQUIRE(weak->risk);
    const auto* f = factor(*weak, "weak-key-protection");
    REQUIRE(f != nullptr);
    CHECK(f->points > 0);
    CHECK(f->why.find(weak->key->protection->cipher) != std::string::npos);
    CHECK(weak->risk->score > cbc->risk->score);
    CHECK(keyward::rules::ranks_before(*weak, *cbc));
    CHECK_FALSE(keyward::rules::ranks_before(*cbc, *weak));
  }
}
