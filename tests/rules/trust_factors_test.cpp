// SPDX-License-Identifier: Apache-2.0
// Trust factors that raise what is real (issue 13): valid-now, recently-modified,
// in-git-repository, the CA-key rule, and the order across tiers that rules::sort_by_rank gives.
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rank.hpp>
#include <keyward/rules/rule_error.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/generated_dir.hpp>
#include <support/keygen.hpp>
#include <support/temp_tree.hpp>

#include <cstdlib>

using keyward::rules::RuleSet;
using keyward::rules::ScoreContext;
using keyward::scanner::Finding;
using keyward::scanner::ScanResult;
using namespace keyward::test;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = 1790000000;  // 2026-09-21, context()'s now

ScanResult scored(std::vector<Finding> findings, const ScoreContext& ctx = context()) {
  ScanResult r;
  r.findings = std::move(findings);
  keyward::rules::score(r, RuleSet::builtin(), ctx);
  return r;
}

// A key and a (non code-signing, CA-issued) certificate for it, valid from `from` to `to`.
ScanResult key_with_cert(std::int64_t from, std::int64_t to, bool code_signing = false) {
  Finding key = key_finding("/srv/app/tls.key", false);
  Finding cert = cert_finding("/srv/app/tls.crt", key.key->spki_sha256, from, to, code_signing, false);
  pair(key, cert);
  return scored({key, cert});
}

// Runs a shell command in dir; fails the test when it fails.
void sh(const std::string& dir, const std::string& cmd) {
  const std::string full = "cd " + shell_quote(dir) + " && (" + cmd + ") >/dev/null 2>&1 </dev/null";
  REQUIRE_MESSAGE(std::system(full.c_str()) == 0, cmd);
}

// Scans a tree that stands for "/" (so /tmp is not a shared location) and scores it.
ScanResult scan_scored(const TempTree& tree) {
  ScanResult r = scan_tree(tree.path());
  ScoreContext ctx;
  ctx.virtual_root = true;
  keyward::rules::score(r, RuleSet::builtin(), ctx);
  return r;
}

const char* const kNewEcKey = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

}  // namespace

TEST_CASE("valid-now: a key whose certificate is valid today, counted once for code signing") {
  CHECK(has_factor(key_with_cert(kNow - 10 * kDay, kNow + 300 * kDay).findings[0], "valid-now"));
  CHECK_FALSE(has_factor(key_with_cert(kNow - 300 * kDay, kNow - 10 * kDay).findings[0], "valid-now"));
  CHECK_FALSE(has_factor(key_with_cert(kNow + 10 * kDay, kNow + 300 * kDay).findings[0], "valid-now"));
  // A valid code-signing certificate says so with code-signing-valid, not twice.
  const auto signing = key_with_cert(kNow - 10 * kDay, kNow + 300 * kDay, true);
  CHECK(has_factor(signing.findings[0], "code-signing-valid"));
  CHECK_FALSE(has_factor(signing.findings[0], "valid-now"));
  // The certificate itself stays inventory.
  CHECK_FALSE(has_factor(key_with_cert(kNow - 10 * kDay, kNow + 300 * kDay).findings[1], "valid-now"));
  // It raises the key's rank over the same key with an expired certificate.
  const int valid = key_with_cert(kNow - 10 * kDay, kNow + 300 * kDay).findings[0].risk->raw;
  const int expired = key_with_cert(kNow - 300 * kDay, kNow - 10 * kDay).findings[0].risk->raw;
  CHECK(valid > expired);
}

