// SPDX-License-Identifier: Apache-2.0
// Why the scan did not read a file, a directory or an archive member: the keys of
// scan.stats.skipped in every report (docs/findings.schema.json lists the same names). Used by:
// the walker, file_scan.cpp, archive.cpp, mounts.cpp, scan.cpp, and `keyward ci` (blobs over the
// size limit in history). A name here is part of the report format: never rename one; a new
// reason is added at the end and to the schema.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace keyward::scanner {

// One skip reason; each value is spelled as its JSON name (kSkipReasonNames, in the same order).
enum class SkipReason : unsigned char {
  excluded,
  too_large,
  symlink,
  special_file,
  pseudo_fs,
  network_fs,
  other_file_system,
  permission_denied,
  vanished,
  changed_type,
  changed_during_scan,
  directory_loop,
  too_deep,
  io_error,
  unknown_type,
  archive_too_deep,
  archive_too_large,
  archive_too_many_entries,
  archive_ratio,
  archive_encrypted_member,
  archive_member_error,
  archive_truncated,
  archive_unreadable,
};

// The JSON name of every SkipReason, in the enum's order: the one place these names live.
inline constexpr std::array<std::string_view, 23> kSkipReasonNames{"excluded",
                                                                   "too_large",
                                                                   "symlink",
                                                                   "special_file",
                                                                   "pseudo_fs",
                                                                   "network_fs",
                                                                   "other_file_system",
                                                                   "permission_denied",
                                                                   "vanished",
                                                                   "changed_type",
                                                                   "changed_during_scan",
                                                                   "directory_loop",
                                                                   "too_deep",
                                                                   "io_error",
                                                                   "unknown_type",
                                                                   "archive_too_deep",
                                                                   "archive_too_large",
                                                                   "archive_too_many_entries",
                                                                   "archive_ratio",
                                                                   "archive_encrypted_member",
                                                                   "archive_member_error",
                                                                   "archive_truncated",
                                                                   "archive_unreadable"};
static_assert(static_cast<std::size_t>(SkipReason::archive_unreadable) + 1 == kSkipReasonNames.size());

// The JSON name of a skip reason.
constexpr std::string_view to_json(SkipReason r) noexcept { return kSkipReasonNames[static_cast<std::size_t>(r)]; }

// Counts one skip (or n) under its reason.
inline void count_skip(ScanStats& stats, SkipReason r, std::uint64_t n = 1) {
  stats.skipped[std::string(to_json(r))] += n;
}

}  // namespace keyward::scanner
