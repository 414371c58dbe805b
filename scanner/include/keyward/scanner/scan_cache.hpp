// SPDX-License-Identifier: Apache-2.0
// The incremental scan cache: what each file held, keyed on its device, inode, size, mtime and
// ctime (ctime catches a rewrite whose mtime was restored), and what each directory listed,
// keyed the same way (adding, removing or renaming an entry changes the directory's mtime and
// ctime), so that a rescan of an unchanged tree neither lists directories nor reads files: it
// stats each directory and file once. Void as a whole when keyward's version or an option that
// changes results differs. Holds facts, fingerprints and names only (findings, never key
// bytes); written with mode 0600. Used by: `keyward scan --cache`, the agent.
//
// A version seen within kRacyNs of the start of the scan that saw it is not remembered: a
// change in the same clock tick as that look could keep every stat field, so such a file or
// directory is read again next time (git's "racy clean" rule).
#pragma once

#include <keyward/scanner/finding.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner {

struct ScanOptions;

// What identifies one version of a file or directory.
struct FileKey {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileKey&) const = default;
};

// One entry of a remembered directory listing: its name and its d_type (DT_REG, DT_DIR, ...).
struct CachedEntry {
  static constexpr std::uint32_t kNoFile = 0xffffffff;
  std::string_view name;  // followed by a NUL in memory: name.data() is a C string
  unsigned char type = 0;
  std::uint32_t file = kNoFile;  // where the cache keeps this file, a hint for reuse()
};

class ScanCache {
 public:
  static constexpr std::int64_t kRacyNs = 1'000'000'000;

  // The fingerprint of everything that changes results: version and result-relevant options.
  static std::string fingerprint(const ScanOptions& options);

  // Loads a cache file; an absent, unreadable, corrupt or differently-fingerprinted file gives
  // an empty cache (`loaded_entries()` says how much was reused). Never throws for content.
  static ScanCache load(const std::string& path, const std::string& fingerprint);
  // The same from a cache file's bytes (the fuzzer's entry point).
  static ScanCache parse(std::string bytes, const std::string& fingerprint);

  // Writes the entries seen in this scan (files and directories no longer there are dropped),
  // atomically, 0600; when nothing changed since it was loaded from this same path, leaves the
  // file untouched. Throws std::runtime_error with an actionable message when it cannot be
  // written.
  void save(const std::string& path) const;

  // FNV-1a (64 bits) of a path, continued from `from` (the hash of a prefix): path_hash(b + n)
  // == path_hash(n, path_hash(b)). A directory is remembered under the hash of its path with a
  // trailing '/'.
  static constexpr std::uint64_t kPathHashSeed = 1469598103934665603ull;
  static std::uint64_t path_hash(std::string_view path, std::uint64_t from = kPathHashSeed);

  // Whether some listing of this directory is remembered (else a walker need not stat it first).
  bool has_listing(std::uint64_t dir_hash) const;
  // Fills `out` with the entries the directory held when its stat was `key` (names point into
  // the cache, valid while it lives) and keeps that listing for the next save; false when
  // unknown or changed (then list it and call store_listing). Thread-safe.
  bool listing(std::uint64_t dir_hash, const FileKey& key, std::vector<CachedEntry>& out);
  // Records a directory listed in full (key from a stat taken before listing). Thread-safe.
  void store_listing(std::uint64_t dir_hash, const FileKey& key, const std::vector<CachedEntry>& entries);

  // Appends the findings a file held when it had this key, adds the counts its scan made (what
  // was rejected, skipped inside it, trust-store certificates: facts about the tree, not work
  // done) to `stats`, and keeps its entry for the next save; false when unknown or changed (then
  // scan it and call store). Thread-safe.
  bool reuse(const std::string& path, const FileKey& key, std::vector<Finding>& out, ScanStats& stats);
  // The same, by path_hash(path): a walker hashes a directory's path once and each name on.
  // `hint` is a remembered listing's CachedEntry::file (then no lookup is needed).
  bool reuse(std::uint64_t path_hash, const FileKey& key, std::vector<Finding>& out, ScanStats& stats,
             std::uint32_t hint = CachedEntry::kNoFile);
  // Records a scanned file: its findings (may be none) and the counts its scan made. Thread-safe.
  void store(const std::string& path, const FileKey& key, const std::vector<Finding>& findings,
             const ScanStats& stats = {});

