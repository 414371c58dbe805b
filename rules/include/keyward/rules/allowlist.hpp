// SPDX-License-Identifier: Apache-2.0
// Allowlist: identity-based allows kept in one central YAML file (allowlist.yaml, format in
// docs/rules.md): each entry names a key or certificate by fingerprint (SPKI SHA-256 or
// certificate SHA-256), optionally scoped by a path glob, with a reason, who approved it and an
// expiry date. An expired entry stops allowing and says so.
// Used by: the CLI and the CI gate (after scoring), the agent.
// Suppressed findings stay in every report (Finding::suppressed); nothing is dropped here.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules {

// What an allow says (issue 13): the risk is accepted for a while (suppression kind
// "allowlist"), or the finding is a false positive (suppression kind "false-positive"). YAML
// `kind: accepted-risk` (the default) or `kind: false-positive`.
enum class AllowKind { accepted_risk, false_positive };

// One allow.
struct AllowEntry {
  AllowKind kind = AllowKind::accepted_risk;
  std::string fingerprint;  // lowercase hex SHA-256: SPKI of a key or certificate, or a certificate's DER
  std::string path;         // optional glob on the root-relative path ('*' crosses '/'; no '/': the name)
  std::string reason;
  std::string approved_by;
  std::string requested_by;     // optional; must differ from approved_by (requester != approver)
  std::string expires;          // YYYY-MM-DD: allows through the end of that day (UTC)
  std::int64_t expires_at = 0;  // first second after that day
  std::string file;
  std::uint64_t line = 0;
};

// The entries of one allowlist file.
class Allowlist {
 public:
  // Reads and validates a file; throws RuleError (file, line, code) when unreadable or broken:
  // missing-field, unknown-field, bad-fingerprint, bad-date, bad-glob, bad-value (kind),
  // self-approved, yaml-syntax.
  static Allowlist load(const std::string& path);
  // Parses YAML text as if read from `file_name`.
  static Allowlist parse(std::string_view text, const std::string& file_name);

  const std::vector<AllowEntry>& entries() const { return entries_; }

 private:
  std::vector<AllowEntry> entries_;
};

// Marks findings an unexpired entry allows: suppressed {kind "allowlist" (or "false-positive"
// for such an entry), justification "<reason> (approved by <who>, expires <date>)"}; findings already suppressed are
// left as they are. Returns one warning per expired entry ("file:line: allow for <fp> expired on <date>: ...").
std::vector<std::string> apply_allowlist(scanner::ScanResult& result, const Allowlist& allowlist, std::int64_t now);

// Every fingerprint a finding can be allowed by: key and certificate SPKI, certificate SHA-256,
// and those of a store's entries.
std::vector<std::string> finding_fingerprints(const scanner::Finding& f);

}  // namespace keyward::rules
