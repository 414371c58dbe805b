// SPDX-License-Identifier: Apache-2.0
#include <keyward/common/terminal.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace keyward::common {
namespace {

// Bytes of the control character at s[i] (1 for C0 and DEL, 2 for a C1 control in UTF-8); 0 if none.
std::size_t control_at(std::string_view s, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x20 || c == 0x7f) return 1;
  if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
      static_cast<unsigned char>(s[i + 1]) <= 0x9f)
    return 2;
  return 0;
}

}  // namespace

std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char buf[8];
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::size_t n = control_at(s, i);
    if (n == 1) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
    } else if (n == 2) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[i + 1]));
      out += buf;
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool has_control_characters(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (control_at(s, i) != 0) return true;
  return false;
}

std::optional<ColorMode> parse_color_mode(std::string_view name) noexcept {
  if (name == "auto") return ColorMode::auto_;
  if (name == "always") return ColorMode::always;
  if (name == "never") return ColorMode::never;
  return std::nullopt;
}

bool capable_terminal(int fd) noexcept {
  if (::isatty(fd) != 1) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

bool use_color(ColorMode mode, int fd) noexcept {
  if (mode != ColorMode::auto_) return mode == ColorMode::always;
  const char* no_color = std::getenv("NO_COLOR");
  return (no_color == nullptr || *no_color == '\0') && capable_terminal(fd);
}

}  // namespace keyward::common