TEST_CASE("recently-modified: a key file changed within the window (30 days by default, settable)") {
  auto with_mtime = [](std::int64_t mtime, int days = 30) {
    Finding key = key_finding("/home/alice/.ssh/id_rsa", false);
    key.file.mtime = mtime;
    ScoreContext ctx = context();
    ctx.recent_days = days;
    return scored({key}, ctx).findings[0];
  };
  const Finding fresh = with_mtime(kNow - 2 * kDay);
  REQUIRE(has_factor(fresh, "recently-modified"));
  CHECK(factor(fresh, "recently-modified")->why.find("2 days ago") != std::string::npos);
  CHECK_FALSE(has_factor(with_mtime(kNow - 100 * kDay), "recently-modified"));
  CHECK(has_factor(with_mtime(kNow - 100 * kDay, 120), "recently-modified"));
  CHECK_FALSE(has_factor(with_mtime(0), "recently-modified"));  // mtime unknown
  // A certificate is inventory: its age adds nothing.
  Finding cert =
      cert_finding("/srv/app/tls.crt", std::string(64, 'b'), kNow - 10 * kDay, kNow + 300 * kDay, false, true);
  cert.file.mtime = kNow - kDay;
  CHECK_FALSE(has_factor(scored({cert}).findings[0], "recently-modified"));
}

TEST_CASE("in-git-repository: a blob from history or a file the context says git tracks") {
  Finding from_history = key_finding("/repo/deploy/id_rsa", false);
  from_history.git = keyward::scanner::GitFacts{std::string(40, 'a'), kNow - 400 * kDay};
  const auto r = scored({from_history});
  REQUIRE(has_factor(r.findings[0], "in-git-repository"));
  CHECK(factor(r.findings[0], "in-git-repository")->why.find("aaaaaaaaaaaa") != std::string::npos);

  Finding tracked = key_finding("/repo/keys/tracked.pem", false, 0600, std::string(64, '1'));
  Finding untracked = key_finding("/repo/keys/untracked.pem", false, 0600, std::string(64, '2'));
  ScoreContext ctx = context();
  std::vector<std::string> asked;
  ctx.git_tracked = [&asked](const std::string& path) {
    asked.push_back(path);
    return path == "/repo/keys/tracked.pem";
  };
  const auto r2 = scored({tracked, untracked, from_history}, ctx);
  CHECK(has_factor(r2.findings[0], "in-git-repository"));
  CHECK_FALSE(has_factor(r2.findings[1], "in-git-repository"));
  CHECK(has_factor(r2.findings[2], "in-git-repository"));
  // Asked once per file on disk; a history blob carries its commit and is not asked about.
  CHECK(asked == std::vector<std::string>{"/repo/keys/tracked.pem", "/repo/keys/untracked.pem"});
}

TEST_CASE("ca-key: openssl req -x509's default CA:TRUE leaf is not a CA key, a CA that issued a seen certificate is") {
  TempTree tree;
  sh(tree.path(), "mkdir leaf && openssl req -x509 " + std::string(kNewEcKey) +
                      " -keyout leaf/dev.key -out leaf/dev.crt -subj /CN=dev.example -days 30");
  sh(tree.path(), "mkdir ca && openssl req -x509 " + std::string(kNewEcKey) +
                      " -keyout ca/root.key -out ca/root.crt -subj '/CN=Example Root CA' -days 30");
  ScanResult before = scan_scored(tree);
  const Finding* leaf = find(before, "leaf/dev.key", "private-key/");
  const Finding* root = find(before, "ca/root.key", "private-key/");
  REQUIRE(leaf != nullptr);
  REQUIRE(root != nullptr);
  REQUIRE(!leaf->paired_with.empty());  // its certificate was seen, and is CA:TRUE
  CHECK_FALSE(has_factor(*leaf, "ca-key"));
  CHECK_FALSE(has_factor(*root, "ca-key"));  // the same shape, nothing issued yet

  // The root issues a server certificate that the scan sees: now its key is a CA key.
  sh(tree.path() + "/ca", "openssl req -new " + std::string(kNewEcKey) +
                              " -keyout srv.key -out srv.csr -subj /CN=srv.example && openssl x509 -req -in srv.csr "
                              "-CA root.crt -CAkey root.key -CAcreateserial -out srv.crt -days 30 && rm srv.csr");
  ScanResult after = scan_scored(tree);
  root = find(after, "ca/root.key", "private-key/");
  REQUIRE(root != nullptr);
  REQUIRE(has_factor(*root, "ca-key"));
  CHECK(factor(*root, "ca-key")->why.find("Example Root CA") != std::string::npos);
  CHECK(has_factor(*root, "policy/ca-keys"));  // and the policy makes it at least high
  const Finding* srv = find(after, "ca/srv.key", "private-key/");
  REQUIRE(srv != nullptr);
  CHECK_FALSE(has_factor(*srv, "ca-key"));
  leaf = find(after, "leaf/dev.key", "private-key/");
  REQUIRE(leaf != nullptr);
  CHECK_FALSE(has_factor(*leaf, "ca-key"));
}

