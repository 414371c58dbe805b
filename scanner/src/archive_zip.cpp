// SPDX-License-Identifier: Apache-2.0
// The fast path for zips (item_scan.hpp, scan_zip_members): the central directory read by
// zip_index.hpp, stored members scanned where they lie in the archive's bytes, deflated members
// inflated by libdeflate (whole-buffer, about twice zlib's speed) into a buffer of their declared
// size, and the members of a large zip claimed one at a time by this thread and the walk's idle
// workers. Limits, counters, member names and finding ids are those of the libarchive path
// (archive.cpp); a zip this path does not read goes there.
#include "item_scan.hpp"

#include <keyward/common/secret.hpp>
#include <keyward/scanner/skip_reason.hpp>
#include "file_source.hpp"
#include "zip_index.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <span>

namespace keyward::scanner::detail {
namespace {

// A zip is split over workers when it has at least this many members and this many bytes to
// inflate: below that, handing members over costs more than it saves.
constexpr std::size_t kShareMembers = 32;
constexpr std::uint64_t kShareBytes = 4ull << 20;

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};

// What one thread needs to scan members: its own decompressor, buffer, counters and findings,
// and a child context whose strings are reused from member to member.
struct Runner {
  std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> inflater;
  common::SecretBytes buffer;  // an inflated member's bytes, wiped after each one
  common::SecretBytes packed;  // a member's local header and data as read from a file, likewise
  ItemContext child;
  ScanStats stats;
  std::vector<Finding> found;
};

// How inflating one member went.
enum class Inflated { ok, failed, too_large, stopped };

// Whether the archive budget, with what it has expanded so far, still allows reading on; counts
// and stops the top-level file's archives when not.
bool within_limits(std::uint64_t expanded, const ScanOptions& o, ArchiveBudget& budget, ScanStats& stats) {
  if (expanded > o.archive_limits.max_expanded) {
    stop_archives(budget, stats, SkipReason::archive_too_large);
    return false;
  }
  if (expanded > kArchiveRatioFloor && budget.compressed != 0 &&
      expanded / budget.compressed > o.archive_limits.max_ratio) {
    stop_archives(budget, stats, SkipReason::archive_ratio);
    return false;
  }
  return true;
}

// Inflates member `m` (its compressed bytes `in`) into the runner's buffer. Its declared size is
// the room first given; a member that inflates to more (its directory lied) is given more, up to
// --max-size. Every byte an attempt produced counts against the archive budget, as libarchive's
// path counts every chunk it reads: a bomb of members that lie about their size is stopped by the
// limits, not inflated again and again.
Inflated inflate(const ZipMember& m, std::span<const std::uint8_t> in, const ScanOptions& o, ArchiveBudget& budget,
                 Runner& r) {
  if (!r.inflater) {
    r.inflater.reset(libdeflate_alloc_decompressor());
    if (!r.inflater) throw std::bad_alloc();
  }
  std::size_t room = static_cast<std::size_t>(std::max<std::uint64_t>(m.size, 1));
  for (;;) {
    r.buffer.clear();
    std::size_t got = 0;
    const auto result =
        libdeflate_deflate_decompress(r.inflater.get(), in.data(), in.size(), r.buffer.append_space(room), room, &got);
    const bool done = result == LIBDEFLATE_SUCCESS;
    r.buffer.appended(done ? got : room);  // whatever it wrote is wiped with the rest
    if (!within_limits(budget.expanded += done ? got : room, o, budget, r.stats)) return Inflated::stopped;
    if (done) return Inflated::ok;
    if (result != LIBDEFLATE_INSUFFICIENT_SPACE) return Inflated::failed;
    if (room >= o.max_size) return Inflated::too_large;
    room = static_cast<std::size_t>(std::min<std::uint64_t>(std::uint64_t{room} * 4, o.max_size));
  }
}

// Where a member's stored bytes come from: a view of the zip in memory, or a read from its
// file into the runner's `packed` buffer. Nothing when they cannot be had.
using Fetch = std::function<std::optional<std::span<const std::uint8_t>>(const ZipMember&, Runner&)>;

// Scans member `m` on runner `r`, as archive.cpp's scan_member does for libarchive's members.
void scan_zip_member(const ZipMember& m, const Fetch& fetch, const ItemContext& ctx, Runner& r) {
  const ScanOptions& o = *ctx.options;
  ArchiveBudget& budget = *ctx.budget;
  if (budget.stopped) return;
  if (++budget.entries > o.archive_limits.max_entries) {
    stop_archives(budget, r.stats, SkipReason::archive_too_many_entries);
    return;
  }
  if (!m.regular) return;
  if (m.size > o.max_size) {
    skip_declared_too_large(m.size, o, budget, r.stats);
    return;
  }
  if (budget.expanded + m.size > o.archive_limits.max_expanded) {
    stop_archives(budget, r.stats, SkipReason::archive_too_large);
    return;
  }
  struct Cleanse {  // a member's bytes do not outlive its scan
    Runner& r;
    ~Cleanse() {
      r.buffer.clear();
      r.packed.clear();
    }
  } cleanse{r};
  const auto stored = fetch(m, r);
  if (!stored) {
    count_skip(r.stats, SkipReason::archive_member_error);
    return;
  }
  std::string_view member;
  if (m.deflated) {
    switch (inflate(m, *stored, o, budget, r)) {
      case Inflated::ok:
        break;
      case Inflated::stopped:
        return;
      case Inflated::too_large:
        count_skip(r.stats, SkipReason::too_large);
        return;
      case Inflated::failed:
        count_skip(r.stats, SkipReason::archive_member_error);
        return;
    }
    member = r.buffer.view();
  } else {
    member = std::string_view(reinterpret_cast<const char*>(stored->data()), stored->size());
    if (!within_limits(budget.expanded += member.size(), o, budget, r.stats)) return;
  }
  if (libdeflate_crc32(0, member.data(), member.size()) != m.crc32) {
    count_skip(r.stats, SkipReason::archive_member_error);  // as libarchive: a bad CRC is not read
    return;
  }
  r.child.member = ctx.member;
  if (!r.child.member.empty()) r.child.member += '!';
  std::string name = member_name(m.name);
  if (m.backslashes) std::replace(name.begin(), name.end(), '\\', '/');
  r.child.member += name;
  ++r.stats.archive_members;
  r.stats.bytes_scanned += member.size();
  scan_item(member, r.child, r.found, r.stats);
}

// Scans the members of an indexed zip: alone, or with idle workers when it is large.
void scan_members(const ZipIndex& index, const Fetch& fetch, const ItemContext& ctx, std::vector<Finding>& out,
                  ScanStats& stats) {
  const auto& members = index.members;
  std::uint64_t to_inflate = 0;
  for (const auto& m : members) to_inflate += m.regular ? m.size : 0;
  const bool shared = ctx.share != nullptr && members.size() >= kShareMembers && to_inflate >= kShareBytes;
  std::vector<Runner> runners(shared ? ctx.share->runners() : 1);
  for (auto& r : runners) {
    r.child = ctx;
    r.child.depth = ctx.depth + 1;
  }
  const auto part = [&](unsigned runner, std::size_t i) { scan_zip_member(members[i], fetch, ctx, runners[runner]); };
  if (shared) ctx.share->run_parts(members.size(), part);
  else
    for (std::size_t i = 0; i < members.size(); ++i) part(0, i);
  for (auto& r : runners) {
    merge(stats, r.stats);
    std::move(r.found.begin(), r.found.end(), std::back_inserter(out));
  }
}

// Reads `n` bytes at `offset` of `file` into the end of `into`; false on a short read or error.
bool read_into(OpenFile& file, std::uint64_t offset, std::size_t n, common::SecretBytes& into) {
  std::size_t got = 0;
  int err = 0;
  char* dst = reinterpret_cast<char*>(into.append_space(n));
  const auto st = file.read_at(offset, dst, n, got, err);
  into.appended(got);
  return st == ReadStatus::ok && got == n;
}

}  // namespace

