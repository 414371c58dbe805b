// SPDX-License-Identifier: Apache-2.0
// The fleet's CBOM, HTML and CSV documents (docs/reports.md): the open findings of every host
// and the fleet plan (store/fleet_findings.hpp) through the same reporters `keyward scan` uses.
// Used by: keyward-collector report --format cbom|html|csv and GET /api/v1/cbom (api.cpp, on
// the work pool: it reads the whole inventory).
#pragma once

#include <keyward/collector/store.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::collector {

enum class FleetDocument { cbom, html, csv };
// "cbom" | "html" | "csv"; nullopt for anything else.
std::optional<FleetDocument> fleet_document_from_string(std::string_view s) noexcept;
// The media type the API answers it with.
std::string_view content_type(FleetDocument d) noexcept;

// The document of the fleet as of `now`.
std::string render_fleet_document(Store& store, FleetDocument document, std::int64_t now);

}  // namespace keyward::collector
