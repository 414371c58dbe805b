// SPDX-License-Identifier: Apache-2.0
#include <keyward/ssh/target.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace keyward::ssh {
namespace {

namespace urls = boost::urls;

// A host name as ssh and known_hosts take it: letters, digits, '-', '.', '_' (Boost.URL accepts
// any reg-name, percent-escapes and sub-delims included).
bool plain_host_name(std::string_view name) {
  return !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

std::string bracketed(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

std::optional<SshUrl> fail(std::string& error, std::string why) {
  error = std::move(why);
  return std::nullopt;
}

}  // namespace

std::string Target::display() const {
  std::string s = user.empty() ? std::string() : user + "@";
  s += bracketed(host);
  if (port != 22) s += ":" + std::to_string(port);
  return s;
}

std::string Target::label() const {
  std::string s = bracketed(host);
  if (port != 22) s += ":" + std::to_string(port);
  return s;
}

bool is_ssh_url(std::string_view s) noexcept { return s.substr(0, 6) == "ssh://"; }

// The URL grammar is Boost.URL's (RFC 3986); what ssh adds is checked here.
std::optional<SshUrl> parse_ssh_url(std::string_view s, std::string& error) {
  if (!is_ssh_url(s)) return fail(error, "not an ssh:// URL");
  const auto parsed = urls::parse_absolute_uri(s);
  if (!parsed)
    return fail(error, "not a valid URL (" + parsed.error().message() +
                           "): write ssh://[user@]host[:port]/path, IPv6 addresses in [brackets], other "
                           "characters as %-escapes");
  const urls::url_view& v = *parsed;
  // Boost.URL 1.81 takes "ssh://h:22x/" as host h, port 22 and the path "x/": after the
  // authority a path must start with '/'.
  if (!v.encoded_path().empty() && v.encoded_path().front() != '/')
    return fail(error, "not a valid URL (unexpected text after the host or port: '" + std::string(v.encoded_path()) +
                           "'): write ssh://[user@]host[:port]/path");
  if (v.has_query() || v.has_fragment()) return fail(error, "no '?' or '#' in an ssh:// URL (escape them as %3F, %23)");
  SshUrl url;
  if (v.has_userinfo()) {
    if (v.has_password()) return fail(error, "no password in an ssh:// URL: keyward logs in with keys only");
    url.target.user = v.user();
    if (url.target.user.empty()) return fail(error, "bad user name before '@' (empty)");
  }
  switch (v.host_type()) {
    case urls::host_type::ipv4:
      url.target.host = v.host_ipv4_address().to_string();
      break;
    case urls::host_type::ipv6:
      url.target.host = v.host_ipv6_address().to_string();
      break;
    case urls::host_type::name:
      if (!plain_host_name(v.encoded_host_name()))
        return fail(error, v.encoded_host_name().empty()
                               ? std::string("no host name")
                               : "bad host name '" + std::string(v.encoded_host_name()) + "'");
      url.target.host = std::string(v.encoded_host_name());
      break;
    default:
      return fail(error, "no host name");
  }
  if (v.has_port()) {
    // port_number() wraps past 65535 in Boost 1.81: read the digits here.
    const std::string_view digits = v.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < 1 || value > 65535)
      return fail(error, "bad port '" + std::string(digits) + "' (1-65535)");
    url.target.port = static_cast<std::uint16_t>(value);
  }
  url.path = v.path();
  if (url.path.empty()) url.path = "/";
  if (url.path.find('\0') != std::string::npos) return fail(error, "NUL in the path");
  return url;
}

}  // namespace keyward::ssh
