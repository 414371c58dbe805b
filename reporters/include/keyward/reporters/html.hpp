// SPDX-License-Identifier: Apache-2.0
// The HTML report (docs/reports.md): one self-contained file (no network, no external font or
// script; a Content-Security-Policy meta allows only its own inline script by hash), readable
// when printed: the summary (counts by severity, kind and host), charts (risk distribution,
// certificate expiry over time, quantum-vulnerable keys by algorithm) and a sortable, filterable
// findings table with each finding's factors, remediation and plan step.
// Used by: keyward scan --format html, keyward-collector report --format html. Pure.
// Never writes key bytes; every string from a scanned machine is escaped (a file named
// "<script>" stays text).
#pragma once

#include <keyward/reporters/report_input.hpp>

#include <string>

namespace keyward::reporters {

std::string render_html(const ReportInput& input);

}  // namespace keyward::reporters
