// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/ignore_file.hpp>

#include <keyward/rules/rule_error.hpp>

#include "wildmatch.hpp"
#include "yaml_reader.hpp"

namespace keyward::rules {

namespace {
constexpr std::size_t kMaxPatterns = 10000;
constexpr std::size_t kMaxPatternBytes = 4096;
constexpr std::uint64_t kMaxFileBytes = 1u << 20;

// git's trim_trailing_spaces: trailing spaces go unless the last one is escaped.
void trim_trailing_spaces(std::string& s) {
  std::size_t last_space = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ') {
      if (last_space == std::string::npos) last_space = i;
    } else if (s[i] == '\\') {
      ++i;
      if (i >= s.size()) return;
      last_space = std::string::npos;
    } else {
      last_space = std::string::npos;
    }
  }
  if (last_space != std::string::npos) s.erase(last_space);
}

std::string normalise(std::string_view p) {
  std::string s(p);
  while (s.rfind("./", 0) == 0) s.erase(0, 2);
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

IgnoreFile IgnoreFile::load(const std::string& path) {
  return parse(detail::read_text_file(path, kMaxFileBytes), path);
}

IgnoreFile IgnoreFile::parse(std::string_view text, const std::string& source) {
  IgnoreFile out;
  out.source_ = source;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // git skips a UTF-8 BOM
  std::uint64_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (line.size() > kMaxPatternBytes)
      throw RuleError(source, line_no, "too-large", "a pattern longer than 4096 bytes: is this an ignore file?");
    trim_trailing_spaces(line);
    Pattern p;
    p.line = line_no;
    std::string_view v = line;
    if (!v.empty() && v.front() == '!') {
      p.negated = true;
      v.remove_prefix(1);
    }
    if (!v.empty() && v.back() == '/') {
      p.dir_only = true;
      v.remove_suffix(1);
    }
    p.basename = v.find('/') == std::string_view::npos;
    if (!p.basename && v.front() == '/') v.remove_prefix(1);  // anchored: the leading '/' only says so
    if (v.empty()) continue;
    p.glob = detail::collapse_double_stars(std::string(v));
    if (out.patterns_.size() >= kMaxPatterns)
      throw RuleError(source, line_no, "too-large", "more than 10000 patterns: is this an ignore file?");
    out.patterns_.push_back(std::move(p));
  }
  return out;
}

const IgnoreFile::Pattern* IgnoreFile::last_match(const std::string& path, bool is_dir) const {
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  for (auto it = patterns_.rbegin(); it != patterns_.rend(); ++it) {
    if (it->dir_only && !is_dir) continue;
    // A pattern without '/' matches the name at any depth; otherwise the whole relative path.
    const bool hit = it->basename ? detail::wildmatch(it->glob, base, false) : detail::wildmatch(it->glob, path, true);
    if (hit) return &*it;
  }
  return nullptr;
}

std::uint64_t IgnoreFile::ignoring_line(std::string_view rel_path, bool is_dir) const {
  const std::string path = normalise(rel_path);
  if (path.empty() || patterns_.empty()) return 0;
  // A parent directory that is ignored hides everything below it (git never looks inside).
  for (std::size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    const Pattern* p = last_match(path.substr(0, pos), true);
    if (p != nullptr && !p->negated) return p->line;
  }
  const Pattern* p = last_match(path, is_dir);
  return p != nullptr && !p->negated ? p->line : 0;
}

std::size_t apply_ignore_file(scanner::ScanResult& result, const IgnoreFile& ignore) {
  std::size_t n = 0;
  for (auto& f : result.findings) {
    if (f.suppressed) continue;
    const std::string& rel = f.relative_path.empty() ? f.location.path : f.relative_path;
    if (const auto line = ignore.ignoring_line(rel, false); line != 0) {
      f.suppressed = scanner::Suppression{"ignore-file", ignore.source() + ":" + std::to_string(line)};
      ++n;
    }
  }
  return n;
}

}  // namespace keyward::rules
