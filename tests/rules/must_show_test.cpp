// SPDX-License-Identifier: Apache-2.0
// Issue 13's "Must show" tree, built at test time from what this machine has: the private keys
// its packages ship (scanned where they are, so their paths really are package-owned), a copy of
// one of them, vendored keys under site-packages, node_modules and .m2, real keys in ~/.ssh and
// a CI workspace, and a CA-issued code-signing key with its certificate. Asserts bands and the
// order of keyward::rules::ranks_before, not points (docs/rules.md, "Provenance").
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rank.hpp>
#include <keyward/rules/severity.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/keygen.hpp>
#include <support/temp_tree.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

using keyward::rules::RuleSet;
using keyward::rules::ScoreContext;
using keyward::rules::Severity;
using keyward::scanner::Finding;
using keyward::scanner::ScanResult;
using namespace keyward::test;

namespace {

Severity severity_of(const Finding& f) { return *keyward::rules::parse_severity(f.risk->severity); }

bool has_provenance(const Finding& f) {
  return has_factor(f, "package-owned") || has_factor(f, "vendored-dependency") || has_factor(f, "known-public-key");
}

// Files that dpkg lists with a key-like name and that exist here (at most 64).
std::vector<std::string> package_key_files(const std::string& info_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(info_dir, ec), end; !ec && it != end && out.size() < 64; it.increment(ec)) {
    if (it->path().extension() != ".list") continue;
    std::ifstream in(it->path());
    for (std::string line; std::getline(in, line) && out.size() < 64;) {
      const auto ext = fs::path(line).extension().string();
      if (ext != ".pem" && ext != ".key") continue;
      if (fs::is_regular_file(line, ec) && !fs::is_symlink(line, ec)) out.push_back(line);
    }
  }
  return out;
}

// How many findings holding a private key a file has.
std::size_t keys_in(const ScanResult& r, const std::string& path) {
  return static_cast<std::size_t>(std::count_if(r.findings.begin(), r.findings.end(), [&](const Finding& f) {
    return f.location.path == path && f.holds_private_key();
  }));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The package-owned keys: this machine's, scanned in place, or (without dpkg or such keys) a
// generated key under a fake package database. Returns the scored result.
ScanResult package_owned_keys(const TempTree& fake) {
  ScoreContext ctx;
  ctx.now = context().now;
  std::vector<std::string> files = package_key_files(ctx.package_db_dir);
  ScanResult r;
  if (!files.empty()) {
    keyward::scanner::ScanOptions o;
    o.roots = files;
    o.threads = 1;
    r = keyward::scanner::scan(o);
  }
  const bool any_key =
      std::any_of(r.findings.begin(), r.findings.end(), [](const Finding& f) { return f.holds_private_key(); });
  if (!any_key) {
    MESSAGE("no package on this machine ships a private key: using a fake package database");
    const std::string key = fake.write("usr/share/libfake/tests/server.key", pkcs8_pem(generate("EC", "P-256")));
    fake.write("db/libfake.list", "/.\n" + key + "\n");
    ctx.package_db_dir = fake.path("db");
    r = scan_tree(fake.path("usr"));
  }
  keyward::rules::score(r, RuleSet::builtin(), ctx);
  return r;
}

}  // namespace

