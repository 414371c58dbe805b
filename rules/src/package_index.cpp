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

PackageIndex PackageIndex::load(const std::string& dir) {
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
  idx.owners_.reserve(static_cast<std::size_t>(std::count(arena.begin(), arena.end(), '\n')));
  const std::string_view text(arena);
  std::size_t pos = 0;
  for (std::uint32_t pkg = 0; pkg < ends.size(); ++pkg) {
    while (pos < ends[pkg]) {
      const std::size_t nl = text.find('\n', pos);
      if (nl > pos && text[pos] == '/') idx.owners_.emplace(text.substr(pos, nl - pos), pkg);  // first one wins
      pos = nl + 1;
    }
  }
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
