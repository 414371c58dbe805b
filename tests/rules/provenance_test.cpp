// SPDX-License-Identifier: Apache-2.0
// Provenance factors (docs/rules.md, "Provenance"): package-owned (dpkg's file lists),
// vendored-dependency (rules/builtin/vendored.yaml), known-public-key
// (rules/data/known-public-keys.txt), and the cap at low that --show-vendor lifts.
#include <keyward/rules/engine.hpp>
#include <keyward/rules/package_index.hpp>
#include <keyward/rules/rule_error.hpp>
#include <keyward/rules/severity.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/keygen.hpp>
#include <support/temp_tree.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using keyward::rules::PackageIndex;
using keyward::rules::RuleSet;
using keyward::rules::ScoreContext;
using keyward::rules::Severity;
using keyward::scanner::Finding;
using keyward::scanner::ScanResult;
using namespace keyward::test;

namespace {

ScanResult scored(std::vector<Finding> findings, const ScoreContext& ctx, const RuleSet& rules = RuleSet::builtin()) {
  ScanResult r;
  r.findings = std::move(findings);
  keyward::rules::score(r, rules, ctx);
  return r;
}

Severity severity_of(const Finding& f) { return *keyward::rules::parse_severity(f.risk->severity); }

// A fake dpkg info directory: two packages' file lists.
void write_fake_dpkg(const TempTree& db) {
  db.write("libfoo1:amd64.list", "/.\n/usr\n/usr/share/libfoo\n/usr/share/libfoo/tests/server.key\n");
  db.write("python3-bar.list", "/.\n/lib/python3/bar/testdata/client.pem\n/etc/bar/bar.conf\n");
  db.write("python3-bar.md5sums", "0123 /usr/share/libfoo/other.key\n");  // not a list: ignored
}

// The first line of a command's output ("" when it fails).
std::string first_line_of(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    if (std::fgets(buf, sizeof buf, p) != nullptr) out = buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("the package index names the package that lists a path, including merged-/usr aliases") {
  TempTree db;
  write_fake_dpkg(db);
  const PackageIndex idx = PackageIndex::load(db.path());
  CHECK(idx.lists() == 2);
  CHECK(idx.owner("/usr/share/libfoo/tests/server.key") == "libfoo1");
  CHECK(idx.owner("/etc/bar/bar.conf") == "python3-bar");
  // dpkg lists /lib/... and the scan walks /usr/lib/... (or the other way round).
  CHECK(idx.owner("/usr/lib/python3/bar/testdata/client.pem") == "python3-bar");
  CHECK(idx.owner("/usr/share/libfoo/other.key").empty());
  CHECK(idx.owner("/usr/share/libfoo/tests/server.key.bak").empty());
  CHECK(PackageIndex::load(db.path("does-not-exist")).paths() == 0);

  // Asked for a few paths only (a scan's findings), it keeps those, aliases included, and
  // answers for them as the whole index does.
  const std::vector<std::string> wanted = {"/usr/share/libfoo/tests/server.key",
                                           "/usr/lib/python3/bar/testdata/client.pem", "/usr/share/libfoo/other.key"};
  const PackageIndex few = PackageIndex::load(db.path(), &wanted);
  CHECK(few.paths() == 2);
  for (const auto& w : wanted) CHECK(few.owner(w) == idx.owner(w));
  CHECK(few.owner("/etc/bar/bar.conf").empty());  // not asked for
}

TEST_CASE("the package index agrees with dpkg -S on this machine") {
  if (!std::filesystem::exists("/var/lib/dpkg/info") || first_line_of("command -v dpkg-query").empty()) {
    MESSAGE("no dpkg on this machine: skipped");
    return;
  }
  // A file dpkg says it owns: the first regular file of the package that ships dpkg itself.
  const std::string path = first_line_of(
      "dpkg-query -L dpkg 2>/dev/null | while read -r f; do [ -f \"$f\" ] && [ ! -L \"$f\" ] && echo \"$f\" && "
      "break; done");
  REQUIRE_FALSE(path.empty());
  const std::string says = first_line_of("dpkg-query -S '" + path + "' 2>/dev/null");
  REQUIRE(says.find(": " + path) != std::string::npos);
  const std::string pkg = says.substr(0, says.find_first_of(":,"));

  const PackageIndex idx = PackageIndex::load(ScoreContext::default_package_db_dir());
  CHECK(idx.paths() > 0);
  CHECK(idx.owner(path) == pkg);
  // And a scan context with the default database calls a key at that path package-owned.
  Finding f = key_finding(path, false, 0644, std::string(64, '1'));
  ScoreContext ctx = context();
  ctx.package_db_dir = ScoreContext::default_package_db_dir();
  auto r = scored({f}, ctx);
  REQUIRE(has_factor(r.findings[0], "package-owned"));
  CHECK(factor(r.findings[0], "package-owned")->why.find(pkg) != std::string::npos);
}

TEST_CASE("a package-owned key is at most low with its raw sum kept, and --show-vendor lifts the cap") {
  TempTree db;
  write_fake_dpkg(db);
  ScoreContext ctx = context();
  ctx.package_db_dir = db.path();
  Finding owned = key_finding("/usr/share/libfoo/tests/server.key", false, 0644, std::string(64, '2'));
  Finding mine = key_finding("/home/alice/.ssh/id_rsa", false, 0600, std::string(64, '3'));
  auto r = scored({owned, mine}, ctx);
  REQUIRE(has_factor(r.findings[0], "package-owned"));
  CHECK(factor(r.findings[0], "package-owned")->points < 0);
  CHECK(factor(r.findings[0], "package-owned")->why.find("libfoo1") != std::string::npos);
  CHECK(has_factor(r.findings[0], "policy/provenance-at-most-low"));
  CHECK(severity_of(r.findings[0]) <= Severity::low);
  CHECK(keyward::rules::severity_for_score(r.findings[0].risk->score) == severity_of(r.findings[0]));
  CHECK_FALSE(has_factor(r.findings[1], "package-owned"));
  CHECK(severity_of(r.findings[1]) >= Severity::high);

  SUBCASE("without a package database nothing is package-owned") {
    ctx.package_db_dir.clear();
    CHECK_FALSE(has_factor(scored({owned}, ctx).findings[0], "package-owned"));
  }
  SUBCASE("a virtual root is not this machine's root: no lookup") {
    ctx.virtual_root = true;
    CHECK_FALSE(has_factor(scored({owned}, ctx).findings[0], "package-owned"));
  }
  SUBCASE("a remote scan's finding is another machine's file: neither package nor git lookups") {
    Finding remote = owned;
    remote.location.host = "build-1:2222";
    int asked = 0;
    ctx.git_tracked = [&asked](const std::string&) { return ++asked, true; };
    const auto both = scored({owned, remote}, ctx);
    CHECK(has_factor(both.findings[0], "package-owned"));
    CHECK(has_factor(both.findings[0], "in-git-repository"));
    CHECK_FALSE(has_factor(both.findings[1], "package-owned"));
    CHECK_FALSE(has_factor(both.findings[1], "in-git-repository"));  // same path as a tracked local file
    CHECK(asked == 1);
  }
}

TEST_CASE("vendored dependencies: package caches, vendor trees and members of library archives") {
  const ScoreContext ctx = context();
  std::vector<Finding> fs{
      key_finding("/home/alice/app/node_modules/tls/certs/key.pem", false, 0600, std::string(64, '4')),
      key_finding("/usr/lib/python3/dist-packages/lib/k.pem", false, 0600, std::string(64, '5')),
      key_finding("/home/alice/.m2/repository/org/x/1.0/k.pem", false, 0600, std::string(64, '6')),
      key_finding("/opt/app/lib/netty.jar", false, 0600, std::string(64, '7')),
      key_finding("/opt/app/image.tar", false, 0600, std::string(64, '8')),
      key_finding("/opt/app/image.tar", false, 0600, std::string(64, '9')),
      key_finding("/home/alice/.ssh/id_ed25519", false, 0600, std::string(64, 'a')),
      key_finding("/var/cache/apt/archives/libmbedtls-dev_2.28.3-1_amd64.deb", false, 0644, std::string(64, 'b')),
      key_finding("/srv/build/out/app_1.0_amd64.deb", false, 0644, std::string(64, 'c'))};
  fs[3].location.member = "META-INF/keys/test.pem";
  fs[7].location.member = "data.tar.xz!usr/share/doc/test/key.pem";  // apt's package cache: vendored
  fs[8].location.member = "data.tar.xz!etc/app/server.key";          // a package we built: not
  fs[4].location.member = "app/lib/sdk.whl!sdk/data/key.pem";        // a wheel inside an image
  fs[5].location.member = "etc/ssl/private/server.key";              // a deployment: not vendored
  fs[5].id = "id-image-deploy";
  auto r = scored(fs, ctx);
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(has_factor(r.findings[i], "vendored-dependency"));
    CHECK(severity_of(r.findings[i]) <= Severity::low);
    CHECK(r.findings[i].risk->raw > r.findings[i].risk->score);
  }
  CHECK(factor(r.findings[0], "vendored-dependency")->why.find("node_modules") != std::string::npos);
  CHECK_FALSE(has_factor(r.findings[5], "vendored-dependency"));
  CHECK_FALSE(has_factor(r.findings[6], "vendored-dependency"));
  CHECK(severity_of(r.findings[6]) >= Severity::high);
  CHECK(has_factor(r.findings[7], "vendored-dependency"));
  CHECK(severity_of(r.findings[7]) <= Severity::low);
  CHECK_FALSE(has_factor(r.findings[8], "vendored-dependency"));

  SUBCASE("--rules DIR adds vendored paths, and a broken glob names its file") {
    RuleSet rules = RuleSet::builtin();
    rules.load_text("vendored_paths: [\"*/our-mirror/*\"]\n", "team.yaml");
    auto r2 = scored({key_finding("/srv/our-mirror/lib/k.pem", false, 0600)}, ctx, rules);
    CHECK(has_factor(r2.findings[0], "vendored-dependency"));
    CHECK_FALSE(has_factor(scored({key_finding("/srv/our-mirror/lib/k.pem", false, 0600)}, ctx).findings[0],
                           "vendored-dependency"));
    try {
      rules.load_text("vendored_paths: [\"*/[oops/*\"]\n", "bad.yaml");
      FAIL("a broken glob was accepted");
    } catch (const keyward::rules::RuleError& e) {
      CHECK(e.code == "bad-glob");
      CHECK(e.file == "bad.yaml");
    }
  }
}

TEST_CASE("a key whose SPKI is on a known-public-keys.txt of --rules DIR is known-public and at most low") {
  TempTree tree;
  tree.write("home/alice/.ssh/id_ec", pkcs8_pem(ec_p256()), 0600);
  ScanResult base = scan_tree(tree.path());
  REQUIRE(base.findings.size() == 1);
  ScoreContext ctx = context();
  ScanResult plain = base;
  keyward::rules::score(plain, RuleSet::builtin(), ctx);
  CHECK_FALSE(has_factor(plain.findings[0], "known-public-key"));
  CHECK(severity_of(plain.findings[0]) >= Severity::high);

  TempTree dir;
  dir.write("known-public-keys.txt",
            "# published test keys\n" + spki_sha256(ec_p256()) + " libexample:tests/key.pem\n");
  RuleSet rules = RuleSet::builtin();
  rules.load_dir(dir.path());
  ScanResult listed = base;
  keyward::rules::score(listed, rules, ctx);
  REQUIRE(has_factor(listed.findings[0], "known-public-key"));
  CHECK(factor(listed.findings[0], "known-public-key")->why.find("libexample:tests/key.pem") != std::string::npos);
  CHECK(severity_of(listed.findings[0]) <= Severity::low);

  SUBCASE("--show-vendor keeps the band of the points") {
    ctx.show_vendor = true;
    ScanResult shown = base;
    keyward::rules::score(shown, rules, ctx);
    CHECK(has_factor(shown.findings[0], "known-public-key"));
    CHECK_FALSE(has_factor(shown.findings[0], "policy/provenance-at-most-low"));
    CHECK(keyward::rules::severity_for_score(shown.findings[0].risk->score) == severity_of(shown.findings[0]));
  }
  SUBCASE("a malformed line names its file and line") {
    TempTree bad;
    bad.write("known-public-keys.txt", "\nnot-a-fingerprint name\n");
    RuleSet r2 = RuleSet::builtin();
    try {
      r2.load_dir(bad.path());
      FAIL("a malformed list was accepted");
    } catch (const keyward::rules::RuleError& e) {
      CHECK(e.code == "bad-fingerprint");
      CHECK(e.line == 2);
    }
  }
}

TEST_CASE("the cap wins over the code-signing floor unless --show-vendor, and ordering still separates by raw") {
  TempTree tree;
  const auto& ca = rsa_2048();
  const auto& leaf = ec_p256();
  for (const char* dir : {"srv/build/signing", "home/alice/.m2/repository/org/x/1.0"}) {
    tree.write(std::string(dir) + "/release.key", pkcs8_pem(leaf), 0600);
    tree.write(std::string(dir) + "/release.crt", certificate_pem(leaf, ca, "Release Signing", "codeSigning"), 0644);
  }
  ScanResult r = scan_tree(tree.path());
  ScoreContext ctx = context();
  ctx.virtual_root = true;
  ScanResult capped = r;
  keyward::rules::score(capped, RuleSet::builtin(), ctx);
  const Finding* vendored = find(capped, ".m2/repository/org/x/1.0/release.key", "private-key/");
  const Finding* build = find(capped, "signing/release.key", "private-key/");
  REQUIRE(vendored != nullptr);
  REQUIRE(build != nullptr);
  CHECK(has_factor(*vendored, "code-signing-certificate"));
  CHECK(severity_of(*vendored) <= Severity::low);
  CHECK(severity_of(*build) >= Severity::high);

  ctx.show_vendor = true;
  keyward::rules::score(r, RuleSet::builtin(), ctx);
  vendored = find(r, ".m2/repository/org/x/1.0/release.key", "private-key/");
  REQUIRE(vendored != nullptr);
  CHECK(severity_of(*vendored) >= Severity::high);
}

TEST_CASE("the shipped known-public-keys list loads and names where each key was published") {
  const RuleSet rules = RuleSet::builtin();
  for (const auto& [spki, name] : rules.known_public_keys()) {
    CHECK(spki.size() == 64);
    CHECK_FALSE(name.empty());
  }
  // Every id the engine assigns is in the factor table (provenance included).
  for (auto id : {"package-owned", "vendored-dependency", "known-public-key"}) CHECK(rules.factor(id) != nullptr);
  CHECK(rules.policy(keyward::rules::policy_ids::kProvenanceCap) != nullptr);
}
