// SPDX-License-Identifier: Apache-2.0
// A file source: what the walker (walk/walker.hpp) walks and reads. It lists a directory, stats
// an entry and opens a file for reading; the walker never touches the file system itself. Used
// by: the walker, file_scan.cpp, the cache layer (walk/cached_source.hpp), tests (a source that
// injects faults). A source never reads a file outside a scan's read budget (open_file only
// opens; the reader asks the budget before it reads) and never follows a symlink below a root.
//
// Sources, and where a new one goes:
// - the local file system: walk/local_source.hpp (getdents64, one fstatat per entry, O_NOFOLLOW);
// - the scan cache: walk/cached_source.hpp, a layer over any source that settles unchanged
//   files and directories from what the last scan saw;
// - an archive member: a source over one archive whose list_dir gives the members under a path
//   (from one pass over the headers) and whose open_file gives an OpenFile over the inflated
//   member. A streamed format (tar.gz) cannot seek back to a member, so such a source inflates
//   members in listing order, as the walker asks for them. Today archive.cpp still reads
//   members itself, inside one file's scan, under that file's ArchiveBudget;
// - a git blob: a source over a tree object (list_dir: its entries; open_file: the blob's bytes
//   from the object store; the key: the blob id in place of dev and ino);
// - a remote tree (SFTP): walk/remote_source.hpp, over a RemoteFileSystem (remote_fs.hpp): the
//   listing carries every entry's attributes, the mount table is the remote host's, and a file is
//   read with as few round trips as its reader allows.
// One class each, deriving from FileSource; the walker, the cache layer and the detectors stay as
// they are.
#pragma once

#include "file_source.hpp"
#include "mounts.hpp"

#include <keyward/scanner/finding.hpp>
#include <keyward/scanner/scan_cache.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// One directory being walked, owned by one worker and reused for the next (its buffers stay).
struct OpenDir {
  std::string path;                  // as reached from the root (opened and named in errors)
  std::string base;                  // path with a trailing '/': entries' paths start with it
  bool is_root = false;              // a root may be reached through a symlink; nothing below it
  FileKey key;                       // its stat: dev and ino for loop and file-system checks
  std::vector<CachedEntry> entries;  // what it holds (names followed by a NUL)
  std::vector<FileKey> keys;         // each entry's stat, when the source's listing gives them (else empty)
  bool from_cache = false;           // listed by the cache layer: neither opened nor read
  std::uint64_t path_hash = 0;       // the cache layer's ScanCache::path_hash(base)
  int fd = -1;                       // the local source's descriptor (-1: not open)
  std::string names;                 // where a source keeps the names it listed
  std::vector<char> buffer;          // a source's listing buffer
  std::string scratch;               // a source's path buffer
};

// What opening a directory gave.
enum class DirStatus {
  ok,            // open (or listed by the cache layer) and stat-ed
  unreadable,    // stat-ed, but it cannot be listed (err says why)
  vanished,      // gone since its parent listed it
  changed_type,  // no longer a directory (or a symlink now)
  failed,        // not even stat-ed (err says why)
};

// What a root is (a symlink root is followed).
enum class RootType { directory, regular, other };

// The interface every source implements (see the top of this file).
class FileSource {
 public:
  virtual ~FileSource() = default;

  // Stats a root, following a symlink: its type and device; false (err set) when it cannot be
  // stat-ed.
  virtual bool stat_root(const std::string& path, RootType& type, std::uint64_t& dev, int& err) = 0;
  // The mount table the walker skips pseudo and network file systems by (`pseudo`, `network`:
  // whether to skip them).
  virtual MountTable mount_table(bool pseudo, bool network) = 0;
  // True once the source can give nothing more (a lost connection): the walk stops and the
  // result is incomplete.
  virtual bool stopped() const noexcept { return false; }
  // Whether paths name this machine's files: a file's owner is then looked up among this
  // machine's users when the source did not name it, and the files beside a store (passwords)
  // are read from this machine's disk. A remote source says no: no local lookup, and those files
  // are read through the source.
  virtual bool local() const noexcept { return true; }

  // Opens dir.path for listing and stats it into dir.key.
  virtual DirStatus open_dir(OpenDir& dir, int& err) = 0;
  // Stats dir.path into dir.key without opening it; false when it is not a directory.
  virtual bool stat_dir(OpenDir& dir) = 0;
  // Lists an open directory into dir.entries. False when the listing is not whole: a read error
  // (err set; what was listed stays) or an entry that vanished (counted in stats, err 0).
  virtual bool list_dir(OpenDir& dir, ScanStats& stats, int& err) = 0;
  // Releases what open_dir holds.
  virtual void close_dir(OpenDir& dir) noexcept = 0;
  // Stats entry `name` of dir (name.data() is a C string), no symlink followed; false when it is
  // not a regular file (any more).
  virtual bool stat_entry(OpenDir& dir, std::string_view name, FileKey& key) = 0;
  // Stats the file at `path`, no symlink followed; false when it is not a regular file.
  virtual bool stat_file(const std::string& path, FileKey& key) = 0;
  // Opens the regular file at `path` and fills `facts`; anything but ok leaves `file` empty.
  virtual ReadStatus open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                               std::unique_ptr<OpenFile>& file) = 0;

  // The cache layer's hooks; a plain source remembers nothing.
  // Settles an unchanged entry of dir from what is remembered: appends its findings and counts
  // and returns true. `key` gets the file's stat when one was taken (then reuse_file is not asked).
  virtual bool reuse_entry(OpenDir& /*dir*/, const CachedEntry& /*entry*/, FileKey& /*key*/,
                           std::vector<Finding>& /*out*/, ScanStats& /*stats*/) {
    return false;
  }
  // The same for a file by path (a root, a file of a list); `key` as above.
  virtual bool reuse_file(const std::string& /*path*/, FileKey& /*key*/, std::vector<Finding>& /*out*/,
                          ScanStats& /*stats*/) {
    return false;
  }
  // Remembers what a file read in full held (key: its stat from reuse_entry or reuse_file).
  virtual void remember(const std::string& /*path*/, const FileKey& /*key*/, std::span<const Finding> /*findings*/,
                        const ScanStats& /*counts*/) {}
};

}  // namespace keyward::scanner::detail
