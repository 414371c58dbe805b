// The mount table: which directories are kernel pseudo file systems or network/automount
// file systems that a scan skips by default. Used by: scan.cpp.
#pragma once

#include <string>
#include <unordered_map>

namespace keyward::scanner::detail {

// Why a mount point is skipped: "pseudo_fs", "network_fs", or empty when it is scanned.
struct MountTable {
  std::unordered_map<std::string, std::string> skip;  // mount point -> reason

  // Reads /proc/self/mountinfo (an empty table if it cannot be read) and adds /proc, /sys, /dev.
  static MountTable load(bool pseudo, bool network);
};

}  // namespace keyward::scanner::detail
