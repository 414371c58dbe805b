// Durable file writes for the agent's state (spool, status, cache, keys): write a temporary
// file, fsync it, rename it into place, fsync the directory (rename(2) is atomic; the directory
// fsync makes the new name survive a crash, see fsync(2)).
// Used by: spool, status, enroll. Never logs file contents.
#pragma once

#include <string>
#include <string_view>

namespace keyward::agent {

// Writes `data` to `path` atomically with `mode`; throws std::runtime_error naming the path.
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode);

// Creates a new file with O_EXCL and `mode` and writes `data` (fsync'd); throws when it exists.
void write_file_exclusive(const std::string& path, std::string_view data, unsigned mode);

// fsyncs a directory; throws std::runtime_error naming it.
void fsync_dir(const std::string& dir);

// Creates `dir` (and parents) with mode 0700 when missing; throws naming it.
void make_private_dir(const std::string& dir);

// Reads a whole file; throws std::runtime_error naming the path.
std::string read_file(const std::string& path);

// The directory part of a path ("." when none).
std::string dir_of(const std::string& path);

}  // namespace keyward::agent
