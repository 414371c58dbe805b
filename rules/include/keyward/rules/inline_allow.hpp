// Inline allows: a `keyward:allow [reason]` comment on the line just before a PEM (or other
// text) block lets a team mark a known test key where it sits. Any comment syntax counts: #, //,
// --, ;, /* */, <!-- -->. The CLI decides whether to honour them (--no-inline-allow: a committer
// must not be able to wave their own key through).
// Used by: the CLI and the CI gate. Reads the finding's own file only (never archive members).
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace keyward::rules {

// True when line `line - 1` of `file_text` (lines are 1-based, as in Finding::location.line) is a
// comment holding `keyward:allow`; `reason` gets the text after it (trimmed, comment closers
// removed; empty when none).
bool inline_allowed(std::string_view file_text, std::uint64_t line, std::string& reason);

// Reads each text finding's file (no archive members, files up to `max_size` bytes) and marks
// those with an inline allow: suppressed {kind "inline", justification "keyward:allow at
// <path>:<line>: <reason>"}. Findings already suppressed are left as they are. Unreadable files
// are skipped. Returns how many it marked.
std::size_t apply_inline_allows(scanner::ScanResult& result, std::uint64_t max_size = 64ull << 20);

}  // namespace keyward::rules
