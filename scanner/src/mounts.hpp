// The mount table: which directories are kernel pseudo file systems or network/automount
// file systems that a scan skips by default. Used by: scan.cpp.
#pragma once

#include <keyward/scanner/skip_reason.hpp>

#include <string>
#include <unordered_map>

namespace keyward::scanner::detail {

// Which mount points are skipped, and why (pseudo_fs or network_fs); others are scanned.
struct MountTable {
  std::unordered_map<std::string, SkipReason> skip;  // mount point -> reason

  // Reads /proc/self/mountinfo (an empty table if it cannot be read) and adds /proc, /sys, /dev.
  static MountTable load(bool pseudo, bool network);
};

}  // namespace keyward::scanner::detail
