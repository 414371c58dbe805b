// SPDX-License-Identifier: Apache-2.0
// JUnit XML report for CI test views (GitLab artifacts:reports:junit, Jenkins junit step;
// docs/formats/junit.md). Used by: keyward scan/ci --format junit. Pure: result -> bytes.
// One test case per finding: a failure at/above the threshold, skipped when suppressed.
// Never writes key bytes, passwords or key comments.
#pragma once

#include <functional>
#include <keyward/scanner/finding.hpp>
#include <string>
#include <string_view>

namespace keyward::reporters {

// Renders a scan result as JUnit XML; fail_on is info | low | medium | high | critical and
// anything else throws std::invalid_argument.
std::string render_junit(const scanner::ScanResult& result, std::string_view fail_on);

// The same with the gate's own rule: an unsuppressed finding is a failure when fails(f) says so;
// policy is what the fail_on property says (e.g. "any private key or key store").
std::string render_junit(const scanner::ScanResult& result, std::string_view policy,
                         const std::function<bool(const scanner::Finding&)>& fails);

}  // namespace keyward::reporters
