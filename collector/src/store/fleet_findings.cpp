// SPDX-License-Identifier: Apache-2.0
#include "store/fleet_findings.hpp"

#include <keyward/scanner/finding_json.hpp>

#include <array>
#include <string>
#include <string_view>

namespace keyward::collector {

namespace {

// The suppression a place's status stands for (docs/formats/cbom.md, "Suppressed findings"): an
// approved exception is an allowlist entry, a false positive is one; open places have none.
std::optional<scanner::Suppression> suppression_of(const FindingRow& row) {
  if (row.status == "excepted") return scanner::Suppression{"allowlist", "collector exception " + row.exception_id};
  if (row.status == "false_positive")
    return scanner::Suppression{"false-positive", "collector exception " + row.exception_id};
  return std::nullopt;
}

}  // namespace

std::uint64_t for_each_place(Store& store, std::string_view status,
                             const std::function<void(const FindingRow&, scanner::Finding&)>& visit) {
  std::uint64_t undecodable = 0;
  store.visit_places(std::string(status), [&](const FindingRow& row) {
    auto decoded = scanner::finding_from_json(row.finding);
    if (decoded) visit(row, *decoded);
    else ++undecodable;
  });
  return undecodable;
}

FleetFindings load_fleet_findings(Store& store, std::int64_t now) {
  FleetFindings out;
  out.result.started_at = now;
  out.result.finished_at = now;
  constexpr std::array<std::string_view, 3> kStatuses{"open", "excepted", "false_positive"};
  for (const auto status : kStatuses)
    out.undecodable += for_each_place(store, status, [&out](const FindingRow& row, scanner::Finding& f) {
      f.location.host = row.hostname;
      if (!f.suppressed) f.suppressed = suppression_of(row);
      out.result.findings.push_back(std::move(f));
    });
  if (out.undecodable != 0) {  // named in the report (HTML: "incomplete"), never dropped silently
    out.result.complete = false;
    out.result.errors.push_back({"(collector store)", std::to_string(out.undecodable) +
                                                          " stored finding(s) no longer decode and are left out"});
  }
  out.plan = store.fleet_plan(now);
  return out;
}

}  // namespace keyward::collector
