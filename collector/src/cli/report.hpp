// SPDX-License-Identifier: Apache-2.0
// The fleet report of `keyward-collector report`: one read of the store (hosts, keys on several
// hosts and the riskiest keys, open findings by severity, certificates expiring soon, the last
// events) as one JSON object (`keyward.fleet-report/v1`, docs/fleet.md), and its text form.
// Used by: the collector's command line (report) and tests/collector/cli_report_test.cpp.
// Must never change the store and never print a secret (the store holds none; nothing else is read).
#pragma once

#include <keyward/collector/store.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace keyward::collector::cli {

// What the report covers.
struct ReportOptions {
  std::size_t top = 10;                         // rows in each key, certificate and event list
  std::int64_t expiring_within = 30LL * 86400;  // certificates whose not_after is before now + this
  std::int64_t now = 0;                         // Unix time the report is "as of"
};

// How many places of a key the report lists (the rest are counted in places_total).
inline constexpr std::size_t kReportPlaces = 5;

// Reads the store (queries only) into the report object.
nlohmann::json build_report(Store& store, const ReportOptions& o);

// The report as aligned plain-text tables for a terminal (no colour); control characters in
// paths and names are escaped so a hostile file name cannot drive the terminal.
std::string render_report_text(const nlohmann::json& report);

}  // namespace keyward::collector::cli
