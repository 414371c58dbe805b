// SPDX-License-Identifier: Apache-2.0
// GitRepo against real repositories built with the git CLI in temporary directories.
// Plain text content only: keys are tested end to end elsewhere.
#include "support/temp_tree.hpp"

#include <keyward/ci/git_repo.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace keyward::ci;
namespace t = keyward::test;

namespace {

// Runs a shell command in dir and returns its stdout; fails the test on a non-zero exit.
std::string run(const std::string& dir, const std::string& cmd) {
  const std::string full = "cd '" + dir + "' && (" + cmd + ") 2>/dev/null";
  FILE* p = ::popen(full.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  REQUIRE_MESSAGE(status == 0, cmd);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// git with a fixed identity and no signing, whatever the user's configuration says. Exported, so
// that every git of an `a && b` chain has them: a fresh machine has no identity of its own.
std::string git(const std::string& dir, const std::string& args) {
  return run(dir,
             "export GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=test@example.invalid GIT_COMMITTER_NAME=Test "
             "GIT_COMMITTER_EMAIL=test@example.invalid GIT_CONFIG_COUNT=4 "
             "GIT_CONFIG_KEY_0=init.defaultBranch GIT_CONFIG_VALUE_0=main "
             "GIT_CONFIG_KEY_1=commit.gpgsign GIT_CONFIG_VALUE_1=false "
             "GIT_CONFIG_KEY_2=tag.gpgsign GIT_CONFIG_VALUE_2=false "
             "GIT_CONFIG_KEY_3=protocol.file.allow GIT_CONFIG_VALUE_3=always; git " +
                 args);
}

// A fresh repository on branch main in the tree's root.
void init(const t::TempTree& tree) { git(tree.path(), "init -q ."); }

void commit_all(const t::TempTree& tree, const std::string& message) {
  git(tree.path(), "add -A . && git commit -q --allow-empty -m '" + message + "'");
}

struct Seen {
  std::string path, content, commit;
  std::int64_t author_date;
};

std::vector<Seen> history(const GitRepo& repo, HistoryStats& stats, std::uint64_t max_size = 1 << 20) {
  std::vector<Seen> out;
  repo.for_each_history_blob(
      max_size,
      [&](const GitBlob& b) {
        out.push_back({b.path, b.content, b.commit, b.author_date});
      },
      stats);
  return out;
}

std::vector<Seen> with_content(const std::vector<Seen>& all, const std::string& content) {
  std::vector<Seen> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const Seen& s) { return s.content == content; });
  return out;
}

// The command between the first pair of backticks in a message.
std::string backticked(const std::string& message) {
  const auto a = message.find('`');
  const auto b = message.find('`', a + 1);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  return message.substr(a + 1, b - a - 1);
}

}  // namespace

TEST_CASE("worktree files are the tracked files plus untracked files that no gitignore excludes") {
  t::TempTree tree;
  init(tree);
  tree.write("a.txt", "tracked\n");
  tree.write(".gitignore", "*.log\nbuild/\n");
  commit_all(tree, "first");
  tree.write("staged.txt", "staged\n");
  git(tree.path(), "add staged.txt");
  tree.write("new.txt", "untracked\n");
  tree.write("sub/dir/deep.txt", "untracked and nested\n");
  tree.write("x.log", "ignored\n");
  tree.write("build/out.txt", "ignored\n");
  // A gitlink (what a submodule leaves in the index) is not a file to scan.
  const std::string head = git(tree.path(), "rev-parse HEAD");
  git(tree.path(), "update-index --add --cacheinfo 160000," + head + ",vendor/lib");

  const GitRepo repo = GitRepo::open(tree.path("sub/dir"));  // discovered from a subdirectory
  const std::string workdir = repo.workdir();
  REQUIRE_FALSE(workdir.empty());
  CHECK(workdir.back() == '/');
  CHECK(workdir.front() == '/');
  CHECK_FALSE(repo.is_shallow());

  const std::vector<std::string> expected{".gitignore", "a.txt", "new.txt", "staged.txt", "sub/dir/deep.txt"};
  CHECK(repo.worktree_files() == expected);
  // The same list git itself gives.
  const std::string ls = git(tree.path(), "ls-files -co --exclude-standard | grep -v '^vendor/lib$' | LC_ALL=C sort");
  std::string joined;
  for (const auto& f : expected) joined += (joined.empty() ? "" : "\n") + f;
  CHECK(ls == joined);
}