bool scan_zip_members(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  const ScanOptions& o = *ctx.options;
  const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  // More entries than the limit allows: libarchive's path reads up to the limit and says so.
  const auto index = read_zip_index(bytes, o.archive_limits.max_entries);
  if (!index) return false;
  if (ctx.depth >= o.archive_limits.max_depth) {
    count_skip(stats, SkipReason::archive_too_deep);
    return true;
  }
  ++stats.archives;
  const Fetch fetch = [&](const ZipMember& m, Runner&) -> std::optional<std::span<const std::uint8_t>> {
    return bytes.subspan(m.data_offset, m.compressed);
  };
  scan_members(*index, fetch, ctx, out, stats);
  return true;
}

bool scan_zip_file(OpenFile& file, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  const ScanOptions& o = *ctx.options;
  const std::uint64_t size = file.size();
  // The end of the zip, then its directory (often within that end already).
  const std::size_t tail_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, kZipTail));
  common::SecretBytes tail, directory;
  if (!read_into(file, size - tail_size, tail_size, tail)) return false;
  const auto dir = find_zip_directory(tail.bytes(), size);
  if (!dir || dir->size > o.max_size) return false;
  std::span<const std::uint8_t> listing;
  if (dir->offset >= size - tail_size) {
    listing = tail.bytes().subspan(static_cast<std::size_t>(dir->offset - (size - tail_size)), dir->size);
  } else {
    if (!read_into(file, dir->offset, static_cast<std::size_t>(dir->size), directory)) return false;
    listing = directory.bytes();
  }
  const auto index = read_zip_directory(listing, *dir, o.archive_limits.max_entries);
  if (!index) return false;
  if (ctx.depth >= o.archive_limits.max_depth) {
    count_skip(stats, SkipReason::archive_too_deep);
    return true;
  }
  ++stats.archives;
  // A member's local header and data in one read, guessing the header's name and extra fields
  // are the directory's (they mostly are); a second read gets what the guess fell short of.
  const Fetch fetch = [&](const ZipMember& listed, Runner& r) -> std::optional<std::span<const std::uint8_t>> {
    ZipMember m = listed;
    const std::size_t guess = kZipLocalHeader + m.name.size() + 64;
    if (m.local_offset + guess + m.compressed > dir->offset) {
      if (!read_into(file, m.local_offset, kZipLocalHeader, r.packed)) return std::nullopt;
    } else if (!read_into(file, m.local_offset, static_cast<std::size_t>(guess + m.compressed), r.packed)) {
      return std::nullopt;
    }
    if (!locate_zip_data(r.packed.bytes(), m, *dir)) return std::nullopt;
    const std::uint64_t end = m.data_offset + m.compressed - m.local_offset;
    if (end > r.packed.size() &&
        !read_into(file, m.local_offset + r.packed.size(), static_cast<std::size_t>(end - r.packed.size()), r.packed))
      return std::nullopt;
    return r.packed.bytes().subspan(static_cast<std::size_t>(m.data_offset - m.local_offset),
                                    static_cast<std::size_t>(m.compressed));
  };
  scan_members(*index, fetch, ctx, out, stats);
  return true;
}

}  // namespace keyward::scanner::detail
