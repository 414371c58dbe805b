// SPDX-License-Identifier: Apache-2.0
// keyward::common atomic and exclusive writes: content, mode, no leftovers, symlinks refused,
// and the old file kept when a write fails.
#include <doctest/doctest.h>

#include <keyward/common/atomic_file.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace keyward::common;

namespace {

// A fresh directory under TMPDIR, removed with its files at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/keyward-common-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    for (const auto& n : names()) ::unlink((path + "/" + n).c_str());
    ::chmod(path.c_str(), 0700);
    ::rmdir(path.c_str());
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path.c_str())) {
      while (const dirent* e = ::readdir(d))
        if (std::string n = e->d_name; n != "." && n != "..") out.push_back(n);
      ::closedir(d);
    }
    return out;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("an atomic write creates or replaces the file with the asked mode and leaves no temporary") {
  TempDir t;
  const std::string path = t.path + "/state.json";
  write_file_atomic(path, "first", 0600);
  CHECK(slurp(path) == "first");
  CHECK(mode_of(path) == 0600);
  write_file_atomic(path, "second, longer", 0644);
  CHECK(slurp(path) == "second, longer");
  CHECK(mode_of(path) == 0644);  // fchmod: the umask does not narrow it
  CHECK(t.names() == std::vector<std::string>{"state.json"});
}

TEST_CASE("an atomic write refuses a symlinked target and leaves the link's target alone") {
  TempDir t;
  const std::string target = t.path + "/target";
  const std::string link = t.path + "/link";
  write_file_atomic(target, "keep me", 0600);
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  CHECK_THROWS_WITH_AS(write_file_atomic(link, "replaced", 0600), doctest::Contains("symbolic link"),
                       std::runtime_error);
  CHECK(slurp(target) == "keep me");
  struct stat st {};
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(t.names().size() == 2);  // no temporary left
}

TEST_CASE("a failed atomic write keeps the old file and removes its temporary") {
  if (::geteuid() == 0) return;  // root writes into a read-only directory; nothing to check
  TempDir t;
  const std::string path = t.path + "/state.json";
  write_file_atomic(path, "old", 0600);
  REQUIRE(::chmod(t.path.c_str(), 0500) == 0);  // no new names in the directory
  CHECK_THROWS_WITH_AS(write_file_atomic(path, "new", 0600), doctest::Contains(t.path.c_str()), std::runtime_error);
  ::chmod(t.path.c_str(), 0700);
  CHECK(slurp(path) == "old");
  CHECK(t.names() == std::vector<std::string>{"state.json"});
}

TEST_CASE("a failed rename keeps the old entry and removes the temporary") {
  TempDir t;
  const std::string dir_target = t.path + "/occupied";
  REQUIRE(::mkdir(dir_target.c_str(), 0700) == 0);  // rename(2) of a file over a directory fails
  CHECK_THROWS_WITH_AS(write_file_atomic(dir_target, "data", 0600), doctest::Contains("cannot rename into"),
                       std::runtime_error);
  struct stat st {};
  REQUIRE(::lstat(dir_target.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(t.names() == std::vector<std::string>{"occupied"});
  ::rmdir(dir_target.c_str());
}

TEST_CASE("an exclusive write creates a new file but never overwrites one nor follows a symlink") {
  TempDir t;
  const std::string path = t.path + "/ca.key";
  write_file_exclusive(path, "secret-free test text", 0600);
  CHECK(slurp(path) == "secret-free test text");
  CHECK(mode_of(path) == 0600);
  CHECK_THROWS_AS(write_file_exclusive(path, "other", 0600), std::runtime_error);
  CHECK(slurp(path) == "secret-free test text");

  const std::string dangling = t.path + "/dangling";
  REQUIRE(::symlink((t.path + "/elsewhere").c_str(), dangling.c_str()) == 0);
  CHECK_THROWS_AS(write_file_exclusive(dangling, "x", 0600), std::runtime_error);
  struct stat st {};
  CHECK(::lstat((t.path + "/elsewhere").c_str(), &st) != 0);  // nothing created through the link
}

TEST_CASE("fsync of a missing directory names it") {
  CHECK_THROWS_WITH_AS(fsync_dir("/nonexistent-keyward-dir"), doctest::Contains("/nonexistent-keyward-dir"),
                       std::runtime_error);
}

TEST_CASE("a file written in parts replaces the old one only on commit, and an abandoned one leaves no trace") {
  TempDir t;
  const std::string path = t.path + "/scan.cache";
  write_file_atomic(path, "old", 0600);
  {
    AtomicFile f(path, 0600);
    f.write("new ");
    f.write("contents");
    CHECK(slurp(path) == "old");  // readers see the old file until commit
    CHECK(t.names().size() == 2);
    f.commit();
    CHECK_THROWS_AS(f.write("more"), std::logic_error);
  }
  CHECK(slurp(path) == "new contents");
  CHECK(t.names() == std::vector<std::string>{"scan.cache"});
  {
    AtomicFile f(path, 0600);
    f.write("half");
  }  // destroyed uncommitted, as when an exception is on its way
  CHECK(slurp(path) == "new contents");
  CHECK(t.names() == std::vector<std::string>{"scan.cache"});
}

TEST_CASE("a file committed as new is put where nothing is, and refused where a file or link is") {
  TempDir t;
  const std::string path = t.path + "/agent.key";
  {
    AtomicFile f(path, 0600);
    f.write("made here");
    f.sync();
    CHECK(t.names().size() == 1);  // only the temporary until commit
    f.commit_new();
    CHECK_THROWS_AS(f.sync(), std::logic_error);
  }
  CHECK(slurp(path) == "made here");
  CHECK(mode_of(path) == 0600);
  CHECK(t.names() == std::vector<std::string>{"agent.key"});
  {
    AtomicFile f(path, 0600);
    f.write("another");
    CHECK_THROWS_WITH_AS(f.commit_new(), doctest::Contains(path.c_str()), std::runtime_error);
  }
  CHECK(slurp(path) == "made here");
  CHECK(t.names() == std::vector<std::string>{"agent.key"});  // its temporary is gone

  const std::string dangling = t.path + "/dangling";
  REQUIRE(::symlink((t.path + "/elsewhere").c_str(), dangling.c_str()) == 0);
  CHECK_THROWS_AS(AtomicFile(dangling, 0600), std::runtime_error);
}
