// SPDX-License-Identifier: Apache-2.0
// JSON and JSON Lines reports (schema keyward.findings/v1). Used by: keyward scan.
// jsonl writes one finding per line and the document without findings last.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <string>

namespace keyward::reporters {

// The whole document, pretty-printed, with a final newline.
std::string render_json(const scanner::ScanResult& result);
// One finding per line, then the document without findings.
std::string render_jsonl(const scanner::ScanResult& result);

}  // namespace keyward::reporters
