#include <keyward/rules/inline_allow.hpp>

#include <sys/stat.h>
#include <fstream>
#include <map>

namespace keyward::rules {
namespace {

constexpr std::string_view kMarker = "keyward:allow";

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

}  // namespace

bool inline_allowed(std::string_view file_text, std::uint64_t line, std::string& reason) {
  reason.clear();
  if (line < 2) return false;
  // Find line `line - 1` (1-based).
  std::size_t start = 0;
  for (std::uint64_t n = 1; n < line - 1; ++n) {
    const auto nl = file_text.find('\n', start);
    if (nl == std::string_view::npos) return false;
    start = nl + 1;
  }
  auto end = file_text.find('\n', start);
  if (end == std::string_view::npos) return false;  // the block's own line must follow
  const std::string_view text = file_text.substr(start, end - start);
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
    reason = std::string(rest);
    return true;
  }
  return false;
}

std::size_t apply_inline_allows(scanner::ScanResult& result, std::uint64_t max_size) {
  std::map<std::string, std::string> cache;  // path -> text ("" when unreadable)
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
    std::string reason;
    if (!inline_allowed(it->second, f.location.line, reason)) continue;
    std::string why = "keyward:allow at " + f.location.path + ":" + std::to_string(f.location.line - 1);
    if (!reason.empty()) why += ": " + reason;
    f.suppressed = scanner::Suppression{"inline", std::move(why)};
    ++n;
  }
  return n;
}

}  // namespace keyward::rules
