// SPDX-License-Identifier: Apache-2.0
// Durable file writes: a temporary file in the target's directory (O_EXCL, O_NOFOLLOW,
// O_CLOEXEC, the mode set with fchmod so umask does not change it), fsync'd, renamed into place,
// then the directory fsync'd so the new name survives a crash (rename(2), fsync(2)).
// Used by: the agent (spool, status, enrollment), the collector's CA files, the scan cache.
// Never follows a symlink, never leaves a temporary file behind on failure, never logs contents.
#pragma once

#include <string>
#include <string_view>

namespace keyward::common {

// A file being replaced atomically, written in parts: a temporary file beside `path` until
// commit() fsyncs it, renames it over `path` and fsyncs the directory. Destroyed uncommitted (an
// exception on its way), it removes the temporary file and `path` keeps its old contents.
class AtomicFile {
 public:
  // Refuses a symlink at `path`; throws std::runtime_error naming the path.
  AtomicFile(std::string path, unsigned mode);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Appends `data`; throws std::runtime_error (with errno's text: a full disk says so).
  void write(std::string_view data);
  // fsyncs what was written so far, so that several files can all be on disk before any of them
  // is renamed (the agent's enrollment); throws as write() does. commit() still fsyncs.
  void sync();
  // Puts the file in place; throws as write() does, and then `path` is unchanged.
  void commit();
  // Puts the file in place only where nothing is (link(2), then the temporary is removed): throws
  // naming `path` when it exists, as write_file_exclusive does, and then `path` is unchanged.
  void commit_new();

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& name, int err);

  std::string path_, tmp_;
  int fd_ = -1;
};

// Replaces `path` with `data` (mode `mode`) atomically: readers see the old file or the new one.
// Refuses a symlink at `path`. Throws std::runtime_error naming the path; the old file is kept.
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode);

// Creates `path` with `data` and `mode`; throws std::runtime_error naming it when it exists
// (or is a symlink) or cannot be written.
void write_file_exclusive(const std::string& path, std::string_view data, unsigned mode);

// fsyncs a directory; throws std::runtime_error naming it.
void fsync_dir(const std::string& dir);

}  // namespace keyward::common
