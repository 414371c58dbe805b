// SPDX-License-Identifier: Apache-2.0
// JSON form of findings and scan results (schema keyward.findings/v1, docs/findings.schema.json).
// Used by: the json/jsonl reporters, the agent's reports and the collector.
// Absent facts are omitted, never null; non-UTF-8 paths are kept losslessly as path_b64.
#pragma once

#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace keyward::scanner {

// The schema name written into every document.
inline constexpr const char* kFindingsSchema = "keyward.findings/v1";

// RFC 3339 UTC ("2026-01-02T03:04:05Z") of seconds since the epoch.
std::string rfc3339(std::int64_t seconds);

// One finding as JSON.
nlohmann::json to_json(const Finding& f);
// The same as text appended to `out`, pretty-printed with two spaces a level and its inner lines
// indented by `indent` more spaces, or compact when `indent` < 0: byte for byte what
// to_json(f).dump(2) (so indented) or dump(-1) gives, several times faster (no JSON tree). What
// the json reporter and the agent's reports write.
void write_json(const Finding& f, std::string& out, int indent = 0);
// The whole document; with_findings=false leaves "findings" out (jsonl's last line).
nlohmann::json to_json(const ScanResult& r, bool with_findings = true);

// One finding read back from its JSON form; an error when a field has the wrong type or the
// kind/format is unknown. Internal fields (identity, relative_path) are not in the JSON.
Result<Finding> finding_from_json(const nlohmann::json& j);

}  // namespace keyward::scanner
