// SPDX-License-Identifier: Apache-2.0
#include "zip_index.hpp"

#include "encoding.hpp"

#include <algorithm>

namespace keyward::scanner::detail {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kEnd64LocatorSize = 20;
constexpr std::size_t kEnd64Size = 56;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kLocalSize = kZipLocalHeader;
constexpr std::size_t kMaxComment = 0xffff;
constexpr std::uint16_t kZip64Extra = 0x0001;
constexpr unsigned kHostMsDos = 0;
constexpr unsigned kHostUnix = 3;
constexpr std::uint32_t kDosDirectory = 0x10;
constexpr std::uint32_t kTypeMask = 0170000;
constexpr std::uint32_t kTypeRegular = 0100000;
constexpr std::uint32_t kTypeDirectory = 0040000;
constexpr std::uint32_t kTypeFifo = 0010000;

// Little-endian fields of bytes that start at `base` in the zip, at checked zip offsets.
struct ZipBytes {
  std::span<const std::uint8_t> d;
  std::uint64_t base = 0;
  bool has(std::uint64_t at, std::uint64_t n) const {
    return at >= base && at - base <= d.size() && n <= d.size() - (at - base);
  }
  std::uint16_t u16(std::uint64_t at) const { return read_le16(d, static_cast<std::size_t>(at - base)); }
  std::uint32_t u32(std::uint64_t at) const { return read_le32(d, static_cast<std::size_t>(at - base)); }
  std::uint64_t u64(std::uint64_t at) const { return read_le64(d, static_cast<std::size_t>(at - base)); }
};

// Reads the zip64 extra field of a central entry for the values that overflowed.
bool read_zip64(const ZipBytes& r, std::uint64_t extra, std::uint16_t extra_len, std::uint64_t& size,
                std::uint64_t& compressed, std::uint64_t& local) {
  const bool want_size = size == 0xffffffff, want_compressed = compressed == 0xffffffff,
             want_local = local == 0xffffffff;
  if (!want_size && !want_compressed && !want_local) return true;
  for (std::uint64_t at = extra; at + 4 <= extra + extra_len;) {
    const std::uint16_t id = r.u16(at), len = r.u16(at + 2);
    const std::uint64_t body = at + 4;
    if (body + len > extra + extra_len) return false;
    if (id == kZip64Extra) {
      std::uint64_t p = body;
      for (auto [want, value] : {std::pair{want_size, &size}, {want_compressed, &compressed}, {want_local, &local}}) {
        if (!want) continue;
        if (p + 8 > body + len) return false;
        *value = r.u64(p);
        p += 8;
      }
      return true;
    }
    at = body + len;
  }
  return false;
}

}  // namespace

std::optional<ZipDirectory> find_zip_directory(std::span<const std::uint8_t> tail, std::uint64_t size) {
  if (tail.size() > size || tail.size() < kEndSize) return std::nullopt;
  const ZipBytes r{tail, size - tail.size()};
  // The end record is the last one whose comment reaches exactly the end of the zip.
  const std::uint64_t last = size - kEndSize;
  const std::uint64_t first = std::max(r.base, last > kMaxComment ? last - kMaxComment : 0);
  for (std::uint64_t at = last + 1; at-- > first;) {
    if (r.u32(at) != kEndSig || at + kEndSize + r.u16(at + 20) != size) continue;
    if (r.u16(at + 4) != 0 || r.u16(at + 6) != 0) return std::nullopt;  // multi-disk
    ZipDirectory dir;
    dir.entries = r.u16(at + 10);
    dir.size = r.u32(at + 12);
    dir.offset = r.u32(at + 16);
    dir.end = at;
    if (dir.entries == 0xffff || dir.size == 0xffffffff || dir.offset == 0xffffffff) {
      // Zip64: the locator sits just before the end record and names the zip64 end record.
      if (at < r.base + kEnd64LocatorSize || r.u32(at - kEnd64LocatorSize) != kEnd64LocatorSig) return std::nullopt;
      const std::uint64_t end64 = r.u64(at - kEnd64LocatorSize + 8);
      if (!r.has(end64, kEnd64Size) || r.u32(end64) != kEnd64Sig) return std::nullopt;
      if (r.u32(end64 + 16) != 0 || r.u32(end64 + 20) != 0) return std::nullopt;  // multi-disk
      dir.entries = r.u64(end64 + 32);
      dir.size = r.u64(end64 + 40);
      dir.offset = r.u64(end64 + 48);
      dir.end = end64;
    }
    // No prefix (a self-extracting stub shifts every offset) and nothing between the directory
    // and its end records: offsets are then what they say.
    if (dir.offset > dir.end || dir.end - dir.offset != dir.size) return std::nullopt;
    if (dir.entries > dir.size / kCentralSize) return std::nullopt;
    return dir;
  }
  return std::nullopt;
}