TEST_CASE("must show: package-owned and vendored keys stay reported at most low, real keys rank above them") {
  TempTree fake;
  const ScanResult owned = package_owned_keys(fake);
  const Finding* owned_key = nullptr;
  for (const auto& f : owned.findings) {
    if (!f.holds_private_key()) continue;
    CAPTURE(f.location.path);
    CHECK(has_factor(f, "package-owned"));
    CHECK(severity_of(f) <= Severity::low);
    if (owned_key == nullptr && f.kind == keyward::scanner::Kind::private_key && f.key && !f.key->encrypted &&
        !f.key->spki_sha256.empty() && f.location.member.empty() && keys_in(owned, f.location.path) == 1)
      owned_key = &f;
  }
  REQUIRE(owned_key != nullptr);

  TempTree tree;
  // A CA-issued code-signing key on a build host, its certificate and the CA's certificate.
  const auto ca = generate("RSA", "2048");
  const auto signing = generate("EC", "P-256");
  tree.write("srv/build/signing/release.key", pkcs8_pem(signing), 0600);
  tree.write("srv/build/signing/release.crt", certificate_pem(signing, ca, "Release Signing", "codeSigning"), 0644);
  tree.write("srv/build/ca/ca.crt", certificate_pem(ca, ca, "Build CA", nullptr, -1, 3650, true), 0644);
  // A real key in ~/.ssh, and the same key vendored in dependencies.
  const std::string ssh = pkcs8_pem(generate("ED25519"));
  tree.write("home/alice/.ssh/id_ed25519", ssh, 0600);
  const std::vector<std::string> vendored{"home/alice/app/node_modules/tls-lib/certs/server.pem",
                                          "home/alice/app/.venv/lib/python3.11/site-packages/lib/certs/key.pem",
                                          "home/alice/.m2/repository/org/example/lib/1.0/certs/key.pem"};
  for (const auto& v : vendored) tree.write(v, ssh, 0644);
  // A key in a CI workspace, and a copy of a package-owned key in a home.
  tree.write("var/lib/jenkins/workspace/app/deploy/deploy.key", pkcs8_pem(generate("EC", "P-256")), 0600);
  tree.write("home/alice/Downloads/server.key", read_file(owned_key->location.path), 0600);

  // A copy of a package's test key is known-public when the shipped list has it (built on a
  // machine like this one); else a team lists it in --rules DIR.
  RuleSet rules = RuleSet::builtin();
  if (rules.known_public_keys().count(owned_key->key->spki_sha256) == 0) {
    MESSAGE("the shipped list lacks " << owned_key->location.path << ": listing it through --rules DIR");
    tree.write("rules/known-public-keys.txt", owned_key->key->spki_sha256 + " test:copy\n");
    rules.load_dir(tree.path("rules"));
  }
  ScanResult r = scan_tree(tree.path());
  ScoreContext ctx = context();
  ctx.virtual_root = true;  // the tree stands for "/": ~/.ssh is a home, /var/lib/jenkins a CI workspace
  keyward::rules::score(r, rules, ctx);

  for (const auto& f : r.findings)
    if (has_provenance(f)) {
      CAPTURE(f.location.path);
      CHECK(severity_of(f) <= Severity::low);
    }
  const Finding* code_signing = find(r, "signing/release.key", "private-key/");
  const Finding* home = find(r, ".ssh/id_ed25519", "private-key/");
  const Finding* ci = find(r, "deploy/deploy.key", "private-key/");
  const Finding* copy = find(r, "Downloads/server.key", "private-key/");
  REQUIRE(code_signing != nullptr);
  REQUIRE(home != nullptr);
  REQUIRE(ci != nullptr);
  REQUIRE(copy != nullptr);
  CHECK(has_factor(*copy, "known-public-key"));
  CHECK(severity_of(*copy) <= Severity::low);
  CHECK(severity_of(*code_signing) >= Severity::high);
  CHECK(severity_of(*home) >= Severity::high);
  CHECK(severity_of(*ci) >= Severity::high);
  CHECK(keyward::rules::ranks_before(*code_signing, *home));
  for (const auto& v : vendored) {
    const Finding* in_vendor = find(r, v, "private-key/");
    REQUIRE_MESSAGE(in_vendor != nullptr, v);
    CHECK(has_factor(*in_vendor, "vendored-dependency"));
    CHECK(severity_of(*in_vendor) <= Severity::low);
    CHECK(keyward::rules::ranks_before(*home, *in_vendor));
    CHECK(keyward::rules::ranks_before(*ci, *in_vendor));
  }
  CHECK(keyward::rules::ranks_before(*home, *owned_key));
  CHECK(keyward::rules::ranks_before(*home, *copy));
}