TEST_CASE("ca-key: an intermediate CA with keyCertSign is a CA key even when nothing it issued is seen") {
  TempTree tree;
  const std::string ext = "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > ext";
  sh(tree.path(), ext + " && openssl req -x509 " + std::string(kNewEcKey) +
                      " -keyout root.key -out root.crt -subj '/CN=Offline Root' -days 30 && openssl req -new " +
                      kNewEcKey +
                      " -keyout issuing.key -out issuing.csr -subj '/CN=Issuing CA' && openssl x509 -req -in "
                      "issuing.csr -CA root.crt -CAkey root.key -CAcreateserial -extfile ext -out issuing.crt "
                      "-days 30 && mkdir sub && mv issuing.key issuing.crt sub/ && rm -f root.* issuing.csr ext");
  ScanResult r = scan_scored(tree);
  const Finding* issuing = find(r, "sub/issuing.key", "private-key/");
  REQUIRE(issuing != nullptr);
  REQUIRE(!issuing->paired_with.empty());
  CHECK(has_factor(*issuing, "ca-key"));
}

TEST_CASE("ranking across tiers: a CA-issued code-signing key in a CI workspace comes before a key in ~/.ssh") {
  TempTree tree;
  // The CI workspace's signing key and its CA-issued code-signing certificate; a personal SSH
  // key in its owner's home; a passphrase-protected fixture in a test directory.
  const auto& signing = rsa_2048();
  tree.write("var/lib/jenkins/workspace/app/signing.key", pkcs8_pem(signing), 0600);
  tree.write("var/lib/jenkins/workspace/app/signing.crt",
             certificate_pem(signing, ec_p256(), "Release Signing", "codeSigning", -1, 365), 0644);
  const auto home_key = generate("ED25519");
  tree.write("home/alice/.ssh/id_ed25519", pkcs8_pem(home_key), 0600);
  tree.write("home/alice/src/app/tests/fixture.key", pkcs8_pem(generate("ED25519"), "fixture-pass"), 0600);
  ScanResult r = scan_tree(tree.path());
  // The scanner reports the test's own user; the key belongs to alice, whose home it is in.
  for (auto& f : r.findings)
    if (f.location.path.find("/home/alice/") != std::string::npos) f.file.owner = "alice";
  ScoreContext ctx;
  ctx.virtual_root = true;
  keyward::rules::score(r, RuleSet::builtin(), ctx);
  // Scan order (path) puts home/ before var/: the ranking must reorder it.
  std::vector<Finding> keys;
  for (const auto& f : r.findings)
    if (f.holds_private_key()) keys.push_back(f);
  REQUIRE(keys.size() == 3);
  keyward::rules::sort_by_rank(keys);
  CHECK(keys[0].location.path.find("signing.key") != std::string::npos);
  CHECK(keys[1].location.path.find(".ssh/id_ed25519") != std::string::npos);
  CHECK(keys[2].location.path.find("fixture.key") != std::string::npos);
  CHECK(has_factor(keys[0], "shared-location"));
  CHECK(has_factor(keys[0], "code-signing-ca-issued"));
  CHECK(keys[0].risk->severity == "critical");
  CHECK(keys[1].risk->severity == "high");
}