std::optional<ZipIndex> read_zip_directory(std::span<const std::uint8_t> directory, const ZipDirectory& dir,
                                           std::uint64_t max_members) {
  if (directory.size() != dir.size || dir.entries > max_members) return std::nullopt;
  const ZipBytes r{directory, dir.offset};
  ZipIndex index;
  index.members.reserve(static_cast<std::size_t>(dir.entries));
  std::uint64_t at = dir.offset;
  for (std::uint64_t i = 0; i < dir.entries; ++i) {
    if (!r.has(at, kCentralSize) || r.u32(at) != kCentralSig) return std::nullopt;
    const unsigned host = r.u16(at + 4) >> 8;
    const std::uint16_t flags = r.u16(at + 8), method = r.u16(at + 10);
    ZipMember m;
    m.crc32 = r.u32(at + 16);
    m.compressed = r.u32(at + 20);
    m.size = r.u32(at + 24);
    const std::uint16_t name_len = r.u16(at + 28), extra_len = r.u16(at + 30), comment_len = r.u16(at + 32);
    const std::uint32_t external = r.u32(at + 38);
    std::uint64_t local = r.u32(at + 42);
    const std::uint64_t name_at = at + kCentralSize;
    const std::uint64_t next = name_at + name_len + extra_len + comment_len;
    if (next > dir.end) return std::nullopt;
    if ((flags & 0x0001) != 0 || (flags & 0x0040) != 0) return std::nullopt;  // encrypted: libarchive tries passwords
    if (method != 0 && method != 8) return std::nullopt;
    if (!read_zip64(r, name_at + name_len, extra_len, m.size, m.compressed, local)) return std::nullopt;
    if (method == 0 && m.compressed != m.size) return std::nullopt;
    m.name = std::string_view(reinterpret_cast<const char*>(directory.data() + (name_at - dir.offset)), name_len);
    m.deflated = method == 8;
    // Which entries are regular files, as libarchive decides: the mode of a Unix host (a FIFO
    // counts as a file), the directory attribute of an MS-DOS one, and a trailing '/' after an
    // MS-DOS name's backslashes became slashes.
    m.backslashes =
        host == kHostMsDos && m.name.find('/') == std::string_view::npos && m.name.find('\\') != std::string_view::npos;
    std::uint32_t type = 0;
    if (host == kHostUnix) type = external >> 16 & kTypeMask;
    else if (host == kHostMsDos && (external & kDosDirectory) != 0) type = kTypeDirectory;
    if (type == kTypeFifo) type = kTypeRegular;
    const char last = name_len != 0 ? m.name.back() : '\0';
    if (last == '/' || (m.backslashes && last == '\\')) type = kTypeDirectory;
    m.regular = type == 0 || type == kTypeRegular;
    if (local >= dir.offset) return std::nullopt;
    m.local_offset = local;
    index.members.push_back(m);
    at = next;
  }
  return index;
}

bool locate_zip_data(std::span<const std::uint8_t> header, ZipMember& m, const ZipDirectory& dir) {
  if (header.size() < kZipLocalHeader) return false;
  const ZipBytes r{header.first(kZipLocalHeader), m.local_offset};
  if (r.u32(m.local_offset) != kLocalSig) return false;
  const std::uint64_t data_at = m.local_offset + kLocalSize + r.u16(m.local_offset + 26) + r.u16(m.local_offset + 28);
  if (data_at > dir.offset || m.compressed > dir.offset - data_at) return false;
  m.data_offset = data_at;
  return true;
}

std::optional<ZipIndex> read_zip_index(std::span<const std::uint8_t> data, std::uint64_t max_members) {
  // A zip that starts with its first member (jar, apk, whl): anything else is libarchive's.
  if (data.size() < kLocalSize || ZipBytes{data}.u32(0) != kLocalSig) return std::nullopt;
  const auto dir = find_zip_directory(data, data.size());
  if (!dir) return std::nullopt;
  auto index = read_zip_directory(data.subspan(dir->offset, dir->size), *dir, max_members);
  if (!index) return std::nullopt;
  for (auto& m : index->members)
    if (m.local_offset > data.size() || !locate_zip_data(data.subspan(m.local_offset), m, *dir)) return std::nullopt;
  return index;
}

}  // namespace keyward::scanner::detail