TEST_CASE("opening a directory outside any repository throws a GitError that says where to run") {
  t::TempTree tree;
  try {
    (void)GitRepo::open(tree.path());
    FAIL("expected GitError");
  } catch (const ShallowHistory&) {
    FAIL("not a shallow-history error");
  } catch (const GitError& e) {
    CHECK(std::string(e.what()).find("git") != std::string::npos);
  }
}

TEST_CASE(
    "changed files since a ref are the modified added staged and untracked ones and not unchanged or deleted ones") {
  t::TempTree tree;
  init(tree);
  tree.write("keep.txt", "same\n");
  tree.write("mod.txt", "before\n");
  tree.write("del.txt", "to be deleted\n");
  tree.write("dir/moved.txt", "moved around\n");
  commit_all(tree, "base");
  git(tree.path(), "tag base");
  tree.write("mod.txt", "after\n");
  tree.write("added.txt", "new\n");
  git(tree.path(), "rm -q del.txt && git mv dir/moved.txt renamed.txt");
  commit_all(tree, "change");
  tree.write("staged.txt", "staged only\n");
  git(tree.path(), "add staged.txt");
  tree.write("untracked.txt", "not yet added\n");
  tree.write("keep.txt", "same\n");  // rewritten with identical content: not a change

  const GitRepo repo = GitRepo::open(tree.path());
  const std::vector<std::string> expected{"added.txt", "mod.txt", "renamed.txt", "staged.txt", "untracked.txt"};
  CHECK(repo.changed_since("base") == expected);
  CHECK(repo.changed_since("HEAD~1") == expected);
  CHECK(repo.changed_since("HEAD") == std::vector<std::string>{"staged.txt", "untracked.txt"});

  CHECK_THROWS_AS(repo.changed_since("no-such-branch"), GitError);
  try {
    (void)repo.changed_since("no-such-branch");
  } catch (const ShallowHistory&) {
    FAIL("a full clone must not blame shallowness");
  } catch (const GitError& e) {
    CHECK(std::string(e.what()).find("no-such-branch") != std::string::npos);
  }
}

TEST_CASE("a ref outside a shallow clone's history throws ShallowHistory naming a fetch that fixes it") {
  t::TempTree tree;
  const std::string src = tree.path("src");
  run(tree.path(), "mkdir src");
  git(src, "init -q .");
  for (int i = 1; i <= 3; ++i) {
    tree.write("src/f" + std::to_string(i) + ".txt", "file " + std::to_string(i) + "\n");
    git(src, "add -A . && git commit -q -m c" + std::to_string(i));
  }
  const std::string first = git(src, "rev-list --max-parents=0 HEAD");
  git(src, "checkout -q -b feature");
  tree.write("src/feature.txt", "on the feature branch\n");
  git(src, "add -A . && git commit -q -m feature && git checkout -q main");
  git(tree.path(), "clone -q --depth 1 file://" + src + " shallow");

  const GitRepo repo = GitRepo::open(tree.path("shallow"));
  CHECK(repo.is_shallow());
  CHECK(repo.changed_since("HEAD").empty());

  for (const std::string& ref : {first, std::string("HEAD~1"), std::string("origin/feature")}) {
    CAPTURE(ref);
    try {
      (void)repo.changed_since(ref);
      FAIL("expected ShallowHistory");
    } catch (const ShallowHistory& e) {
      const std::string message = e.what();
      CHECK(message.find("fetch") != std::string::npos);
      CHECK(message.find(ref) != std::string::npos);
    }
  }

  // The suggested fetch really brings the branch in.
  std::string message;
  try {
    (void)repo.changed_since("origin/feature");
  } catch (const ShallowHistory& e) {
    message = e.what();
  }
  const std::string fetch = backticked(message);
  CHECK(fetch.rfind("git fetch ", 0) == 0);
  git(tree.path("shallow"), fetch.substr(4));
  // feature.txt exists there but not here: the working tree "deleted" it; nothing was added.
  CHECK(GitRepo::open(tree.path("shallow")).changed_since("origin/feature").empty());

  // History still walks: the boundary commit counts as a root.
  HistoryStats stats;
  const auto blobs = history(repo, stats);
  CHECK(with_content(blobs, "file 3\n").size() == 1);
}

