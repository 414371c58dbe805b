// SPDX-License-Identifier: Apache-2.0
// The small URL subset the agent needs: scheme://host[:port][/path], IPv6 in brackets.
// Used by: tls_client, config checks, enroll.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyward::agent {

struct Url {
  std::string scheme;  // "https" or "http"
  std::string host;    // without brackets
  std::string port;    // always set (443 / 80 by default)
  std::string path;    // "" or starting with '/'
};

// Parses; nullopt when it is not an http(s) URL with a host.
std::optional<Url> parse_url(std::string_view text);

// True when host is an IPv4 or IPv6 literal.
bool is_ip_literal(const std::string& host);

}  // namespace keyward::agent
