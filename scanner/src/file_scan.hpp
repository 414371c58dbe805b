// SPDX-License-Identifier: Apache-2.0
// Scanning one file on disk with memory that does not grow with the file (issue 5). A file up
// to kWindowThreshold, or a larger one whose head announces an archive or a binary key format
// (their parsers need all of it: libarchive seeks, a store's MAC and a DER object cover the
// whole file), is read whole and scanned as scan_buffer scans it. Any other large file is read
// in overlapping windows and only text detection runs on it (binary formats are announced by a
// head it does not have), with the same findings, offsets, lines, ids and counts as a whole read.
// Used by: scan.cpp workers. Never holds more than one window of a large text file.
#pragma once

#include "file_source.hpp"
#include "item_scan.hpp"
#include "text_detect.hpp"
#include "walk/source.hpp"

#include <keyward/scanner/finding.hpp>
#include <keyward/scanner/scan.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace keyward::scanner::detail {

// 8 MiB windows: each shares kTextLookbehind + kTextLookahead (~5 MiB, set by the longest PEM
// block a detector accepts) with its neighbours and owns the ~3 MiB between. Each byte is read
// from disk and searched for anchors once; the shared part is moved within the buffer, which
// costs less than the read. Two workers' windows stay well under the scan's memory budget.
inline constexpr WindowLayout kWindowLayout{std::size_t{8} << 20, kTextLookbehind, kTextLookahead};
static_assert(kWindowLayout.size > kWindowLayout.lookbehind + kWindowLayout.lookahead);

// Files larger than this are read in windows (unless their head asks for a whole read): no
// smaller than a window, since a file that fits one would be read whole anyway.
inline constexpr std::uint64_t kWindowThreshold = kWindowLayout.size;

// How one file's read went.
struct FileScanOutcome {
  ReadStatus status = ReadStatus::ok;
  int err = 0;              // errno, for permission_denied and io_error
  bool changed = false;     // size or mtime moved while it was read (still scanned as read)
  bool complete = true;     // false when `keep_going` stopped a windowed read
  std::uint64_t bytes = 0;  // bytes scanned
  std::size_t windows = 0;  // windows read; 0 when the file was read whole
};

// Scans the regular file at `path` of `source` and appends its findings (ids, locations, file
// facts). Counts files_scanned and bytes_scanned, the skip reason when it cannot be read, and
// changed_during_scan. `reserve` is called with the bytes the file will hold in `buffer` before
// they are allocated (the scan's memory budget waits there); `keep_going` is asked between
// windows (cancellation: the findings of the part read are kept).
FileScanOutcome scan_file(FileSource& source, const std::string& path, const std::string& relative_path,
                          const ScanOptions& options, ReadBuffer& buffer, std::vector<Finding>& out, ScanStats& stats,
                          const std::function<void(std::uint64_t)>& reserve = {},
                          const std::function<bool()>& keep_going = {}, WorkShare* share = nullptr);

// The same for a local file (the local file system as the source).
FileScanOutcome scan_file(const std::string& path, const std::string& relative_path, const ScanOptions& options,
                          ReadBuffer& buffer, std::vector<Finding>& out, ScanStats& stats,
                          const std::function<void(std::uint64_t)>& reserve = {},
                          const std::function<bool()>& keep_going = {});

}  // namespace keyward::scanner::detail
