// SPDX-License-Identifier: Apache-2.0
// Baseline: the findings a team has accepted for now, so a CI gate reports only new ones
// (schema keyward.baseline/v1, JSON). Keyed on finding identity: fingerprint (SPKI, certificate
// SHA-256, or the scanner's identity for keys without one) and root-relative path (with the
// archive member, '!'-separated); sorted, no timestamps, no line numbers, so it survives edits
// around a key and merges cleanly. A key moved within its file still matches; a key moved to
// another path does not.
// Used by: `keyward baseline create|update`, `keyward ci --baseline F`.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules {

// Suppression::kind of a finding the baseline holds.
inline constexpr std::string_view kBaselineSuppression = "baseline";

// The schema name written into every baseline.
inline constexpr const char* kBaselineSchema = "keyward.baseline/v1";

// One accepted finding.
struct BaselineEntry {
  std::string fingerprint;
  std::string path;  // root-relative, with "!member" for archive members
  std::string rule;  // informative: matching uses fingerprint and path only

  friend bool operator==(const BaselineEntry&, const BaselineEntry&) = default;
};

// A set of accepted findings.
class Baseline {
 public:
  // The entries of a scan result (suppressed findings included: what is there is accepted).
  static Baseline from_result(const scanner::ScanResult& result);
  // The baseline JSON text of a scan result (create).
  static std::string create(const scanner::ScanResult& result);
  // Reads a baseline file; throws RuleError naming the file (cannot-read, json-syntax,
  // bad-schema, missing-field, bad-fingerprint) with what to do.
  static Baseline load(const std::string& path);
  // Parses baseline JSON text as if read from `file_name`.
  static Baseline parse(std::string_view text, const std::string& file_name);

  // Merge for `baseline update`: keeps entries still present in `result`, adds new ones.
  void update(const scanner::ScanResult& result);
  // Stable JSON text: sorted by (path, fingerprint), two-space indent, trailing newline.
  std::string to_json() const;

  // True when the baseline holds this finding's identity.
  bool contains(const scanner::Finding& f) const;

  const std::vector<BaselineEntry>& entries() const { return entries_; }

 private:
  void normalise();
  std::vector<BaselineEntry> entries_;
};

// The baseline identity of a finding: {fingerprint, path, rule}.
BaselineEntry baseline_entry(const scanner::Finding& f);

// Marks findings the baseline holds: suppressed {kind "baseline", justification "in baseline
// <source>"}. Findings already suppressed are left as they are. Returns how many it marked.
std::size_t apply_baseline(scanner::ScanResult& result, const Baseline& baseline,
                           const std::string& source = "baseline");

}  // namespace keyward::rules
