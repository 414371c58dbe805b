// SPDX-License-Identifier: Apache-2.0
// Private: git's wildmatch (wildmatch.c, used for .gitignore) with WM_PATHNAME: '*' and '?' do
// not match '/', "**" between slashes spans directories. Returns on every input without
// exponential backtracking: the ABORT results cut the search, as in git, repeated "**/" segments
// are collapsed when patterns are loaded, and a step budget ends what is left (as no match).
#pragma once

#include <optional>
#include <string>

namespace keyward::rules::detail {

// True when `pattern` matches all of `text`. With `pathname` false, '*' also matches '/'.
bool wildmatch(const std::string& pattern, const std::string& text, bool pathname = true);

// The same, or nullopt when the step budget ran out first (wildmatch then says no match).
std::optional<bool> wildmatch_within_budget(const std::string& pattern, const std::string& text, bool pathname = true);

// Rewrites repeated "**/" segments as one (same matches, without the exponential search).
std::string collapse_double_stars(std::string pattern);

}  // namespace keyward::rules::detail
