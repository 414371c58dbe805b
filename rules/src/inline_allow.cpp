// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/inline_allow.hpp>

#include <sys/stat.h>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace keyward::rules {
namespace {

constexpr std::string_view kMarker = "keyward:allow";
constexpr std::uint64_t kAllowWindow = 3;  // a comment allows a block starting within the next 3 lines

bool space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// True when a comment starts before `at` on this line: '#', '//', '/*', '<!--', '--', ';' or a
// block-comment continuation '*' at the start of the line. '#', '--' and ';' must start the line
// or follow a space, so "a#b" or "x--y" inside code does not count.
bool in_comment(std::string_view line, std::size_t at) {
  const std::string_view head = line.substr(0, at);
  const std::string_view lead = trim(head);
  if (!lead.empty() && lead.front() == '*') return true;
  for (std::string_view open : {"//", "/*", "<!--"})
    if (head.find(open) != std::string_view::npos) return true;
  for (std::string_view open : {"#", "--", ";"}) {
    for (std::size_t p = head.find(open); p != std::string_view::npos; p = head.find(open, p + 1))
      if (p == 0 || space(head[p - 1])) return true;
  }
  return false;
}

// The reason of a `keyward:allow` comment on `text` (one line), or nullopt when there is none.
std::optional<std::string> marker_reason(std::string_view text) {
  for (std::size_t at = text.find(kMarker); at != std::string_view::npos; at = text.find(kMarker, at + 1)) {
    const std::size_t after = at + kMarker.size();
    // A whole word: "keyward:allowed" or "keyward:allow_x" is not the marker.
    if (after < text.size()) {
      const char c = text[after];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') continue;
    }
    if (!in_comment(text, at)) continue;
    std::string_view rest = text.substr(after);
    for (std::string_view close : {"*/", "-->"})
      if (auto p = rest.find(close); p != std::string_view::npos) rest = rest.substr(0, p);
    rest = trim(rest);
    while (!rest.empty() && (rest.front() == ':' || rest.front() == '-' || rest.front() == '='))
      rest = trim(rest.substr(1));
    return std::string(rest);
  }
  return std::nullopt;
}

}  // namespace

std::uint64_t inline_allowed(std::string_view file_text, std::uint64_t line, std::string& reason, std::uint64_t after) {
  reason.clear();
  if (line < 2) return 0;
  const std::uint64_t first = std::max<std::uint64_t>({1, line > kAllowWindow ? line - kAllowWindow : 1, after + 1});
  // The start of every line from `first` to `line - 1` (1-based); the block's own line must follow.
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [start, end) of lines first..line-1
  std::size_t start = 0;
  for (std::uint64_t n = 1; n < line; ++n) {
    const auto nl = file_text.find('\n', start);
    if (nl == std::string_view::npos) return 0;
    if (n >= first) spans.emplace_back(start, nl);
    start = nl + 1;
  }
  for (std::uint64_t i = spans.size(); i-- > 0;) {  // the nearest comment above the block first
    auto r = marker_reason(file_text.substr(spans[i].first, spans[i].second - spans[i].first));
    if (!r) continue;
    reason = std::move(*r);
    return first + i;
  }
  return 0;
}

std::size_t apply_inline_allows(scanner::ScanResult& result, std::uint64_t max_size) {
  std::map<std::string, std::string> cache;  // path -> text ("" when unreadable)
  // path -> the lines where findings start: a comment allows only the first block after it.
  std::map<std::string, std::set<std::uint64_t>> starts;
  for (const auto& f : result.findings)
    if (f.location.member.empty()) starts[f.location.path].insert(f.location.line);
  std::size_t n = 0;
  for (auto& f : result.findings) {
    if (f.suppressed || f.location.line < 2 || !f.location.member.empty()) continue;
    auto it = cache.find(f.location.path);
    if (it == cache.end()) {
      std::string text;
      struct stat st {};
      if (::stat(f.location.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          static_cast<std::uint64_t>(st.st_size) <= max_size) {
        std::ifstream in(f.location.path, std::ios::binary);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      it = cache.emplace(f.location.path, std::move(text)).first;
    }
    const auto& lines = starts[f.location.path];
    const auto before = lines.lower_bound(f.location.line);
    const std::uint64_t previous = before == lines.begin() ? 0 : *std::prev(before);
    std::string reason;
    const std::uint64_t at = inline_allowed(it->second, f.location.line, reason, previous);
    if (at == 0) continue;
    std::string why = "keyward:allow at " + f.location.path + ":" + std::to_string(at);
    if (!reason.empty()) why += ": " + reason;
    f.suppressed = scanner::Suppression{"inline", std::move(why)};
    ++n;
  }
  return n;
}

}  // namespace keyward::rules
