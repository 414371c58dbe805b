#include "store/fleet_findings.hpp"

#include <keyward/scanner/finding_json.hpp>

namespace keyward::collector {

FleetFindings load_fleet_findings(Store& store, std::int64_t now) {
  FleetFindings out;
  out.result.started_at = now;
  out.result.finished_at = now;
  FindingQuery q;
  q.status = "open";
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
      out.result.findings.push_back(std::move(f));
    }
    q.offset += page.items.size();
    if (page.items.empty() || q.offset >= page.total) break;
  }
  out.plan = store.fleet_plan(now);
  return out;
}

}  // namespace keyward::collector
