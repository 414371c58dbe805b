// SPDX-License-Identifier: Apache-2.0
// Inline allows: a `keyward:allow [reason]` comment on one of the 3 lines before a PEM (or other
// text) block (docs/rules.md, "Inline allow") lets a team mark a known test key where it sits. Any comment syntax
// counts: #, //,
// --, ;, /* */, <!-- -->. The CLI decides whether to honour them (--no-inline-allow: a committer
// must not be able to wave their own key through).
// Used by: the CLI and the CI gate. Reads the finding's own file only (never archive members).
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace keyward::rules {

// The line (1-based, as in Finding::location.line) of the nearest comment holding
// `keyward:allow` among the 3 lines before line `line` of `file_text` and after line `after`
// (where the previous block in the file starts: a comment allows only the first block after
// it), or 0 when there is none. `reason` gets the text after the marker (trimmed, comment
// closers removed; empty when none).
std::uint64_t inline_allowed(std::string_view file_text, std::uint64_t line, std::string& reason,
                             std::uint64_t after = 0);

// Reads each text finding's file (no archive members, files up to `max_size` bytes) and marks
// those with an inline allow: suppressed {kind "inline", justification "keyward:allow at
// <path>:<line>: <reason>"}. Findings already suppressed are left as they are. Unreadable files
// are skipped. Returns how many it marked.
std::size_t apply_inline_allows(scanner::ScanResult& result, std::uint64_t max_size = 64ull << 20);

}  // namespace keyward::rules
