// Password lists (rules/include/keyward/rules/passwords.hpp): one password a line, comments and
// CRs dropped; the file's bytes and every password live in common::SecretBytes, watched through
// std::pmr's default resource (tests/support/watching_resource.hpp) to come back zero.
#include <keyward/rules/passwords.hpp>

#include <support/temp_tree.hpp>
#include <support/watching_resource.hpp>

#include <doctest/doctest.h>

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
