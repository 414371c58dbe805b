// The central directory of a zip (jar, war, apk, whl, ...), read from the whole archive in
// memory, for the fast member path of archive_zip.cpp: members known up front can be inflated
// straight from their offsets and split over the scan's workers (docs/architecture.md,
// "Archives"). Written by hand because libarchive walks a zip only in order, one member at a
// time, and offers no index; fuzzed by tests/fuzz/fuzz_zip_index.cpp.
//
// The reader is strict: anything it does not fully understand (a prefix before the first local
// header, a multi-disk zip, an encrypted member, a method other than stored or deflate, a member
// whose local header or data lies outside the bytes) gives no index, and the archive goes to
// libarchive as before. It never reads outside `data`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// One member as its central directory entry and local header describe it.
struct ZipMember {
  std::string_view name;        // as stored (a view into the archive's bytes)
  std::uint64_t data_offset = 0;  // where its (compressed) data starts
  std::uint64_t compressed = 0;
  std::uint64_t size = 0;  // declared uncompressed size
  std::uint32_t crc32 = 0;
  bool deflated = false;  // else stored
  bool regular = true;    // false: a directory, symlink or other special entry (not read)
  bool backslashes = false;  // an MS-DOS name using '\' as its separator: read with '/' 
};

struct ZipIndex {
  std::vector<ZipMember> members;  // in central directory order
};

// The index of the zip in `data`, or nothing when libarchive should read it (see above).
// `max_members` bounds the work on a hostile directory: past it, no index.
std::optional<ZipIndex> read_zip_index(std::span<const std::uint8_t> data, std::uint64_t max_members);

}  // namespace keyward::scanner::detail