  // Files remembered by the loaded cache file.
  std::size_t loaded_entries() const { return n_files_; }

  // One remembered file or directory: on disk as in memory, 64 bytes.
  struct Record {
    std::uint64_t hash = 0, dev = 0, ino = 0, size = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    std::uint64_t offset = 0;  // into the findings (files) or names (directories) area
    std::uint32_t length = 0;  // bytes there
    std::uint32_t count = 0;   // findings or entries
  };

 private:
  // This scan's new entries, in shards by hash (a lock each): a record and its bytes in the
  // shard's arena, 64 bytes a file or directory plus what it holds (a hash map of strings had
  // cost about 130).
  struct Shard {
    std::mutex mu;
    std::vector<Record> files, dirs;
    std::string file_data, dir_data;
  };
  static constexpr std::size_t kShards = 16;
  // A file or directory to write: from shard `src`, or remembered (src == kOld), at `index`.
  struct Ref {
    std::uint64_t hash;
    std::uint32_t src, index;
  };
  static constexpr std::uint32_t kOld = 0xffffffff;

  static ScanCache empty(const std::string& fingerprint);
  static ScanCache from_buffer(std::unique_ptr<std::uint64_t[]> buffer, std::size_t size,
                               const std::string& fingerprint);
  const Record* find_dir(std::uint64_t hash, const FileKey* key) const;
  const Record* find_file(std::uint64_t hash, const FileKey& key) const;
  static bool decode_listing(std::string_view names, const Record& r, std::vector<CachedEntry>& out);
  void add(std::uint64_t hash, const FileKey& key, std::string_view data, std::uint32_t count, bool dir);
  std::string_view data_of(const Ref& r, bool dir) const;
  const Record& ref_record(const Ref& r, bool dir) const;
  // save() in steps: whether the file would not change, what is kept, in which order, written how.
  struct SavePlan;
  class Writer;
  bool unchanged_since_load(const std::string& path) const;
  std::vector<Ref> gather(bool dir) const;
  bool listing_of(const Ref& dir, std::vector<CachedEntry>& entries) const;
  SavePlan plan() const;
  void write_areas(const SavePlan& plan, Writer& out) const;

  std::string fingerprint_;
  std::string loaded_from_;      // the path of a cache file read whole and valid; "" otherwise
  std::int64_t started_ns_ = 0;  // when this scan began: what changed after it, minus kRacyNs, is racy
  // The loaded file (8-byte aligned): records are read in place. Read-only during a scan but for
  // the `used` flags (visited in this scan: kept by save()).
  std::unique_ptr<std::uint64_t[]> bytes_;
  const Record* files_ = nullptr;  // in the order directories list them
  const Record* dirs_ = nullptr;   // sorted by hash
  std::size_t n_files_ = 0, n_dirs_ = 0;
  std::string_view names_, findings_;
  std::vector<std::uint32_t> dir_index_;  // bucket b (top bits of a hash) holds dirs_[i .. i+1)
  unsigned dir_shift_ = 63;
  std::unique_ptr<std::atomic<bool>[]> file_used_, dir_used_;
  // Files by hash, built on first need (a changed directory, a file given as a root).
  mutable std::unique_ptr<std::once_flag> file_index_once_ = std::make_unique<std::once_flag>();
  mutable std::vector<std::pair<std::uint64_t, std::uint32_t>> file_index_;
  std::unique_ptr<Shard[]> shards_ = std::make_unique<Shard[]>(kShards);  // a pointer: movable cache
};

}  // namespace keyward::scanner
