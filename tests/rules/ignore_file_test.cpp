// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/ignore_file.hpp>
#include <keyward/rules/rule_error.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/temp_tree.hpp>
#include "wildmatch.hpp"

#include <boost/filesystem.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using keyward::rules::IgnoreFile;
using keyward::test::TempTree;

namespace {

struct Entry {
  std::string path;
  bool is_dir = false;
};

// The paths `git check-ignore` says are ignored in a fresh repository holding `gitignore` and
// `entries` (files and directories created for real, so git knows which is which).
std::set<std::string> git_ignored(const std::string& gitignore, const std::vector<Entry>& entries) {
  TempTree repo;
  const std::string init = "git init -q " + repo.path() + " 2>&1";
  REQUIRE(std::system(init.c_str()) == 0);
  repo.write(".gitignore", gitignore);
  for (const auto& e : entries) {
    if (e.is_dir) boost::filesystem::create_directories(repo.path(e.path));
    else repo.write(e.path, "x\n");
  }
  {
    std::ofstream list(repo.path("paths.list"), std::ios::binary);
    for (const auto& e : entries) list << e.path << '\0';
  }
  // No user or system configuration: only the repository's .gitignore counts.
  const std::string cmd =
      "cd " + repo.path() + " && HOME=" + repo.path() +
      " GIT_CONFIG_NOSYSTEM=1 git -c core.excludesFile=/dev/null check-ignore --no-index -z --stdin < paths.list";
  std::set<std::string> out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string current;
  for (int c = std::fgetc(p); c != EOF; c = std::fgetc(p)) {
    if (c == '\0') {
      out.insert(current);
      current.clear();
    } else {
      current += static_cast<char>(c);
    }
  }
  const int status = ::pclose(p);
  REQUIRE((WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1));  // 1: nothing ignored
  return out;
}

void agree_with_git(const std::string& gitignore, const std::vector<Entry>& entries) {
  const auto git = git_ignored(gitignore, entries);
  const auto ours = IgnoreFile::parse(gitignore, ".keywardignore");
  for (const auto& e : entries) {
    CAPTURE(e.path);
    CHECK(ours.ignored(e.path, e.is_dir) == (git.count(e.path) != 0));
  }
}

}  // namespace

TEST_CASE("the ignore matcher agrees with git check-ignore on names anchors directories and negation") {
  const std::string patterns =
      "# keys we keep in the repository on purpose\n"
      "*.pem\n"
      "!keep.pem\n"
      "build/\n"
      "!build/keep.pem\n"
      "/root-only.key\n"
      "logs/*.log\n"
      "cache\n"
      "\n"
      "   \n"
      "?.txt\n"
      "[ab]x.key\n"
      "[!c]y.key\n"
      "x[0-9].p12\n";
  agree_with_git(patterns, {{"a.pem", false},
                            {"keep.pem", false},
                            {"sub/a.pem", false},
                            {"sub/keep.pem", false},
                            {"build", true},
                            {"build/keep.pem", false},
                            {"build/out.bin", false},
                            {"src/build", true},
                            {"src/build/x.key", false},
                            {"other/build", false},
                            {"root-only.key", false},
                            {"sub/root-only.key", false},
                            {"logs/a.log", false},
                            {"logs/deep/a.log", false},
                            {"sub/logs/a.log", false},
                            {"cache", false},
                            {"x/cache", true},
                            {"x/cache/key.der", false},
                            {"a.txt", false},
                            {"ab.txt", false},
                            {"ax.key", false},
                            {"cx.key", false},
                            {"dy.key", false},
                            {"cy.key", false},
                            {"x7.p12", false},
                            {"xa.p12", false}});
}

TEST_CASE("the ignore matcher agrees with git check-ignore on double stars") {
  const std::string patterns =
      "**/fixtures\n"
      "docs/**/secret.key\n"
      "a/**/b\n"
      "vendor/**\n"
      "**/deep/**/x.pem\n"
      "dir/*/y\n"
      "weird**name\n"
      "!*.md\n";
  agree_with_git(patterns, {{"fixtures", true},
                            {"fixtures/k.pem", false},
                            {"src/test/fixtures", true},
                            {"src/test/fixtures/k.pem", false},
                            {"docs/secret.key", false},
                            {"docs/a/secret.key", false},
                            {"docs/a/b/c/secret.key", false},
                            {"a/b", false},
                            {"a/x/b", false},
                            {"a/x/y/b", false},
                            {"vendor", true},
                            {"vendor/lib/k.pem", false},
                            {"deep/x.pem", false},
                            {"p/deep/q/r/x.pem", false},
                            {"dir/m/y", false},
                            {"dir/m/n/y", false},
                            {"weirdXXname", false},
                            {"README.md", false},
                            {"notes/README.md", false},
                            {"notes/key.pem", false}});
}

