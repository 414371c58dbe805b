#include <keyward/ssh/target.hpp>

#include <charconv>

namespace keyward::ssh {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; false on a malformed one.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

}  // namespace

std::string Target::display() const {
  std::string s = user.empty() ? std::string() : user + "@";
  s += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 22) s += ":" + std::to_string(port);
  return s;
}

std::string Target::label() const {
  std::string s = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 22) s += ":" + std::to_string(port);
  return s;
}

bool is_ssh_url(std::string_view s) noexcept { return s.substr(0, 6) == "ssh://"; }

std::optional<SshUrl> parse_ssh_url(std::string_view s, std::string& error) {
  if (!is_ssh_url(s)) {
    error = "not an ssh:// URL";
    return std::nullopt;
  }
  std::string_view rest = s.substr(6);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  SshUrl url;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (!percent_decode(authority.substr(0, at), url.target.user) || url.target.user.empty()) {
      error = "bad user name before '@'";
      return std::nullopt;
    }
    authority.remove_prefix(at + 1);
  }
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed '[' in an IPv6 address";
      return std::nullopt;
    }
    url.target.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected text after ']'";
        return std::nullopt;
      }
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = authority.find(':');
    url.target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (url.target.host.empty()) {
    error = "no host name";
    return std::nullopt;
  }
  if (url.target.host.find_first_of("/@ \t") != std::string::npos) {
    error = "bad host name '" + url.target.host + "'";
    return std::nullopt;
  }
  if (has_port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      error = "bad port '" + std::string(port) + "' (1-65535)";
      return std::nullopt;
    }
    url.target.port = static_cast<std::uint16_t>(value);
  }
  if (!percent_decode(path, url.path)) {
    error = "bad %-escape in the path";
    return std::nullopt;
  }
  if (url.path.find('\0') != std::string::npos) {
    error = "NUL in the path";
    return std::nullopt;
  }
  return url;
}

}  // namespace keyward::ssh
