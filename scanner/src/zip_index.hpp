// SPDX-License-Identifier: Apache-2.0
// The central directory of a zip (jar, war, apk, whl, ...), for the fast member path of
// archive_zip.cpp: members known up front can be inflated straight from their offsets and split
// over the scan's workers (docs/architecture.md, "Parsing policy" and "Threading"). Read from
// the whole archive in memory (read_zip_index), or from the end of a large file and then member
// by member (find_zip_directory, read_zip_directory, locate_zip_data). Written by hand because
// libarchive walks a zip only in order, one member at a time, and offers no index; fuzzed by
// tests/fuzz/zip_index_fuzzer.cpp.
//
// The reader is strict: anything it does not fully understand (a prefix before the first local
// header, a multi-disk zip, an encrypted member, a method other than stored or deflate, a member
// whose local header or data lies outside the zip) gives no index, and the archive goes to
// libarchive as before. It never reads outside the bytes it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// One member as its central directory entry and local header describe it.
struct ZipMember {
  std::string_view name;           // as stored (a view into the central directory's bytes)
  std::uint64_t local_offset = 0;  // where its local header starts
  std::uint64_t data_offset = 0;   // where its (compressed) data starts (locate_zip_data)
  std::uint64_t compressed = 0;
  std::uint64_t size = 0;  // declared uncompressed size
  std::uint32_t crc32 = 0;
  bool deflated = false;     // else stored
  bool regular = true;       // false: a directory, symlink or other special entry (not read)
  bool backslashes = false;  // an MS-DOS name using '\' as its separator: read with '/'
};

struct ZipIndex {
  std::vector<ZipMember> members;  // in central directory order
};

// Where a zip's central directory lies and what it holds, all as offsets in the zip.
struct ZipDirectory {
  std::uint64_t offset = 0, size = 0, entries = 0;
  std::uint64_t end = 0;  // where its end records start: the directory ends exactly there
};

// How many bytes from the end of a zip hold its end record wherever its comment puts it (and a
// zip64 locator before it); a zip64 end record farther back than that is not looked for.
constexpr std::size_t kZipTail = 22 + 0xffff + 20 + 56;
constexpr std::size_t kZipLocalHeader = 30;

// The directory of a zip of `size` bytes whose last tail.size() bytes are `tail` (the whole zip,
// or at least its last kZipTail), or nothing (see above).
std::optional<ZipDirectory> find_zip_directory(std::span<const std::uint8_t> tail, std::uint64_t size);

// The members the directory's bytes list (names are views into `directory`, data offsets not
// yet known), or nothing; `max_members` bounds the work on a hostile directory.
std::optional<ZipIndex> read_zip_directory(std::span<const std::uint8_t> directory, const ZipDirectory& dir,
                                           std::uint64_t max_members);

// Sets m.data_offset from the bytes at m.local_offset (at least kZipLocalHeader of them); false
// when they are not a local header, or the data would run into the directory.
bool locate_zip_data(std::span<const std::uint8_t> header, ZipMember& m, const ZipDirectory& dir);

// The index of the zip in `data` (all three steps over bytes in memory), or nothing when
// libarchive should read it (see above).
std::optional<ZipIndex> read_zip_index(std::span<const std::uint8_t> data, std::uint64_t max_members);

}  // namespace keyward::scanner::detail
