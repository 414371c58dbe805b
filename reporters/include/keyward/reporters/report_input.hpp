// SPDX-License-Identifier: Apache-2.0
// What the CBOM, HTML and CSV reports read (docs/reports.md): the scored findings of one scan or
// of the whole fleet (a fleet's findings name their host in location.host), and, when there is
// one, the migration plan for them. The same input serves `keyward scan --format cbom|html|csv`
// and `keyward-collector report` / `GET /api/v1/cbom`, so a host's report and the fleet's agree.
// Used by: reporters/src/cbom.cpp, html.cpp, csv.cpp; the CLI's report dispatch; the collector.
// Must never carry key bytes: findings hold facts and fingerprints only (scanner/finding.hpp).
#pragma once

#include <keyward/migrate/plan.hpp>
#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <string>

namespace keyward::reporters {

struct ReportInput {
  const scanner::ScanResult& result;    // findings with risk (rules ran); hosts in location.host
  const migrate::Plan* plan = nullptr;  // the plan for these findings, or none
  std::string title;                    // what the report is of, e.g. "scan of /srv" or "fleet"
  std::int64_t now = 0;                 // Unix time the report is "as of" (expiry, timestamps)
  std::string tool_version;             // keyward's version (CBOM metadata.tools)
};

}  // namespace keyward::reporters