TEST_CASE("a history walk in a shallow clone throws ShallowHistory naming the fetch that completes it") {
  t::TempTree tree;
  const std::string src = tree.path("src");
  run(tree.path(), "mkdir src");
  git(src, "init -q .");
  for (int i = 1; i <= 3; ++i) {
    tree.write("src/f" + std::to_string(i) + ".txt", "file " + std::to_string(i) + "\n");
    git(src, "add -A . && git commit -q -m c" + std::to_string(i));
  }
  git(src, "rm -q f1.txt && git commit -q -m 'drop f1'");
  git(tree.path(), "clone -q --depth 1 file://" + src + " shallow");

  std::string message;
  {
    const GitRepo repo = GitRepo::open(tree.path("shallow"));
    REQUIRE(repo.is_shallow());
    HistoryStats stats;
    try {
      (void)history(repo, stats);
      FAIL("expected ShallowHistory");
    } catch (const ShallowHistory& e) {
      message = e.what();
    }
    CHECK(message.find("shallow") != std::string::npos);
    CHECK(message.find("object not found") == std::string::npos);
  }
  // The named fetch completes the history, and the walk then finds what only older commits held.
  const std::string fetch = backticked(message);
  CHECK(fetch.rfind("git fetch ", 0) == 0);
  git(tree.path("shallow"), fetch.substr(4));
  const GitRepo repo = GitRepo::open(tree.path("shallow"));
  CHECK_FALSE(repo.is_shallow());
  HistoryStats stats;
  CHECK(with_content(history(repo, stats), "file 1\n").size() == 1);
  CHECK(stats.commits == 4);
}

TEST_CASE("staged blobs come from the index and not from a later unstaged edit") {
  t::TempTree tree;
  init(tree);
  tree.write("unchanged.txt", "committed and untouched\n");
  tree.write("gone.txt", "to be deleted\n");
  commit_all(tree, "first");
  tree.write("s.txt", "staged text\n");
  tree.write("big.txt", std::string(100, 'x'));
  git(tree.path(), "add s.txt big.txt && git rm -q gone.txt");
  tree.write("s.txt", "edited after staging\n");
  tree.write("later.txt", "never staged\n");

  const GitRepo repo = GitRepo::open(tree.path());
  std::vector<GitBlob> seen;
  repo.for_each_staged(50, [&](const GitBlob& b) { seen.push_back(b); });
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "s.txt");
  CHECK(seen[0].content == "staged text\n");
  CHECK(seen[0].commit.empty());
  CHECK(seen[0].author_date == 0);

  seen.clear();
  repo.for_each_staged(1000, [&](const GitBlob& b) { seen.push_back(b); });
  CHECK(seen.size() == 2);
}

TEST_CASE("staged blobs are found before the first commit") {
  t::TempTree tree;
  init(tree);
  tree.write("first.txt", "staged in an unborn branch\n");
  git(tree.path(), "add first.txt");
  const GitRepo repo = GitRepo::open(tree.path());
  std::vector<std::string> paths;
  repo.for_each_staged(1000, [&](const GitBlob& b) { paths.push_back(b.path); });
  CHECK(paths == std::vector<std::string>{"first.txt"});
  CHECK(repo.worktree_files() == std::vector<std::string>{"first.txt"});
}

TEST_CASE("history walk finds a file that was committed then deleted and names the commit that added it") {
  t::TempTree tree;
  init(tree);
  tree.write("readme.txt", "hello\n");
  commit_all(tree, "readme");
  tree.write("config/oops.txt", "should never have been committed\n");
  commit_all(tree, "oops");
  const std::string added = git(tree.path(), "rev-parse HEAD");
  const std::string date = git(tree.path(), "log -1 --format=%at HEAD");
  git(tree.path(), "rm -q config/oops.txt");
  commit_all(tree, "remove oops");
  tree.write("readme.txt", "hello again\n");
  commit_all(tree, "readme again");

  const GitRepo repo = GitRepo::open(tree.path());
  HistoryStats stats;
  const auto blobs = history(repo, stats);
  const auto oops = with_content(blobs, "should never have been committed\n");
  REQUIRE(oops.size() == 1);
  CHECK(oops[0].path == "config/oops.txt");
  CHECK(oops[0].commit == added);
  CHECK(oops[0].author_date == std::stoll(date));
  CHECK(stats.commits == 4);
  CHECK(stats.blobs == 3);  // hello, hello again, the deleted file
  CHECK(stats.bytes == 6 + 12 + 33);
  CHECK(stats.skipped_large == 0);
}

