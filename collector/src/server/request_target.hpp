// SPDX-License-Identifier: Apache-2.0
// The request target of an API call (path and query), parsed with Boost.URL, and the matching
// of its path against a route's path template ("/api/v1/agents/{id}/approve").
// Used by: Api (api.cpp) to route each request; the route tests.
// Must never percent-decode a path before splitting it: "%2F" stays inside its segment.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::collector {

// A parsed origin-form target ("/path?query").
struct RequestTarget {
  std::string path;                          // as sent (percent-encoded), trailing '/' removed; for messages
  std::vector<std::string> segments;         // each segment decoded on its own
  std::map<std::string, std::string> query;  // decoded ('+' is a space); the last of a repeated key
};

// The target of an HTTP request; nullopt when it is not a valid RFC 3986 path and query.
std::optional<RequestTarget> parse_request_target(std::string_view target);

// The values of a template's "{name}" segments, by name.
using PathParams = std::map<std::string, std::string, std::less<>>;

// Whether segments match a path template; each "{name}" segment matches one whole segment.
bool match_path_template(std::string_view path_template, const std::vector<std::string>& segments,
                         PathParams* params = nullptr);

}  // namespace keyward::collector
