// SPDX-License-Identifier: Apache-2.0
// CycloneDX 1.6 CBOM (cryptography bill of materials, docs/reports.md and docs/formats/cbom.md):
// certificates, keys and algorithms as cryptographic-asset components with their quantum-safety
// facts, evidence occurrences for every place, and dependencies key -> certificate -> algorithm.
// Validated in the tests against the official CycloneDX 1.6 JSON schema (npm
// @cyclonedx/cyclonedx-library, res/schema/). Used by: keyward scan --format cbom,
// keyward-collector report --format cbom, GET /api/v1/cbom. Pure: input -> bytes.
// Never writes key bytes, passwords or key comments.
#pragma once

#include <keyward/reporters/report_input.hpp>

#include <string>

namespace keyward::reporters {

// The BOM as pretty-printed JSON with a final newline. Deterministic for one input (serialNumber
// derives from the findings, timestamp from input.now).
std::string render_cbom(const ReportInput& input);

}  // namespace keyward::reporters
