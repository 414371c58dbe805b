// SPDX-License-Identifier: Apache-2.0
// The security headers of the collector's HTTP answers (docs/dashboard.md, "Headers"): the
// dashboard's Content-Security-Policy, and the ones every API answer carries as well.
// Used by: the TLS session (server.cpp) on every answer; the dashboard's file server
// (ui_files.cpp) on every /ui/ answer; the tests.
// Must never loosen the policy for one page: no 'unsafe-inline', no 'unsafe-eval', no origin but
// 'self' (the dashboard has no inline script or style, and fetches nothing elsewhere).
#pragma once

#include <string_view>
#include <utility>

namespace keyward::collector {

using HeaderField = std::pair<std::string_view, std::string_view>;

// The dashboard's policy: its own scripts, styles, images (and data: images) and API only; no
// forms posted anywhere, no <base>, never framed.
inline constexpr std::string_view kDashboardCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// On every answer (API and dashboard): JSON is never sniffed into HTML, never framed, never
// cached, and no Referer leaves with a link. A dashboard answer then replaces the policy and the
// cache rule with its own (kDashboardHeaders).
inline constexpr HeaderField kApiSecurityHeaders[] = {
    {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Cache-Control", "no-store"},
};

// On every /ui/ answer: the dashboard's policy; its files may be kept for a minute (they change
// only with an upgrade of the collector).
inline constexpr HeaderField kDashboardHeaders[] = {
    {"Content-Security-Policy", kDashboardCsp},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Cache-Control", "private, max-age=60"},
};

}  // namespace keyward::collector
