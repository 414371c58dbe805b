// SPDX-License-Identifier: Apache-2.0
#include "url.hpp"

#include <arpa/inet.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace keyward::agent {

namespace {

namespace urls = boost::urls;

// A DNS name as a TLS peer name and a Host header may carry it: letters, digits, '-', '.', '_'.
// Boost.URL accepts any reg-name (percent-encoded bytes, sub-delims), which would reach the
// CONNECT line, the Host header and certificate name checks.
bool plain_host_name(std::string_view name) {
  return !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

std::optional<Url> parse_url(std::string_view text) {
  const auto parsed = urls::parse_absolute_uri(text);
  if (!parsed) return std::nullopt;
  const urls::url_view& v = *parsed;
  Url u;
  if (v.scheme_id() == urls::scheme::https) u.scheme = "https";
  else if (v.scheme_id() == urls::scheme::http) u.scheme = "http";
  else return std::nullopt;
  if (v.has_userinfo() || v.has_fragment()) return std::nullopt;  // no credentials in URLs
  switch (v.host_type()) {
    case urls::host_type::ipv4:
      u.host = v.host_ipv4_address().to_string();
      break;
    case urls::host_type::ipv6:
      u.host = v.host_ipv6_address().to_string();
      break;
    case urls::host_type::name:
      if (!plain_host_name(v.encoded_host_name())) return std::nullopt;
      u.host = std::string(v.encoded_host_name());
      break;
    default:
      return std::nullopt;  // no host, or an IPvFuture literal
  }
  if (v.has_port() && !v.port().empty()) {
    // port_number() wraps past 65535 in Boost 1.81: read the digits here.
    const std::string_view digits = v.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value < 1 || value > 65535) return std::nullopt;
    u.port = std::to_string(value);
  } else {
    u.port = u.scheme == "https" ? "443" : "80";
  }
  u.path = std::string(v.encoded_path());
  // Boost 1.81 reads "https://a:b:8443" as host "a", an empty port and the path "b:8443"; after
  // an authority, RFC 3986 3.3 allows only an empty path or one that starts with '/'.
  if (!u.path.empty() && u.path.front() != '/') return std::nullopt;
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (v.has_query()) u.path = (u.path.empty() ? "/" : u.path) + "?" + std::string(v.encoded_query());
  return u;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace keyward::agent