TEST_CASE("history walk hands each blob over once however many commits paths and branches hold it") {
  t::TempTree tree;
  init(tree);
  tree.write("shared.txt", "the same content everywhere\n");
  commit_all(tree, "shared");
  const std::string first = git(tree.path(), "rev-parse HEAD");
  for (int i = 0; i < 5; ++i) {
    tree.write("copy" + std::to_string(i) + ".txt", "the same content everywhere\n");
    tree.write("counter.txt", std::to_string(i) + "\n");
    commit_all(tree, "copy " + std::to_string(i));
  }
  git(tree.path(), "checkout -q -b other HEAD~3");
  tree.write("other/again.txt", "the same content everywhere\n");
  tree.write("other.txt", "only on the other branch\n");
  commit_all(tree, "other");
  git(tree.path(), "checkout -q main && git merge -q --no-edit other");
  // Stashed work is history too.
  tree.write("stashed.txt", "only in the stash\n");
  git(tree.path(), "add stashed.txt && git stash -q");

  const GitRepo repo = GitRepo::open(tree.path());
  HistoryStats stats;
  const auto blobs = history(repo, stats);
  const auto shared = with_content(blobs, "the same content everywhere\n");
  REQUIRE(shared.size() == 1);
  CHECK(shared[0].commit == first);
  CHECK(shared[0].path == "shared.txt");
  CHECK(with_content(blobs, "only on the other branch\n").size() == 1);
  CHECK(with_content(blobs, "only in the stash\n").size() == 1);

  std::map<std::string, int> by_content;
  for (const auto& b : blobs) ++by_content[b.content];
  for (const auto& [content, count] : by_content) CHECK_MESSAGE(count == 1, content);
  CHECK(stats.blobs == blobs.size());
}

TEST_CASE("history walk reaches commits and blobs that only a tag points at") {
  t::TempTree tree;
  init(tree);
  tree.write("main.txt", "on main\n");
  commit_all(tree, "main");
  // An orphan commit reachable from an annotated tag alone.
  git(tree.path(), "checkout -q --orphan lonely");
  git(tree.path(), "rm -rq --cached . && rm -f main.txt");
  tree.write("tagged.txt", "only reachable from a tag\n");
  commit_all(tree, "lonely");
  const std::string lonely = git(tree.path(), "rev-parse HEAD");
  git(tree.path(), "tag -a -m release v-lonely && git checkout -q -f main && git branch -q -D lonely");
  // A tag on a bare blob.
  const std::string blob = run(tree.path(), "printf 'a blob with no commit\\n' | git hash-object -w --stdin");
  git(tree.path(), "tag blob-tag " + blob);

  const GitRepo repo = GitRepo::open(tree.path());
  HistoryStats stats;
  const auto blobs = history(repo, stats);
  const auto tagged = with_content(blobs, "only reachable from a tag\n");
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0].commit == lonely);
  CHECK(tagged[0].path == "tagged.txt");
  const auto bare = with_content(blobs, "a blob with no commit\n");
  REQUIRE(bare.size() == 1);
  CHECK(bare[0].path == "refs/tags/blob-tag");
  CHECK(bare[0].commit.empty());
}

TEST_CASE("history walk counts blobs over the size limit without handing them over") {
  t::TempTree tree;
  init(tree);
  tree.write("small.txt", "small\n");
  tree.write("large.bin", std::string(4096, '\x01'));
  tree.write("large-copy.bin", std::string(4096, '\x01'));
  commit_all(tree, "sizes");

  const GitRepo repo = GitRepo::open(tree.path());
  HistoryStats stats;
  const auto blobs = history(repo, stats, 1024);
  REQUIRE(blobs.size() == 1);
  CHECK(blobs[0].path == "small.txt");
  CHECK(stats.skipped_large == 1);  // the same blob under two names counts once
  CHECK(stats.blobs == 1);
}

TEST_CASE("history walk counts blobs a partial clone left out as missing and still walks every commit") {
  t::TempTree tree;
  const std::string src = tree.path("src");
  run(tree.path(), "mkdir src");
  git(src, "init -q . && git config uploadpack.allowFilter true");
  for (int i = 1; i <= 3; ++i) {
    tree.write("src/f" + std::to_string(i) + ".txt", "file " + std::to_string(i) + "\n");
    git(src, "add -A . && git commit -q -m c" + std::to_string(i));
  }
  git(tree.path(), "clone -q --no-checkout --filter=blob:none file://" + src + " partial");

  const GitRepo repo = GitRepo::open(tree.path("partial"));
  HistoryStats stats;
  const auto blobs = history(repo, stats);
  CHECK(blobs.empty());
  CHECK(stats.commits == 3);
  CHECK(stats.missing == 3);
}
