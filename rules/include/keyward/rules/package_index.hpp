// SPDX-License-Identifier: Apache-2.0
// PackageIndex: which installed package owns a path, from dpkg's file lists
// (/var/lib/dpkg/info/*.list), read once per scoring into one text arena and a hash index of
// views into it.
// The rpm database is not read (docs/rules.md, "Provenance"). On a merged-/usr system dpkg may
// list /lib/x for a file found at /usr/lib/x: owner() tries that alias too.
// Used by: the risk engine (factor package-owned), which builds one per score() call; never a
// process-wide cache. Reads file lists only, never the files they name.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyward::rules {

class PackageIndex {
 public:
  PackageIndex() = default;

  // Reads every *.list file of `dir` (dpkg's info directory). A missing or unreadable directory
  // gives an empty index (a machine without dpkg); an unreadable list file is skipped. With
  // `wanted`, only those paths (absolute, normalised; their merged-/usr aliases are looked for
  // too) are kept: a scan asks about its findings' few thousand paths, not dpkg's 150,000, and the
  // whole index was 11 MiB of a scan's peak memory.
  static PackageIndex load(const std::string& dir, const std::vector<std::string>* wanted = nullptr);

  // The package that lists `abs_path` (an absolute, normalised path), or "" when none does.
  std::string_view owner(std::string_view abs_path) const;

  // How many paths and list files were read (docs/performance.md).
  std::size_t paths() const { return owners_.size(); }
  std::size_t lists() const { return packages_.size(); }

 private:
  std::string_view find(std::string_view path) const;

  // Every list file's text, one after the other; on the heap so that the views stay valid when
  // the index moves.
  std::unique_ptr<std::string> arena_;
  std::unordered_map<std::string_view, std::uint32_t> owners_;  // path -> index in packages_
  std::vector<std::string> packages_;
};

}  // namespace keyward::rules
