// SPDX-License-Identifier: Apache-2.0
// TrackedFiles against real repositories built with the git CLI in temporary directories.
// Plain text content only: the in-git-repository factor is tested end to end with keys in
// tests/integration/git_factor_test.sh.
#include "support/temp_tree.hpp"

#include <keyward/ci/tracked_files.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace t = keyward::test;

namespace {

// git with a fixed identity and no signing, whatever the user's configuration says.
void git(const std::string& dir, const std::string& args) {
  const std::string cmd = "cd '" + dir +
                          "' && export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 && git -c user.name=t "
                          "-c user.email=t@t -c commit.gpgsign=false -c init.defaultBranch=main " +
                          args + " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, args);
}

}  // namespace

TEST_CASE("tracked files: committed and staged files are tracked, untracked and ignored ones are not") {
  t::TempTree tree;
  tree.write("repo/.gitignore", "ignored.txt\n");
  tree.write("repo/src/committed.txt", "a\n");
  tree.write("repo/src/staged.txt", "b\n");
  git(tree.path("repo"), "init -q .");
  git(tree.path("repo"), "add .gitignore src/committed.txt");
  git(tree.path("repo"), "commit -q -m first");
  git(tree.path("repo"), "add src/staged.txt");
  tree.write("repo/src/untracked.txt", "c\n");
  tree.write("repo/src/ignored.txt", "d\n");
  tree.write("outside/file.txt", "e\n");
  tree.write("other/deep/er/x.txt", "f\n");
  git(tree.path("other"), "init -q .");
  git(tree.path("other"), "add deep");
  git(tree.path("other"), "commit -q -m x");

  keyward::ci::TrackedFiles files;
  CHECK(files.tracked(tree.path("repo/src/committed.txt")));
  CHECK(files.tracked(tree.path("repo/src/staged.txt")));
  CHECK_FALSE(files.tracked(tree.path("repo/src/untracked.txt")));
  CHECK_FALSE(files.tracked(tree.path("repo/src/ignored.txt")));
  CHECK(files.tracked(tree.path("repo/.gitignore")));
  CHECK(files.tracked(tree.path("other/deep/er/x.txt")));
  CHECK_FALSE(files.tracked(tree.path("other/deep/er/missing.txt")));
  // A temp directory may itself sit in a repository; this file is in none of ours either way.
  CHECK_FALSE(files.tracked(tree.path("outside/file.txt")));
  // Each repository was opened once, however many files were asked about.
  CHECK(files.repositories_opened() == 2);
}

TEST_CASE("tracked files: a linked worktree's files, and a repository another user owns, count too") {
  t::TempTree tree;
  tree.write("repo/a.txt", "a\n");
  git(tree.path("repo"), "init -q .");
  git(tree.path("repo"), "add a.txt");
  git(tree.path("repo"), "commit -q -m a");
  git(tree.path("repo"), "worktree add -q ../linked");  // linked/.git is a file naming the real one
  tree.write("linked/new.txt", "n\n");
  // As root, hand the main repository to another user, as on a root scan of /home (libgit2 would
  // refuse to open it; its index is still read).
  if (::geteuid() == 0) REQUIRE(::chown(tree.path("repo/.git/index").c_str(), 65534, 65534) == 0);
  if (::geteuid() == 0) REQUIRE(::chown(tree.path("repo/.git").c_str(), 65534, 65534) == 0);
  if (::geteuid() == 0) REQUIRE(::chown(tree.path("repo").c_str(), 65534, 65534) == 0);

  keyward::ci::TrackedFiles files;
  CHECK(files.tracked(tree.path("repo/a.txt")));
  CHECK(files.tracked(tree.path("linked/a.txt")));
  CHECK_FALSE(files.tracked(tree.path("linked/new.txt")));
}
