// PackageIndex: which installed package owns a path, from dpkg's file lists
// (/var/lib/dpkg/info/*.list), read once per scoring into one text arena and a sorted index.
// The rpm database is not read (docs/rules.md, "Provenance"). On a merged-/usr system dpkg may
// list /lib/x for a file found at /usr/lib/x: owner() tries that alias too.
// Used by: the risk engine (factor package-owned), which builds one per score() call; never a
// process-wide cache. Reads file lists only, never the files they name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules {

class PackageIndex {
 public:
  PackageIndex() = default;

  // Reads every *.list file of `dir` (dpkg's info directory). A missing or unreadable directory
  // gives an empty index (a machine without dpkg); an unreadable list file is skipped.
  static PackageIndex load(const std::string& dir);

  // The package that lists `abs_path` (an absolute, normalised path), or "" when none does.
  std::string_view owner(std::string_view abs_path) const;

  // How many paths and list files were read (docs/performance.md).
  std::size_t paths() const { return entries_.size(); }
  std::size_t lists() const { return packages_.size(); }

 private:
  struct Entry {
    std::uint32_t offset;  // into arena_
    std::uint32_t length;
    std::uint32_t package;  // into packages_
  };
  std::string_view path_of(const Entry& e) const { return std::string_view(arena_).substr(e.offset, e.length); }
  std::string_view find(std::string_view path) const;

  std::string arena_;           // every list file's text, one after the other
  std::vector<Entry> entries_;  // sorted by path
  std::vector<std::string> packages_;
};

}  // namespace keyward::rules