TEST_CASE("the ignore matcher agrees with git check-ignore on ignore-everything-but lists") {
  agree_with_git("**\n!**/\n!*.md\n!/keys/\n/keys/*\n!/keys/public.pem\n", {{"a.pem", false},
                                                                            {"README.md", false},
                                                                            {"notes", true},
                                                                            {"notes/README.md", false},
                                                                            {"notes/key.pem", false},
                                                                            {"keys", true},
                                                                            {"keys/public.pem", false},
                                                                            {"keys/private.pem", false}});
}

TEST_CASE("the ignore matcher agrees with git check-ignore on escapes and trailing spaces") {
  const std::string patterns =
      "\\#hash.key\n"
      "\\!bang.key\n"
      "spaced.key   \n"
      "kept-space.key\\ \n"
      "star\\*.key\n"
      "q\\?.key\n";
  agree_with_git(patterns, {{"#hash.key", false},
                            {"!bang.key", false},
                            {"spaced.key", false},
                            {"kept-space.key ", false},
                            {"kept-space.key", false},
                            {"star*.key", false},
                            {"starX.key", false},
                            {"q?.key", false},
                            {"qX.key", false}});
}

TEST_CASE("a directory ignored by a pattern hides everything below it even from negations") {
  const auto ig = IgnoreFile::parse("secrets/\n!secrets/public.pem\n", ".keywardignore");
  CHECK(ig.ignored("secrets/private.pem", false));
  CHECK(ig.ignored("secrets/public.pem", false));
  CHECK(ig.ignoring_line("secrets/public.pem", false) == 1);
  CHECK_FALSE(ig.ignored("secrets", false));  // a file named secrets is not a directory
  CHECK(ig.ignored("./secrets/x", false));
}

TEST_CASE("ignore-file suppressions name the ignore file and the pattern's line") {
  using namespace keyward::test;
  keyward::scanner::ScanResult r;
  r.findings.push_back(key_finding("/repo/test/keys/a.pem", false));
  r.findings.push_back(key_finding("/repo/prod/b.pem", false));
  r.findings[0].relative_path = "test/keys/a.pem";
  r.findings[1].relative_path = "prod/b.pem";
  const auto ig = IgnoreFile::parse("# test material\ntest/\n", "/repo/.keywardignore");
  CHECK(keyward::rules::apply_ignore_file(r, ig) == 1);
  REQUIRE(r.findings[0].suppressed);
  CHECK(r.findings[0].suppressed->kind == "ignore-file");
  CHECK(r.findings[0].suppressed->justification == "/repo/.keywardignore:2");
  CHECK_FALSE(r.findings[1].suppressed);
}

TEST_CASE("an unreadable ignore file is an error naming it") {
  try {
    IgnoreFile::load("/nonexistent/.keywardignore");
    FAIL("no error");
  } catch (const keyward::rules::RuleError& e) {
    CHECK(e.code == "cannot-read");
  }
}

TEST_CASE("pathological patterns finish quickly") {
  const auto ig = IgnoreFile::parse("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/**/**/**/**/**/**/**/z\n", "x");
  const std::string long_name(5000, 'a');
  CHECK_FALSE(ig.ignored(long_name, false));
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "d/";
  CHECK_FALSE(ig.ignored(deep + "y", false));
  CHECK(ig.ignored(deep + "z", false));
}

TEST_CASE("a pathological ignore pattern is cut off by the step budget while real patterns never reach it") {
  namespace d = keyward::rules::detail;
  // Many stars against a long path (what ignore_file_fuzzer found: seconds per match before
  // characters counted as steps). A committed .keywardignore must not stall `keyward ci`.
  std::string pattern, path;
  for (int i = 0; i < 20; ++i) pattern += "**/*?*/";
  pattern += "x";
  for (int i = 0; i < 150; ++i) path += "ab/";
  path += "y";
  CHECK_FALSE(d::wildmatch_within_budget(pattern, path).has_value());
  CHECK_FALSE(d::wildmatch(pattern, path));
  const auto ignore = IgnoreFile::parse(pattern + "\n", ".keywardignore");
  CHECK(ignore.ignoring_line(path, false) == 0);

  // Patterns people write, against a path as deep as a scan allows, finish well within it.
  std::string deep;
  for (int i = 0; i < 400; ++i) deep += "dir" + std::to_string(i) + "/";
  for (const std::string p : {"**/dir399/*.pem", "**/dir1*/**/*.pem", "dir0/**/dir2??/**", "*[0-9]/**/?.pem"}) {
    const auto r = d::wildmatch_within_budget(p, deep + "k.pem");
    CHECK(r.has_value());
  }
  CHECK(d::wildmatch_within_budget("**/dir399/*.pem", deep + "k.pem") == std::optional<bool>(true));
}
