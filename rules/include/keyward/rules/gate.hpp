// SPDX-License-Identifier: Apache-2.0
// The CI gate's verdict on one finding (docs/ci.md, "What fails the gate"). Without --fail-on,
// every private key or key store that may hold a key fails, whatever its score: a committed
// encrypted key is still a committed key; certificates and public keys alone never fail. With
// --fail-on SEVERITY, a finding of any kind fails when its severity is at or above SEVERITY, and
// nothing below it fails. Suppressed findings (allowed, baselined, ignored) never fail.
// Used by: keyward ci (exit status and summary) and its JUnit report.
#pragma once

#include <keyward/rules/severity.hpp>
#include <keyward/scanner/finding.hpp>

#include <optional>
#include <string>

namespace keyward::rules {

struct GatePolicy {
  std::optional<Severity> fail_on;  // --fail-on; nullopt: every key fails, whatever its score
};

// True for a private key, or a key store that holds one or is not known to hold only
// certificates (a locked store may hold keys).
bool holds_key(const scanner::Finding& f) noexcept;

// True when an unsuppressed finding fails the gate under policy.
bool fails_gate(const scanner::Finding& f, const GatePolicy& policy) noexcept;

// What fails, in words for a summary line: "any private key or key store" or "at or above high".
std::string describe_gate(const GatePolicy& policy);

}  // namespace keyward::rules
