// SPDX-License-Identifier: Apache-2.0
// Password lists (rules/include/keyward/rules/passwords.hpp): one password a line, comments and
// CRs dropped; the file's bytes and every password live in common::SecretBytes, watched through
// std::pmr's default resource (tests/support/watching_resource.hpp) to come back zero.
#include <keyward/rules/passwords.hpp>
#include <keyward/scanner/scan.hpp>

#include <support/python_check.hpp>
#include <support/temp_tree.hpp>
#include <support/watching_resource.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace t = keyward::test;

TEST_CASE("a password file gives one password a line and its bytes and passwords are wiped when dropped") {
  t::TempTree tree;
  const std::string file =
      tree.write("team-passwords.txt", "# release keys\r\nhunter2\r\n\nS3cret pass phrase\n#x\n", 0600);
  t::WatchingResource heap;
  {
    const t::ScopedDefaultResource scope(&heap);
    const auto passwords = keyward::rules::load_passwords(file);
    REQUIRE(passwords.size() == 2);
    CHECK(passwords[0].view() == "hunter2");
    CHECK(passwords[1].view() == "S3cret pass phrase");
  }
  CHECK(heap.allocations >= 3);                  // the file's bytes and each password
  CHECK(heap.all_wiped_with_one_of(64 * 1024));  // the read buffer, a chunk at least
}

TEST_CASE("a password file that cannot be read is named in the error") {
  CHECK_THROWS_WITH_AS(keyward::rules::load_passwords("/nonexistent/keyward-passwords.txt"),
                       doctest::Contains("/nonexistent/keyward-passwords.txt"), std::runtime_error);
}

namespace {

// Makes `name`.p12 in `dir` with openssl (an EC key, a self-signed certificate) under `password`.
void make_p12(const t::TempTree& tree, const std::string& dir, const std::string& name, const std::string& password) {
  const std::string cmd = "cd " + t::shell_quote(tree.path()) + " && mkdir -p " + dir + " && cd " + dir +
                          " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem "
                          "-out c.pem -days 30 -subj /CN=t >/dev/null 2>&1 && openssl pkcs12 -export -inkey k.pem "
                          "-in c.pem -passout pass:" +
                          t::shell_quote(password) + " -out " + name + ".p12 && rm k.pem c.pem";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// A scan with the built-in list and the default budget, as `keyward scan` runs it.
keyward::scanner::ScanResult scan_with_builtin(const std::string& root) {
  keyward::scanner::ScanOptions o;
  o.roots = {root};
  o.threads = 2;
  o.passwords = keyward::common::SecretList(keyward::rules::builtin_passwords());
  return keyward::scanner::scan(o);
}

}  // namespace

TEST_CASE("stores under the passwords test suites and tutorials use are opened as weak") {
  t::TempTree tree;
  const std::vector<std::string> names = {"testpass", "example", "foo", "notasecret"};
  for (const auto& pw : names) make_p12(tree, "s", pw, pw);
  const auto r = scan_with_builtin(tree.path());
  std::size_t stores = 0;
  for (const auto& f : r.findings) {
    if (f.kind != keyward::scanner::Kind::keystore) continue;
    ++stores;
    REQUIRE(f.store.has_value());
    CHECK_MESSAGE(f.store->opened, f.location.path);
    CHECK(f.store->weak_password);
    CHECK(f.store->password_exposed_in.empty());
  }
  CHECK(stores == names.size());
}

TEST_CASE("the whole common list is tried even after the most candidates a store's neighbours can give") {
  const auto list = keyward::rules::builtin_passwords();
  REQUIRE(list.size() >= 2);
  t::TempTree tree;
  // A store under the list's last password, beside a script giving as many wrong candidates as
  // nearby files may (32): they are tried first, then the empty password, then the list.
  const std::string last(list.back().view());
  make_p12(tree, "app", "last", last);
  std::string script;
  for (int i = 0; i < 40; ++i) script += "keytool -list -keystore x.jks -storepass wrong-" + std::to_string(i) + "\n";
  tree.write("app/gen.sh", script);
  const auto r = scan_with_builtin(tree.path());
  REQUIRE(r.findings.size() == 1);
  REQUIRE(r.findings[0].store.has_value());
  CHECK(r.findings[0].store->opened);
  CHECK(r.findings[0].store->weak_password);
}
