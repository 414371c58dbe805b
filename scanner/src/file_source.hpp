// Reading one regular file safely: O_NOATIME where permitted, never following a symlink,
// never blocking on a FIFO, never past the size limit, and noticing a file that changes or
// vanishes while it is read. Used by: scan.cpp workers.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace keyward::scanner::detail {

// What happened to one file.
enum class ReadStatus { ok, vanished, permission_denied, not_regular, too_large, io_error, changed };

// The stable stats key of a ReadStatus (skip reason).
std::string_view to_string(ReadStatus s) noexcept;

// Reads `path` into `buffer` (reused across calls) and fills `facts` from fstat.
// `changed` is set when size or mtime moved while reading (the data read is still returned).
// `reserve`, when given, is called with the file's size before its buffer is allocated (the
// scan's memory budget waits there); it is not called for files that are not read.
ReadStatus read_file(const std::string& path, std::uint64_t max_size, std::string& buffer, FileFacts& facts,
                     bool& changed, int& err, const std::function<void(std::uint64_t)>& reserve = {});

// The user name of a uid (cached); empty if unknown.
std::string owner_name(std::uint32_t uid);

}  // namespace keyward::scanner::detail
