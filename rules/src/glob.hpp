// SPDX-License-Identifier: Apache-2.0
// Private helpers: fnmatch-style globs ('*' crosses '/', as the scanner's --exclude), their
// validation, and dates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules::detail {

// Empty when `glob` is usable; else what is wrong with it (unclosed '[', trailing '\').
std::string glob_problem(std::string_view glob);

// fnmatch(3) without flags: '*' and '?' match '/' too.
bool glob_match(const std::string& glob, const std::string& text);

// A glob on a root-relative path: without '/' it matches the last component (of the path or of
// an archive member); with one it matches the path or "/" + the path (so "/keys/*" is anchored
// and "*/test/*" also finds "test/" at the root). `member` is the archive member chain, if any.
bool path_glob_match(const std::string& glob, std::string_view rel_path, std::string_view member);

// The first glob of `globs` that matches `text`; nullptr if none.
const std::string* first_match(const std::vector<std::string>& globs, const std::string& text);

// "YYYY-MM-DD" -> seconds since the epoch at 00:00 UTC; nullopt if malformed or not a real date.
std::optional<std::int64_t> parse_date(std::string_view s);
// Seconds since the epoch -> "YYYY-MM-DD" (UTC).
std::string format_date(std::int64_t t);

// True when `s` is 64 lowercase-or-uppercase hex digits.
bool is_sha256_hex(std::string_view s);
// Lowercase copy.
std::string lower(std::string_view s);

}  // namespace keyward::rules::detail
