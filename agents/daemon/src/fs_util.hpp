// File helpers for the agent's state (spool, status, cache, keys): the durable writes are
// keyward::common's (temporary file, fsync, rename, directory fsync; never through a symlink).
// Used by: spool, status, enroll. Never logs file contents.
#pragma once

#include <keyward/common/atomic_file.hpp>

#include <string>
#include <string_view>

namespace keyward::agent {

// Atomic replace, exclusive create and directory fsync (throw std::runtime_error naming the path).
using common::fsync_dir;
using common::write_file_atomic;
using common::write_file_exclusive;

// Creates `dir` (and parents) with mode 0700 when missing; throws naming it.
void make_private_dir(const std::string& dir);

// Reads a whole file; throws std::runtime_error naming the path.
std::string read_file(const std::string& path);

// The directory part of a path ("." when none).
std::string dir_of(const std::string& path);

}  // namespace keyward::agent
