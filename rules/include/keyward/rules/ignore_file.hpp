// SPDX-License-Identifier: Apache-2.0
// IgnoreFile: a `.keywardignore` with gitignore syntax (gitignore(5)): '#' comments, '!'
// negation, trailing '/' for directories only, a '/' at the start or in the middle anchors the
// pattern to the file's directory, '*' '?' '[...]' never cross '/', '**' spans directories,
// backslash escapes, trailing spaces trimmed unless escaped. A path inside an ignored directory
// is ignored whatever later patterns say (git cannot re-include it either).
// Written here because libgit2 needs a repository; checked against `git check-ignore` in tests.
// Used by: the CLI and the agent (suppression kind "ignore-file"). Bounded: at most 10,000
// patterns of at most 4,096 bytes; matching never backtracks exponentially (git's wildmatch).
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules {

// One ignore file's patterns.
class IgnoreFile {
 public:
  // Reads a file; throws RuleError "cannot-read" when it cannot, "too-large" past the bounds.
  static IgnoreFile load(const std::string& path);
  // Parses text as if read from `source`.
  static IgnoreFile parse(std::string_view text, const std::string& source);

  // True when `rel_path` ('/'-separated, relative to the ignore file's directory) is ignored:
  // it or one of its parent directories is matched last by a non-negated pattern.
  bool ignored(std::string_view rel_path, bool is_dir) const { return ignoring_line(rel_path, is_dir) != 0; }
  // The line of the pattern that ignores `rel_path` (its own or a parent directory's); 0 if none.
  std::uint64_t ignoring_line(std::string_view rel_path, bool is_dir) const;

  // The file the patterns came from.
  const std::string& source() const { return source_; }
  // How many patterns it holds.
  std::size_t size() const { return patterns_.size(); }

 private:
  struct Pattern {
    std::string glob;  // without '!', leading '/' and trailing '/'
    bool negated = false;
    bool dir_only = false;
    bool basename = false;  // no '/' in it: matches the last path component at any depth
    std::uint64_t line = 0;
  };
  // The last pattern matching exactly this path (not its parents); nullptr if none.
  const Pattern* last_match(const std::string& path, bool is_dir) const;

  std::string source_;
  std::vector<Pattern> patterns_;
};

// Marks findings whose root-relative path (or a parent directory) the ignore file matches:
// suppressed {kind "ignore-file", justification: the ignore file's path}. Findings already
// suppressed are left as they are. Returns how many it marked.
std::size_t apply_ignore_file(scanner::ScanResult& result, const IgnoreFile& ignore);

}  // namespace keyward::rules
