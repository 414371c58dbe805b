// SPDX-License-Identifier: Apache-2.0
#include "server/fleet_documents.hpp"

#include "store/fleet_findings.hpp"

#include <keyward/reporters/cbom.hpp>
#include <keyward/reporters/csv.hpp>
#include <keyward/reporters/html.hpp>
#include <keyward/version.hpp>

namespace keyward::collector {

std::optional<FleetDocument> fleet_document_from_string(std::string_view s) noexcept {
  if (s == "cbom") return FleetDocument::cbom;
  if (s == "html") return FleetDocument::html;
  if (s == "csv") return FleetDocument::csv;
  return std::nullopt;
}

std::string_view content_type(FleetDocument d) noexcept {
  switch (d) {
    case FleetDocument::cbom: return "application/vnd.cyclonedx+json; version=1.6";
    case FleetDocument::html: return "text/html; charset=utf-8";
    case FleetDocument::csv: return "text/csv; charset=utf-8; header=present";
  }
  return "application/octet-stream";
}

std::string render_fleet_document(Store& store, FleetDocument document, std::int64_t now) {
  FleetFindings fleet = load_fleet_findings(store, now);
  fleet.result.tool_version = KEYWARD_VERSION;
  const reporters::ReportInput input{fleet.result, &fleet.plan, "fleet", now, KEYWARD_VERSION};
  switch (document) {
    case FleetDocument::cbom: return reporters::render_cbom(input);
    case FleetDocument::html: return reporters::render_html(input);
    case FleetDocument::csv: return reporters::render_csv(input);
  }
  return {};
}

}  // namespace keyward::collector
