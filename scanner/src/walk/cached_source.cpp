// SPDX-License-Identifier: Apache-2.0
#include "walk/cached_source.hpp"

namespace keyward::scanner::detail {

DirStatus CachedSource::open_dir(OpenDir& dir, int& err) {
  dir.path_hash = ScanCache::path_hash(dir.base);
  dir.from_cache = false;
  // A rescan: a directory whose stat matches the one remembered is listed from the cache, and
  // neither opened nor read. Adding, removing or renaming an entry changes its mtime and ctime.
  if (cache_.has_listing(dir.path_hash) && inner_.stat_dir(dir) &&
      cache_.listing(dir.path_hash, dir.key, dir.entries)) {
    dir.from_cache = true;
    return DirStatus::ok;
  }
  return inner_.open_dir(dir, err);
}

bool CachedSource::list_dir(OpenDir& dir, ScanStats& stats, int& err) {
  if (dir.from_cache) return true;
  // What was listed is scanned even when the listing broke off; only a whole one is remembered.
  const bool whole = inner_.list_dir(dir, stats, err);
  if (whole && !(cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)))
    cache_.store_listing(dir.path_hash, dir.key, dir.entries);
  return whole;
}

bool CachedSource::reuse_entry(OpenDir& dir, const CachedEntry& entry, FileKey& key, std::vector<Finding>& out,
                               ScanStats& stats) {
  // An unchanged file is settled here, with one stat, and its path hashed on from the
  // directory's (no string made, no queueing).
  if (!inner_.stat_entry(dir, entry.name, key)) return false;
  return cache_.reuse(ScanCache::path_hash(entry.name, dir.path_hash), key, out, stats, entry.file);
}

bool CachedSource::reuse_file(const std::string& path, FileKey& key, std::vector<Finding>& out, ScanStats& stats) {
  if (!inner_.stat_file(path, key)) return false;
  return cache_.reuse(path, key, out, stats);
}

void CachedSource::remember(const std::string& path, const FileKey& key, std::span<const Finding> findings,
                            const ScanStats& counts) {
  cache_.store(path, key, std::vector<Finding>(findings.begin(), findings.end()), counts);
}

}  // namespace keyward::scanner::detail
