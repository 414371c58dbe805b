// The incremental scan cache: what each file held, keyed on its device, inode, size, mtime and
// ctime (ctime catches a rewrite whose mtime was restored), so that a rescan of an unchanged
// tree only stats files. Void as a whole when keyward's version or an option that changes
// results differs. Holds facts and fingerprints only (findings, never key bytes); written with
// mode 0600. Used by: `keyward scan --cache`, the agent.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyward::scanner {

struct ScanOptions;

// What identifies one version of a file.
struct FileKey {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileKey&) const = default;
};

class ScanCache {
 public:
  // The fingerprint of everything that changes results: version and result-relevant options.
  static std::string fingerprint(const ScanOptions& options);

  // Loads a cache file; an absent, unreadable, corrupt or differently-fingerprinted file gives
  // an empty cache (`loaded_entries()` says how much was reused). Never throws for content.
  static ScanCache load(const std::string& path, const std::string& fingerprint);

  // Writes the entries seen in this scan (files no longer there are dropped), atomically, 0600;
  // when nothing changed since it was loaded from this same path, leaves the file untouched.
  // Throws std::runtime_error with an actionable message when it cannot be written.
  void save(const std::string& path) const;

  // Appends the findings a file held when it had this key and keeps its entry for the next
  // save; false when unknown or changed (then scan it and call store). Thread-safe.
  bool reuse(const std::string& path, const FileKey& key, std::vector<Finding>& out);
  // The same, by path_hash(path): a walker hashes a directory's path once and each name on.
  bool reuse(std::uint64_t path_hash, const FileKey& key, std::vector<Finding>& out);

  // FNV-1a (64 bits) of a path, continued from `from` (the hash of a prefix): path_hash(b + n)
  // == path_hash(n, path_hash(b)).
  static constexpr std::uint64_t kPathHashSeed = 1469598103934665603ull;
  static std::uint64_t path_hash(std::string_view path, std::uint64_t from = kPathHashSeed);
  // Records a scanned file (findings may be empty). Thread-safe.
  void store(const std::string& path, const FileKey& key, const std::vector<Finding>& findings);

  std::size_t loaded_entries() const { return old_.size(); }

 private:
  struct Entry {
    FileKey key;
    std::vector<std::string> findings;  // each: {"f": finding JSON, "i": identity, "r": relative path}
    bool reused = false;  // set by the one worker that visits this path: no lock needed
  };

  std::string fingerprint_;
  std::string loaded_from_;  // the path of a cache file read whole and valid; "" otherwise
  std::unordered_map<std::uint64_t, Entry> old_;   // read-only during a scan
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();  // movable cache
  std::unordered_map<std::uint64_t, Entry> seen_;  // this scan's entries
};

}  // namespace keyward::scanner
