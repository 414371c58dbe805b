// SPDX-License-Identifier: Apache-2.0
// The local file system as a file source: directories listed with getdents64 (types from
// d_type, no stat per entry), one fstatat per entry only when the cache layer asks, files opened
// O_NOFOLLOW | O_NONBLOCK and read by SourceFile (whole or in windows). Used by: scan.cpp (every
// scan of a path), file_scan.cpp. Never follows a symlink below a root; never opens a FIFO.
#pragma once

#include "walk/source.hpp"

#include <sys/stat.h>

namespace keyward::scanner::detail {

// The key of a stat (dev, ino, size, mtime and ctime in nanoseconds).
FileKey file_key(const struct stat& st) noexcept;

// Local files and directories (derivable: tests wrap it to inject faults).
class LocalSource : public FileSource {
 public:
  // stat.
  bool stat_root(const std::string& path, RootType& type, std::uint64_t& dev, int& err) override;
  // This machine's /proc/self/mountinfo (MountTable::load).
  MountTable mount_table(bool pseudo, bool network) override { return MountTable::load(pseudo, network); }
  // One path walk: open, fstat, later getdents64 on the same descriptor.
  DirStatus open_dir(OpenDir& dir, int& err) override;
  // stat (a root) or lstat.
  bool stat_dir(OpenDir& dir) override;
  // getdents64 into dir.entries; d_type DT_UNKNOWN costs an fstatat.
  bool list_dir(OpenDir& dir, ScanStats& stats, int& err) override;
  // Closes the descriptor.
  void close_dir(OpenDir& dir) noexcept override;
  // fstatat on the open directory, or lstat by path when it was listed from the cache.
  bool stat_entry(OpenDir& dir, std::string_view name, FileKey& key) override;
  // lstat.
  bool stat_file(const std::string& path, FileKey& key) override;
  // A SourceFile.
  ReadStatus open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                       std::unique_ptr<OpenFile>& file) override;
};

}  // namespace keyward::scanner::detail
