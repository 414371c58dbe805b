// SPDX-License-Identifier: Apache-2.0
// CSV for spreadsheets (docs/reports.md, "CSV"): one row per finding, stable documented columns,
// RFC 4180 quoting (CRLF line ends, quotes doubled), and formula-injection safe: a cell that
// starts with '=', '+', '-', '@', a tab or a carriage return gets a leading apostrophe.
// Used by: keyward scan --format csv, keyward-collector report --format csv. Pure.
// Never writes key bytes, passwords or key comments.
#pragma once

#include <keyward/reporters/report_input.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace keyward::reporters {

// The column names, in order (the header row).
const std::vector<std::string_view>& csv_columns();

std::string render_csv(const ReportInput& input);

}  // namespace keyward::reporters
