// SPDX-License-Identifier: Apache-2.0
// The fleet's findings as one scan result, for the reports that read findings rather than
// rows (the CBOM, HTML and CSV of docs/reports.md): every open place's finding, decoded from the
// store, with location.host set to its host's name and the fleet risk as its risk, and every
// excepted or false-positive place's, marked suppressed (an inventory lists them; a suppressed
// finding stays in every report); and the fleet's migration plan. The same reporters then serve
// `keyward scan` and the collector.
// Used by: keyward-collector report --format cbom|html|csv, GET /api/v1/cbom.
// Reads the store only (queries); never a secret (the store holds none).
#pragma once

#include <keyward/collector/store.hpp>
#include <keyward/migrate/plan.hpp>
#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <functional>
#include <string_view>

namespace keyward::collector {

struct FleetFindings {
  // Open places, then excepted and false-positive ones (suppressed); hosts in location.host.
  scanner::ScanResult result;
  migrate::Plan plan;             // the fleet plan with each item's state
  std::uint64_t undecodable = 0;  // stored findings that no longer decode (counted, never dropped silently)
};

// Calls visit(row, finding) for every place of one status (one pass: Store::visit_places), its stored finding
// decoded; returns how many stored findings no longer decode (skipped, counted by the caller).
// Used by load_fleet_findings and the dashboard's overview (server/overview.cpp).
std::uint64_t for_each_place(Store& store, std::string_view status,
                             const std::function<void(const FindingRow&, scanner::Finding&)>& visit);

// Reads every open, excepted and false-positive place and the fleet plan as of `now`.
FleetFindings load_fleet_findings(Store& store, std::int64_t now);

}  // namespace keyward::collector