TEST_CASE("two keys both at the cap of 100 come out in the order of their raw sums") {
  // The same valid CA-issued code-signing key: world-readable in a CI workspace, and private in
  // its owner's home. Both clip to 100; the exposed one has the larger raw sum.
  auto signing_key = [](const std::string& dir, std::uint32_t mode, char spki) {
    Finding key = key_finding(dir + "/sign.key", false, mode, std::string(64, spki));
    Finding cert =
        cert_finding(dir + "/sign.crt", key.key->spki_sha256, kNow - 10 * kDay, kNow + 300 * kDay, true, false);
    cert.id += std::string(1, spki);
    pair(key, cert);
    return std::vector<Finding>{key, cert};
  };
  auto home = signing_key("/home/alice/release", 0600, '3');
  auto ci = signing_key("/var/lib/jenkins/workspace/app", 0644, '4');
  std::vector<Finding> all{home[0], home[1], ci[0], ci[1]};
  ScanResult r = scored(all);
  std::vector<Finding> keys{r.findings[0], r.findings[2]};
  REQUIRE(keys[0].risk->score == 100);
  REQUIRE(keys[1].risk->score == 100);
  REQUIRE(keys[1].risk->raw > keys[0].risk->raw);
  keyward::rules::sort_by_rank(keys);
  CHECK(keys[0].location.path == "/var/lib/jenkins/workspace/app/sign.key");
  CHECK(keys[1].location.path == "/home/alice/release/sign.key");
}

TEST_CASE("publicly-trusted: a key whose certificate chains to a root of the trust store, through seen intermediates") {
  TempTree tree;
  const std::string key = " " + std::string(kNewEcKey) + " ";
  const std::string ca_ext = "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n' > ca.ext";
  // A test root (the trust store, outside the scanned tree), an intermediate, and three keys: one
  // issued by the root, one by the intermediate, one self-signed.
  sh(tree.path(), "mkdir pki scan && cd pki && " + ca_ext + " && openssl req -x509" + key +
                      "-keyout root.key -out root.crt -subj '/CN=Test Public Root' -days 30 -addext "
                      "keyUsage=critical,keyCertSign && openssl req -new" +
                      key +
                      "-keyout int.key -out int.csr -subj '/CN=Test Issuing CA' && openssl x509 -req -in int.csr -CA "
                      "root.crt -CAkey root.key -CAcreateserial -extfile ca.ext -out ../scan/int.crt -days 30");
  sh(tree.path("pki"), "openssl req -new" + key +
                           "-keyout ../scan/direct.key -out d.csr -subj /CN=direct.example && openssl x509 -req -in "
                           "d.csr -CA root.crt -CAkey root.key -out ../scan/direct.crt -days 30");
  sh(tree.path("pki"), "openssl req -new" + key +
                           "-keyout ../scan/chained.key -out c.csr -subj /CN=chained.example && openssl x509 -req "
                           "-in c.csr -CA ../scan/int.crt -CAkey int.key -CAcreateserial -out ../scan/chained.crt "
                           "-days 30");
  sh(tree.path("scan"), "openssl req -x509" + key + "-keyout self.key -out self.crt -subj /CN=self.example -days 30");

  ScanResult r = scan_tree(tree.path("scan"));
  auto score_with = [&](const std::string& trust_file) {
    ScoreContext ctx;
    ctx.virtual_root = true;
    ctx.trust_store_file = trust_file;
    ScanResult copy = r;
    keyward::rules::score(copy, RuleSet::builtin(), ctx);
    return copy;
  };
  auto trusted = [](const ScanResult& s, const std::string& name) {
    const Finding* f = find(s, name, "private-key/");
    REQUIRE_MESSAGE(f != nullptr, name);
    REQUIRE_MESSAGE(!f->paired_with.empty(), name);
    return has_factor(*f, "publicly-trusted");
  };
  const ScanResult with_test_root = score_with(tree.path("pki/root.crt"));
  CHECK(trusted(with_test_root, "direct.key"));
  CHECK(trusted(with_test_root, "chained.key"));
  CHECK_FALSE(trusted(with_test_root, "self.key"));
  CHECK(factor(*find(with_test_root, "direct.key", "private-key/"), "publicly-trusted")->why.find("Test Public Root") !=
        std::string::npos);
  // The system store (production) does not hold a root made a moment ago.
  const ScanResult with_system = score_with("");
  CHECK_FALSE(trusted(with_system, "direct.key"));
  CHECK_FALSE(trusted(with_system, "chained.key"));
  // A trust store that cannot be read is an error, not an empty store.
  CHECK_THROWS_AS(score_with(tree.path("pki/missing.pem")), keyward::rules::RuleError);
}
