// SPDX-License-Identifier: Apache-2.0
// The human-readable report a person triages: the summary (counts per severity, what filters
// hide) first, then exposures (private keys and key stores) in one list ranked by
// rules::ranks_before, then inventory (certificates, public keys) ranked the same way, each finding
// with its short id and the facts a person acts on (type and size, encrypted or not, code
// signing, pairing folded into one line with a count, mode, owner), then the scan's statistics.
// Used by: keyward scan and keyward ci. Pure: result -> text. Never prints key bytes.
#pragma once

#include <keyward/rules/severity.hpp>
#include <keyward/scanner/finding.hpp>

#include <optional>
#include <string>
#include <vector>

namespace keyward::reporters {

// How the text report looks.
struct TextOptions {
  bool color = false;             // ANSI colour (the CLI decides: --color, NO_COLOR, TERM; docs/scan.md)
  bool list_trust_store = false;  // list trust-store certificates one by one instead of counting them
  double seconds = 0;             // wall time to print in the summary (0: omitted)
  bool explain = false;           // list each finding's risk factors under it
  bool show_suppressed = true;    // list suppressed findings (always counted in the summary)
  // Filters of what is listed (never of what is counted: the summary says how many they hide).
  std::optional<rules::Severity> min_severity;  // list only findings at or above this band
  std::vector<scanner::Kind> kinds;             // list only these kinds (empty: all)
};

// Renders a scan result as text.
// The length of the short ids shown: 8 hex digits, more when needed to be unique in the report.
std::size_t short_id_length(const std::vector<scanner::Finding>& findings);
std::string render_text(const scanner::ScanResult& result, const TextOptions& options);

}  // namespace keyward::reporters
