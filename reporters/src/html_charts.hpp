// SPDX-License-Identifier: Apache-2.0
// The HTML report's charts as inline SVG (docs/formats/html.md, "Charts"): risk by severity band,
// certificate expiry by month, quantum-vulnerable keys by algorithm. Drawn in C++ so a printed or
// script-less page still has them; no library, no style attribute (the page's CSP allows only its
// hashed style sheet), every label escaped with html_escape.
// Private to keyward::reporters (html.cpp). Never reads key comments or anything secret.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::reporters::detail {

// Text for HTML (element content and quoted attribute values alike): detail::utf8_text, then
// & < > " ' as character references. The only escape function of the HTML report.
std::string html_escape(std::string_view s);

// The three charts, each an <figure> with an <svg class="chart-..."> (ranked findings in).
std::string risk_chart(const std::vector<const scanner::Finding*>& findings);
std::string expiry_chart(const std::vector<const scanner::Finding*>& findings, std::int64_t now);
std::string quantum_chart(const std::vector<const scanner::Finding*>& findings);

}  // namespace keyward::reporters::detail
