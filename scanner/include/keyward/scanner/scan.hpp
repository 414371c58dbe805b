// SPDX-License-Identifier: Apache-2.0
// The scanner's entry point: walk roots in parallel, read every regular file up to a size
// limit, detect keys and certificates by content, pair them, and return one ScanResult.
// Used by: the keyward CLI, the agent (later) and tests.
// Loads no rule files itself: everything it needs from outside comes in ScanOptions. Never
// prints (workers hand results back; the caller decides what to show).
#pragma once

#include <keyward/common/secret.hpp>
#include <keyward/scanner/finding.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace keyward::scanner {

// Counters a caller may read while the scan runs (e.g. a progress line on a TTY).
struct ScanProgress {
  std::atomic<std::uint64_t> files{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> findings{0};
};

// Limits that keep archives (and archive bombs) from running away; hitting one ends that
// archive with a counted reason (archive_too_deep, archive_too_large, archive_too_many_entries,
// archive_ratio), never the scan.
struct ArchiveLimits {
  unsigned max_depth = 8;                   // archives inside archives
  std::uint64_t max_expanded = 1ull << 30;  // bytes expanded from one top-level file
  std::uint64_t max_entries = 100000;       // members of one top-level file
  std::uint64_t max_ratio = 250;            // expanded / compressed size of the top-level file
};

// Everything the scanner needs from outside.
class ScanCache;
class ScanMemo;  // scan_memo.hpp
namespace detail {
class DetectorRegistry;  // scanner/src/detectors/detector.hpp
}

struct ScanOptions {
  std::vector<std::string> roots;  // files or directories
  // Instead of walking roots: exactly these files, relative to base_dir (e.g. a repository's
  // tracked files for `keyward ci`). Ids and reports use these relative paths.
  std::vector<std::string> files;
  std::string base_dir;
  std::vector<std::string> excludes;     // globs: with '/' against the path, else the name
  bool default_excludes = true;          // .git/objects, __pycache__, caches
  std::uint64_t max_size = 64ull << 20;  // files larger than this are skipped (counted)
  unsigned threads = 0;                  // 0: one per core
  bool one_file_system = false;          // stay on each root's file system
  unsigned max_depth = 512;              // directories deeper below a root are not entered (too_deep)
  bool skip_pseudo_fs = true;            // /proc, /sys, /dev and other kernel file systems
  bool skip_network_fs = true;           // nfs, cifs, sshfs, autofs, ...
  std::vector<std::string> trust_store_globs = default_trust_store_globs();
  bool archives = true;  // look inside zip/jar/tar/... and image layers
  ArchiveLimits archive_limits;
  common::SecretList passwords;                       // common passwords to try on stores ("" is always tried)
  bool nearby_passwords = true;                       // try passwords found next to a store (gradle.properties, ...)
  std::size_t password_max_tries = 96;                // per store: 32 nearby + empty + the common list
  std::chrono::milliseconds password_max_time{3000};  // per store
  std::string tool_version;                           // written into the result
  std::size_t max_errors_listed = 200;                // the error list is bounded; counters are not
  ScanProgress* progress = nullptr;                   // optional, updated by workers
  ScanCache* cache = nullptr;                         // optional: reuse what unchanged files held
  const std::atomic<bool>* cancel = nullptr;          // optional: set to stop early (result incomplete)
  std::function<void()> pace;  // optional: called by each worker before each file or directory (may sleep; thread-safe)
  // optional: the formats to look for (a test adds one); null: the built-in list
  const detail::DetectorRegistry* detectors = nullptr;
  ScanMemo* memo = nullptr;  // optional: caches kept across scans (scan_memo.hpp); null: one per scan

  // System trust-store locations (certificates there are inventory, not exposures).
  static std::vector<std::string> default_trust_store_globs();
  // The default exclude globs.
  static std::vector<std::string> default_exclude_globs();
};

// Runs a scan. Per-file problems are counted in the result; throws only when no root can be
// scanned at all (std::runtime_error with an actionable message).
ScanResult scan(const ScanOptions& options);

// Scans one in-memory buffer as if it were a file at `path` (used by tests, fuzzers and, later,
// git blobs): text anchors everywhere, binary formats by their head, archives recursively.
// Appends findings with ids; updates `stats`.
void scan_buffer(std::string_view data, const std::string& path, const std::string& relative_path,
                 const FileFacts& facts, const ScanOptions& options, std::vector<Finding>& out, ScanStats& stats);

// Links private keys and certificates that share an SPKI, both ways (paired_with).
void pair_findings(std::vector<Finding>& findings);

// The stable id of a finding from its relative path, member, identity and ordinal.
std::string finding_id(std::string_view relative_path, std::string_view member, std::string_view identity,
                       std::uint64_t ordinal);

}  // namespace keyward::scanner
