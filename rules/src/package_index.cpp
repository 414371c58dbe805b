// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/package_index.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

namespace keyward::rules {

namespace {

// The package name of "libssl3:amd64.list": "libssl3".
std::string package_name(const std::string& file_name) {
  std::string name = file_name.substr(0, file_name.size() - 5);  // without ".list"
  if (const auto colon = name.find(':'); colon != std::string::npos) name.erase(colon);
  return name;
}

// Appends the file's bytes to `arena`; false when it cannot be read.
bool append_file(const std::filesystem::path& p, std::string& arena) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  std::ifstream in(p, std::ios::binary);
  if (ec || !in) return false;
  const std::size_t start = arena.size();
  arena.resize(start + size);
  in.read(arena.data() + start, static_cast<std::streamsize>(size));
  arena.resize(start + static_cast<std::size_t>(in.gcount()));
  if (arena.size() > start && arena.back() != '\n') arena.push_back('\n');
  return true;
}

}  // namespace

namespace {

constexpr std::array<std::string_view, 6> kMerged{"bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/"};
constexpr std::string_view kUsr = "/usr/";

// The name a merged-/usr system may list `path` under instead ("/usr/lib/x" <-> "/lib/x"), or "".
std::string merged_alias(std::string_view path) {
  if (path.substr(0, kUsr.size()) == kUsr) {
    const std::string_view rest = path.substr(kUsr.size() - 1);  // "/lib/..."
    for (auto m : kMerged)
      if (rest.substr(1, m.size()) == m) return std::string(rest);
  } else {
    for (auto m : kMerged)
      if (path.substr(1, m.size()) == m) return "/usr" + std::string(path);
  }
  return {};
}

}  // namespace

PackageIndex PackageIndex::load(const std::string& dir, const std::vector<std::string>* wanted) {
  namespace fs = std::filesystem;
  PackageIndex idx;
  idx.arena_ = std::make_unique<std::string>();
  std::string& arena = *idx.arena_;
  std::error_code ec;
  std::vector<fs::path> lists;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".list") == 0) lists.push_back(it->path());
  }
  std::sort(lists.begin(), lists.end());
  // Read everything first (the arena grows), then index views into it.
  std::vector<std::size_t> ends;
  for (const auto& p : lists) {
    const std::size_t start = arena.size();
    if (!append_file(p, arena)) {
      arena.resize(start);
      continue;
    }
    idx.packages_.push_back(package_name(p.filename().string()));
    ends.push_back(arena.size());
  }
  std::unordered_map<std::string_view, bool> keep;  // the wanted paths and their aliases
  std::vector<std::string> aliases;
  if (wanted != nullptr) {
    aliases.reserve(wanted->size());
    for (const auto& w : *wanted) {
      keep.emplace(w, true);
      if (auto a = merged_alias(w); !a.empty()) aliases.push_back(std::move(a));
    }
    for (const auto& a : aliases) keep.emplace(a, true);
  } else {
    idx.owners_.reserve(static_cast<std::size_t>(std::count(arena.begin(), arena.end(), '\n')));
  }
  std::vector<std::pair<std::string_view, std::uint32_t>> kept;
  const std::string_view text(arena);
  std::size_t pos = 0;
  for (std::uint32_t pkg = 0; pkg < ends.size(); ++pkg) {
    while (pos < ends[pkg]) {
      const std::size_t nl = text.find('\n', pos);
      const std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty() || line.front() != '/') continue;
      if (wanted == nullptr) idx.owners_.emplace(line, pkg);  // first one wins
      else if (keep.count(line) != 0) kept.emplace_back(line, pkg);
    }
  }
  if (wanted == nullptr) return idx;
  // Only what was asked for stays: its own small arena, the list files' text freed.
  auto small = std::make_unique<std::string>();
  std::size_t bytes = 0;
  for (const auto& [line, pkg] : kept) bytes += line.size();
  small->reserve(bytes);
  std::vector<std::size_t> starts;
  for (const auto& [line, pkg] : kept) {
    starts.push_back(small->size());
    small->append(line);
  }
  for (std::size_t i = 0; i < kept.size(); ++i)
    idx.owners_.emplace(std::string_view(*small).substr(starts[i], kept[i].first.size()), kept[i].second);
  idx.arena_ = std::move(small);
  return idx;
}

std::string_view PackageIndex::find(std::string_view path) const {
  const auto it = owners_.find(path);
  return it == owners_.end() ? std::string_view() : std::string_view(packages_[it->second]);
}

std::string_view PackageIndex::owner(std::string_view abs_path) const {
  if (owners_.empty()) return {};
  if (auto pkg = find(abs_path); !pkg.empty()) return pkg;
  // Merged /usr: /bin, /sbin and /lib* are links into /usr, and a package may list either name.
  if (const std::string alias = merged_alias(abs_path); !alias.empty()) return find(alias);
  return {};
}

}  // namespace keyward::rules
