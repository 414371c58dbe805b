#include "store/fleet_findings.hpp"

#include <keyward/scanner/finding_json.hpp>

#include <array>
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

void load_status(Store& store, std::string_view status, FleetFindings& out) {
  FindingQuery q;
  q.status = std::string(status);
  q.limit = 1000;
  for (;;) {
    Page<FindingRow> page = store.findings(q);
    for (auto& row : page.items) {
      auto decoded = scanner::finding_from_json(row.finding);
      if (!decoded) {
        ++out.undecodable;
        continue;
      }
      scanner::Finding f = std::move(*decoded);
      f.location.host = row.hostname;
      if (!f.suppressed) f.suppressed = suppression_of(row);
      out.result.findings.push_back(std::move(f));
    }
    q.offset += page.items.size();
    if (page.items.empty() || q.offset >= page.total) break;
  }
}

}  // namespace

FleetFindings load_fleet_findings(Store& store, std::int64_t now) {
  FleetFindings out;
  out.result.started_at = now;
  out.result.finished_at = now;
  constexpr std::array<std::string_view, 3> kStatuses{"open", "excepted", "false_positive"};
  for (const auto status : kStatuses) load_status(store, status, out);
  out.plan = store.fleet_plan(now);
  return out;
}

}  // namespace keyward::collector
