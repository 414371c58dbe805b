#include <keyward/rules/package_index.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>

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
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  arena.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!arena.empty() && arena.back() != '\n') arena.push_back('\n');
  return true;
}

}  // namespace

PackageIndex PackageIndex::load(const std::string& dir) {
  namespace fs = std::filesystem;
  PackageIndex idx;
  std::error_code ec;
  std::vector<fs::path> lists;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".list") == 0) lists.push_back(it->path());
  }
  std::sort(lists.begin(), lists.end());
  for (const auto& p : lists) {
    const std::size_t start = idx.arena_.size();
    if (!append_file(p, idx.arena_) || idx.arena_.size() > UINT32_MAX) {
      idx.arena_.resize(start);
      continue;
    }
    const auto pkg = static_cast<std::uint32_t>(idx.packages_.size());
    idx.packages_.push_back(package_name(p.filename().string()));
    for (std::size_t pos = start; pos < idx.arena_.size();) {
      const std::size_t nl = idx.arena_.find('\n', pos);
      if (nl > pos && idx.arena_[pos] == '/')
        idx.entries_.push_back({static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(nl - pos), pkg});
      pos = nl + 1;
    }
  }
  std::sort(idx.entries_.begin(), idx.entries_.end(),
            [&idx](const Entry& a, const Entry& b) { return idx.path_of(a) < idx.path_of(b); });
  return idx;
}

std::string_view PackageIndex::find(std::string_view path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                             [this](const Entry& e, std::string_view p) { return path_of(e) < p; });
  if (it == entries_.end() || path_of(*it) != path) return {};
  return packages_[it->package];
}

std::string_view PackageIndex::owner(std::string_view abs_path) const {
  if (entries_.empty()) return {};
  if (auto pkg = find(abs_path); !pkg.empty()) return pkg;
  // Merged /usr: /bin, /sbin and /lib* are links into /usr, and a package may list either name.
  static constexpr std::array<std::string_view, 6> kMerged{"bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/"};
  constexpr std::string_view usr = "/usr/";
  if (abs_path.substr(0, usr.size()) == usr) {
    const std::string_view rest = abs_path.substr(usr.size() - 1);  // "/lib/..."
    for (auto m : kMerged)
      if (rest.substr(1, m.size()) == m) return find(rest);
  } else {
    for (auto m : kMerged)
      if (abs_path.substr(1, m.size()) == m) return find("/usr" + std::string(abs_path));
  }
  return {};
}

}  // namespace keyward::rules
