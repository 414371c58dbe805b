// SPDX-License-Identifier: Apache-2.0
// The scan cache as a layer over a file source: a directory whose stat matches the one
// remembered is listed from the cache (neither opened nor read), an unchanged file is settled
// with one stat and its remembered findings, and what the layer below lists and reads whole is
// remembered for the next scan. Used by: scan.cpp when a ScanCache is given. Holds no state of
// its own beyond the cache; never remembers a listing that was not whole.
#pragma once

#include "walk/source.hpp"

#include <atomic>

namespace keyward::scanner::detail {

// A FileSource that answers from a ScanCache where it can and asks `inner` otherwise.
class CachedSource final : public FileSource {
 public:
  // `cancel` (may be null): once set, listings are no longer remembered.
  CachedSource(FileSource& inner, ScanCache& cache, const std::atomic<bool>* cancel)
      : inner_(inner), cache_(cache), cancel_(cancel) {}

  // Inner's.
  bool stat_root(const std::string& path, RootType& type, std::uint64_t& dev, int& err) override {
    return inner_.stat_root(path, type, dev, err);
  }
  // Inner's.
  MountTable mount_table(bool pseudo, bool network) override { return inner_.mount_table(pseudo, network); }
  // Inner's.
  bool stopped() const noexcept override { return inner_.stopped(); }
  // Inner's.
  bool local() const noexcept override { return inner_.local(); }
  // From the cache when the directory's stat matches a remembered listing, else from inner.
  DirStatus open_dir(OpenDir& dir, int& err) override;
  // Inner's.
  bool stat_dir(OpenDir& dir) override { return inner_.stat_dir(dir); }
  // Nothing to do for a listing from the cache; else inner's, remembered when whole.
  bool list_dir(OpenDir& dir, ScanStats& stats, int& err) override;
  // Inner's.
  void close_dir(OpenDir& dir) noexcept override { inner_.close_dir(dir); }
  // Inner's.
  bool stat_entry(OpenDir& dir, std::string_view name, FileKey& key) override {
    return inner_.stat_entry(dir, name, key);
  }
  // Inner's.
  bool stat_file(const std::string& path, FileKey& key) override { return inner_.stat_file(path, key); }
  // Inner's.
  ReadStatus open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                       std::unique_ptr<OpenFile>& file) override {
    return inner_.open_file(path, max_size, facts, err, file);
  }
  // One stat, then the remembered file of this path hashed on from its directory's.
  bool reuse_entry(OpenDir& dir, const CachedEntry& entry, FileKey& key, std::vector<Finding>& out,
                   ScanStats& stats) override;
  // One stat, then the remembered file of this path.
  bool reuse_file(const std::string& path, FileKey& key, std::vector<Finding>& out, ScanStats& stats) override;
  // ScanCache::store.
  void remember(const std::string& path, const FileKey& key, std::span<const Finding> findings,
                const ScanStats& counts) override;

 private:
  FileSource& inner_;
  ScanCache& cache_;
  const std::atomic<bool>* cancel_;
};

}  // namespace keyward::scanner::detail
