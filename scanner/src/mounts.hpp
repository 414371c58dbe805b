// SPDX-License-Identifier: Apache-2.0
// The mount table: which directories are kernel pseudo file systems or network/automount
// file systems that a scan skips by default, and (for a source without device numbers, such as
// SFTP) which mount point holds a path. Read from this machine's /proc/self/mountinfo, or parsed
// from a remote host's (walk/remote_source.hpp). Used by: the walker (through its source).
#pragma once

#include <keyward/scanner/skip_reason.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyward::scanner::detail {

// Which mount points are skipped, and why (pseudo_fs or network_fs); others are scanned.
struct MountTable {
  std::unordered_map<std::string, SkipReason> skip;  // mount point -> reason
  std::vector<std::string> points;                   // every mount point, once each, in mountinfo order

  // Reads /proc/self/mountinfo (an empty table if it cannot be read) with parse().
  static MountTable load(bool pseudo, bool network);
  // The table of a mountinfo text; with `pseudo`, /proc, /sys and /dev are skipped whatever the
  // text says (empty text: no mount points, those three skipped).
  static MountTable parse(std::string_view mountinfo, bool pseudo, bool network);

  // A device number for `path` (absolute, normalised): 1 + the index in `points` of the
  // longest mount point that holds it; 0 when the table has none (one device for everything).
  std::uint64_t device_of(std::string_view path) const;
};

}  // namespace keyward::scanner::detail
