// The human-readable report: findings grouped by kind, one line per finding with the facts a
// person acts on (type and size, encrypted or not, code signing, pairing, mode, owner), and a
// summary with counts and stats. Used by: keyward scan (and later ci). Pure: result -> text.
// Never prints key bytes (findings hold none).
#pragma once

#include <keyward/scanner/finding.hpp>

#include <string>

namespace keyward::reporters {

// How the text report looks.
struct TextOptions {
  bool color = false;             // ANSI colour (the CLI enables it only on a TTY without NO_COLOR)
  bool list_trust_store = false;  // list trust-store certificates one by one instead of counting them
  double seconds = 0;             // wall time to print in the summary (0: omitted)
  bool explain = false;           // list each finding's risk factors under it
  bool show_suppressed = true;    // list suppressed findings (always counted in the summary)
};

// Renders a scan result as text.
std::string render_text(const scanner::ScanResult& result, const TextOptions& options);

}  // namespace keyward::reporters
