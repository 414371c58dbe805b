// SPDX-License-Identifier: Apache-2.0
// Scanning one item (a file's bytes or an archive member's): text anchors everywhere, binary
// formats by their head, stores opened with nearby and common passwords, archives recursed
// within limits. Used by: scan.cpp (files) and archive.cpp (members).
#pragma once

#include "text_detect.hpp"

#include <keyward/scanner/finding.hpp>
#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/skip_reason.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

class FileSource;  // walk/source.hpp

// Shared by every member of one top-level file: what its archives may still expand. Atomic:
// the members of one zip may be scanned on several workers at once (WorkShare).
struct ArchiveBudget {
  std::uint64_t compressed = 0;  // size of the top-level file
  std::atomic<std::uint64_t> expanded = 0;
  std::atomic<std::uint64_t> entries = 0;
  std::atomic<bool> stopped = false;  // a limit was hit: stop reading further members
};

// The expanded / compressed ratio limit of ArchiveLimits applies past this many expanded bytes.
constexpr std::uint64_t kArchiveRatioFloor = 64ull << 20;

// Runs the parts of one item (the members of a large zip) on this thread and on the walk's idle
// workers (docs/architecture.md, "Threading"). Implemented by the walker (walk/walker.hpp).
class WorkShare {
 public:
  // How many threads may run the parts of one call at once: runner ids are below this.
  virtual unsigned runners() const noexcept = 0;
  // Calls part(runner, i) once for each i in [0, count), on this thread and on workers that are
  // idle, each call on one runner (a runner's calls never overlap); returns when every call has
  // returned. The first exception a part threw is rethrown then.
  virtual void run_parts(std::size_t count, const std::function<void(unsigned, std::size_t)>& part) = 0;

 protected:
  ~WorkShare() = default;
};

// Where an item sits.
struct ItemContext {
  const ScanOptions* options = nullptr;
  std::string path;           // the file on disk, as reached from the root
  std::string relative_path;  // relative to the root, for ids
  std::string member;         // archive member chain, '!'-separated; empty for the file itself
  FileFacts facts;
  unsigned depth = 0;  // archive nesting
  ArchiveBudget* budget = nullptr;
  bool local = true;             // path and facts.uid are this machine's (walk/source.hpp, FileSource::local)
  FileSource* source = nullptr;  // what a file was read from, for the files beside a store (null: this machine's disk)
  WorkShare* share = nullptr;    // idle workers that may take parts of this item (null: this thread alone)
};

// Adds one scan's (or file's, or worker's, or archive runner's) counters to another's.
void merge(ScanStats& into, const ScanStats& from);

// Scans a top-level file's bytes as scan_buffer does (counted as scanned, with its own archive
// budget), in the place `ctx` gives (options, path, relative path, facts, local).
void scan_top_item(std::string_view data, ItemContext ctx, std::vector<Finding>& out, ScanStats& stats);

// Scans one item and appends its findings (ids, locations and file facts filled).
void scan_item(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats);

// What scan_item does once everything in an item is detected: the trust-bundle rule over all its
// text hits, location (offset, line), file facts, ordinals and ids. `hits` carry their file
// offsets and lines; `binary` findings sit at offset 0. Also used by the windowed scan of large
// files (file_scan.cpp), which collects the hits of all windows first.
void finish_item(std::vector<TextHit>& hits, std::vector<Finding>& binary, const ItemContext& ctx,
                 std::vector<Finding>& out, ScanStats& stats);

// The owner of the file: ctx.facts.owner when the source named it; else, for a local file, the
// user name of its uid, looked up once per scan (the ScanMemo of ctx.options, else now); else
// empty (a remote uid is never looked up among this machine's users).
std::string owner_of(const ItemContext& ctx);

// Reads the members of an archive in `data` and scans each with scan_item. Returns false when
// `data` is not an archive libarchive can read (nothing counted then).
bool scan_archive(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats);

// The fast path for a zip whose central directory zip_index.hpp reads (most jars, wheels and
// apks): stored members scanned in place, deflated ones inflated by libdeflate, a large zip's
// members split over idle workers. Returns false, having counted nothing, when the zip is not one
// it reads; scan_archive then gives it to libarchive. Defined in archive_zip.cpp.
bool scan_zip_members(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats);

class OpenFile;  // file_source.hpp

// The same for a zip on disk too large to hold whole (file_scan.cpp): its directory read from the
// end of the file, each member read when claimed (a runner holds one member's bytes at a time),
// the top-level bookkeeping (files_scanned, the archive budget) the caller's. `file` must allow
// reads from several threads at once (pread). False, having counted nothing, when it is not a
// zip this path reads: the caller then reads the file whole.
bool scan_zip_file(OpenFile& file, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats);

// Whether a large file's head is an archive libarchive can stream from the file (compressed
// streams, tar, ar, cpio, rpm: formats without encryption); zip has scan_zip_file.
bool streamable_archive(std::span<const std::uint8_t> head);

// Reads the archive in `file` with libarchive a block at a time (never the whole file; each
// member is still read whole, up to --max-size), as scan_archive reads one in memory. False,
// having counted nothing, when it is not an archive.
bool scan_archive_file(OpenFile& file, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats);

// The name an archive member goes by in findings: "./" prefixes dropped; an OCI/docker layer
// blob "blobs/sha256/<digest>" named "sha256:<digest>". Shared by both archive paths.
std::string member_name(std::string_view name);

// Stops reading the archives of the top-level file: counts `reason` once, however many members
// running at once hit a limit.
void stop_archives(ArchiveBudget& budget, ScanStats& stats, SkipReason reason);

// A member whose header declares more than --max-size: skipped, unless skipping it (which means
// inflating it) would break a bomb limit; false when the archive ends here.
bool skip_declared_too_large(std::uint64_t declared, const ScanOptions& o, ArchiveBudget& budget, ScanStats& stats);

}  // namespace keyward::scanner::detail
