// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for `.keywardignore` files and git's wildmatch (rules/src/ignore_file.cpp,
// rules/src/wildmatch.cpp): both read what a pull request commits, so `keyward ci` parses them
// from untrusted input. The input is split at the first NUL: an ignore file (or a pattern), then
// paths to match, one a line.
// Must hold: parsing throws nothing but RuleError; a match names a line of the file; wildmatch
// returns the same for a pattern and its collapsed "**/" form (the loader relies on that) when
// neither ran out of its step budget; every call returns within milliseconds (libFuzzer's
// -timeout catches an exponential search).
#include <keyward/rules/ignore_file.hpp>
#include <keyward/rules/rule_error.hpp>

#include "wildmatch.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::rules;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view patterns = input.substr(0, nul);
  const std::string_view paths = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

  const auto lines = static_cast<std::uint64_t>(std::count(patterns.begin(), patterns.end(), '\n')) + 1;
  try {
    const IgnoreFile ignore = IgnoreFile::parse(patterns, "fuzz/.keywardignore");
    std::size_t start = 0;
    for (int n = 0; n < 16 && start <= paths.size(); ++n) {
      const std::size_t end = std::min(paths.find('\n', start), paths.size());
      const std::string_view path = paths.substr(start, end - start);
      for (const bool is_dir : {false, true}) {
        const std::uint64_t line = ignore.ignoring_line(path, is_dir);
        if (line > lines) __builtin_trap();
        if ((line != 0) != ignore.ignored(path, is_dir)) __builtin_trap();
      }
      start = end + 1;
    }
  } catch (const RuleError&) {
  }

  // The same bytes as one pattern against the first path, raw and collapsed.
  if (patterns.size() <= 256 && paths.size() <= 256) {
    const std::string pattern(patterns), text(paths.substr(0, paths.find('\n')));
    for (const bool pathname : {true, false}) {
      // Only where neither ran out of steps (then both say no match, by design).
      const auto raw = detail::wildmatch_within_budget(pattern, text, pathname);
      const auto collapsed = detail::wildmatch_within_budget(detail::collapse_double_stars(pattern), text, pathname);
      if (raw && collapsed && *raw != *collapsed) __builtin_trap();
    }
  }
  return 0;
}
