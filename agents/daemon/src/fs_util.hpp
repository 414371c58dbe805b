// SPDX-License-Identifier: Apache-2.0
// File helpers for the agent's state (spool, status, cache, keys): the durable writes are
// keyward::common's (temporary file, fsync, rename, directory fsync; never through a symlink).
// Used by: spool, status, enroll. Never logs file contents.
#pragma once

#include <keyward/common/atomic_file.hpp>

#include <span>
#include <string>
#include <string_view>

namespace keyward::agent {

// Atomic replace, exclusive create and directory fsync (throw std::runtime_error naming the path).
using common::fsync_dir;
using common::write_file_atomic;
using common::write_file_exclusive;

// Creates `dir` and its missing parents, each mode 0700 whatever the umask; directories that
// exist are left as they are. Throws naming the path.
void make_private_dir(const std::string& dir);

// One file of a set written together.
struct NewFile {
  std::string path;
  std::string_view data;
  unsigned mode;
  bool replace = true;  // false: refused when `path` exists (as with O_EXCL)
};

// Writes each file beside its path (common::AtomicFile), fsyncs them all, and only then puts
// each in place: first those that must not exist, then the others in order. Any failure before that (a refused symlink,
// a full disk, a file that must not be replaced and exists) leaves every old file as it was and no temporary file
// behind; a failure after it removes the files that did not exist before (those with replace = false).
void replace_files_together(std::span<const NewFile> files);

// Removes the temporary files an interrupted write of `path` left beside it
// (`<path>.<12 hex>.tmp`, common::AtomicFile's names); returns how many.
int remove_leftover_temporaries(const std::string& path);

// Reads a whole file; throws std::runtime_error naming the path.
std::string read_file(const std::string& path);

// The directory part of a path ("." when none).
std::string dir_of(const std::string& path);

}  // namespace keyward::agent
