// SPDX-License-Identifier: Apache-2.0
// The risk engine: fills Finding::risk for every finding of a scan result from the factor
// table, the finding's facts, its pairings and the rest of the result (the same key in several
// places), then applies policy rules (severity floors and caps, extra factors, remediation).
// score = sum of factor points clipped to 0..100; severity = band (severity.hpp), then policy; a
// policy that lowers the band also clips the score into it (risk.raw keeps the sum).
// Used by: the CLI after a scan, the agent before it reports, `keyward rules test`.
// Reads facts only, never key bytes; the only files it reads are the trust store (publicly-trusted,
// once per run) and, through ScoreContext::git_tracked, git indexes.
#pragma once

#include <keyward/rules/rule_set.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/finding.hpp>

#include <string_view>
#include <vector>

namespace keyward::rules {

// Stable ids of the factors the engine itself assigns (each must be in the factor table).
namespace factor_ids {
inline constexpr std::string_view kPrivateKey = "private-key";
inline constexpr std::string_view kSecretKey = "secret-key";
inline constexpr std::string_view kStoreContentsUnknown = "store-contents-unknown";
inline constexpr std::string_view kUnencrypted = "unencrypted-private-key";
inline constexpr std::string_view kCommonPassword = "common-password";
inline constexpr std::string_view kPasswordNearby = "password-nearby";
inline constexpr std::string_view kCodeSigning = "code-signing-certificate";
inline constexpr std::string_view kCodeSigningValid = "code-signing-valid";
inline constexpr std::string_view kCodeSigningCaIssued = "code-signing-ca-issued";
inline constexpr std::string_view kCodeSigningBaseline = "code-signing-baseline-violation";
inline constexpr std::string_view kCaKey = "ca-key";
inline constexpr std::string_view kWorldReadable = "world-readable";
inline constexpr std::string_view kGroupReadable = "group-readable";
inline constexpr std::string_view kForeignOwner = "foreign-owner";
inline constexpr std::string_view kSharedLocation = "shared-location";
inline constexpr std::string_view kWeakAlgorithm = "weak-algorithm";
inline constexpr std::string_view kDuplicated = "duplicated-key";
inline constexpr std::string_view kKnownKey = "known-key";
inline constexpr std::string_view kWeakStore = "weak-store-protection";
inline constexpr std::string_view kWeakKeyProtection = "weak-key-protection";
inline constexpr std::string_view kTestPath = "test-path";
inline constexpr std::string_view kExpired = "certificate-expired";
inline constexpr std::string_view kExpiring = "certificate-expiring";
inline constexpr std::string_view kCertificate = "certificate-inventory";
inline constexpr std::string_view kTrustStore = "trust-store";
inline constexpr std::string_view kPublicKey = "public-key";
inline constexpr std::string_view kHardwareBacked = "hardware-backed-key";
// Provenance: someone else published the key (docs/rules.md, "Provenance").
inline constexpr std::string_view kPackageOwned = "package-owned";
inline constexpr std::string_view kVendored = "vendored-dependency";
inline constexpr std::string_view kKnownPublicKey = "known-public-key";
inline constexpr std::string_view kValidNow = "valid-now";
inline constexpr std::string_view kPubliclyTrusted = "publicly-trusted";
inline constexpr std::string_view kInGitRepository = "in-git-repository";
inline constexpr std::string_view kRecentlyModified = "recently-modified";
}  // namespace factor_ids

// Ids of built-in policies the engine treats specially.
namespace policy_ids {
// Findings with a provenance factor are at most low; ScoreContext::show_vendor skips it.
inline constexpr std::string_view kProvenanceCap = "policy/provenance-at-most-low";
}  // namespace policy_ids

// Every factor id the engine assigns (RuleSet::builtin() has them all; a test checks it).
const std::vector<std::string_view>& engine_factor_ids();

// Scores every finding of `result` (overwriting any earlier risk). Throws RuleError
// "unknown-factor" if the rule set lacks a factor the engine needs.
void score(scanner::ScanResult& result, const RuleSet& rules, const ScoreContext& ctx);

}  // namespace keyward::rules
