// SPDX-License-Identifier: Apache-2.0
// SARIF 2.1.0 report for GitHub code scanning and other SARIF consumers (docs/formats/sarif.md;
// validated against docs/schemas/sarif-schema-2.1.0.json). Used by: keyward scan/ci
// --format sarif. Pure: result -> bytes; reads no file and prints nothing.
// Never writes key bytes, passwords or key comments: facts, scores and fingerprints only.
#pragma once

#include <keyward/scanner/finding.hpp>
#include <string>
#include <vector>

namespace keyward::reporters {

// What a rule says about itself, for tool.driver.rules (title, help, default severity).
struct RuleHelp {
  std::string id;                       // stable rule id, e.g. "private-key/pkcs8"
  std::string title;                    // one line (shortDescription)
  std::string description;              // a paragraph (fullDescription)
  std::string remediation;              // what to do (help)
  std::string severity;                 // default: critical | high | medium | low | info
  std::vector<std::string> references;  // URLs or ids ("CWE-321") listed in help
  std::vector<std::string> tags;        // extra tags; "security" is always added
};

// How the SARIF report is made.
struct SarifOptions {
  std::string root;             // scan root: URIs are relative to it (%SRCROOT%)
  std::vector<RuleHelp> rules;  // all are listed; rules used without help get a generated one
  std::string tool_version;     // driver version; the result's when empty
  std::string information_uri;  // driver informationUri (absolute URI); omitted when empty
};

// Renders a scan result as one SARIF 2.1.0 log with one run, pretty-printed, final newline.
std::string render_sarif(const scanner::ScanResult& result, const SarifOptions& options);

}  // namespace keyward::reporters
