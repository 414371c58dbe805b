// SPDX-License-Identifier: Apache-2.0
#include "glob.hpp"

#include <fnmatch.h>

#include <ctime>

namespace keyward::rules::detail {

std::string glob_problem(std::string_view glob) {
  if (glob.empty()) return "the glob is empty";
  if (glob.size() > 4096) return "the glob is longer than 4096 bytes";
  for (std::size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '\\') {
      if (i + 1 == glob.size()) return "it ends in a lone backslash";
      ++i;
    } else if (c == '[') {
      std::size_t j = i + 1;
      if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) ++j;
      if (j < glob.size() && glob[j] == ']') ++j;  // "[]...]" holds a literal ']'
      while (j < glob.size() && glob[j] != ']') ++j;
      if (j >= glob.size()) return "'[' at column " + std::to_string(i + 1) + " is never closed";
      i = j;
    }
  }
  return {};
}

bool glob_match(const std::string& glob, const std::string& text) {
  return ::fnmatch(glob.c_str(), text.c_str(), 0) == 0;
}

bool path_glob_match(const std::string& glob, std::string_view rel_path, std::string_view member) {
  std::string rel(rel_path);
  while (rel.rfind("./", 0) == 0) rel.erase(0, 2);
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (glob.find('/') == std::string::npos) {
    auto last = [](std::string_view p) {
      const auto cut = p.find_last_of("/!");
      return std::string(cut == std::string_view::npos ? p : p.substr(cut + 1));
    };
    if (glob_match(glob, last(rel))) return true;
    return !member.empty() && glob_match(glob, last(member));
  }
  if (glob_match(glob, rel) || glob_match(glob, "/" + rel)) return true;
  if (member.empty()) return false;
  const std::string full = rel + "!" + std::string(member);
  return glob_match(glob, full) || glob_match(glob, "/" + full);
}

const std::string* first_match(const std::vector<std::string>& globs, const std::string& text) {
  for (const auto& g : globs)
    if (glob_match(g, text)) return &g;
  return nullptr;
}

std::optional<std::int64_t> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) -> int {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1970 || m < 1 || m > 12 || d < 1) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::string format_date(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace keyward::rules::detail
