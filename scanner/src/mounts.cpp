// SPDX-License-Identifier: Apache-2.0
#include "mounts.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <string_view>

namespace keyward::scanner::detail {
namespace {

constexpr std::array<std::string_view, 20> kPseudo{"proc",        "sysfs",      "devtmpfs",   "devpts",  "cgroup",
                                                   "cgroup2",     "securityfs", "debugfs",    "tracefs", "pstore",
                                                   "bpf",         "configfs",   "fusectl",    "mqueue",  "hugetlbfs",
                                                   "binfmt_misc", "efivarfs",   "rpc_pipefs", "nsfs",    "selinuxfs"};
constexpr std::array<std::string_view, 16> kNetwork{
    "nfs", "nfs4", "cifs",      "smb3",           "smbfs",     "autofs", "fuse.sshfs",  "sshfs",
    "afs", "ceph", "glusterfs", "fuse.glusterfs", "fuse.s3fs", "davfs",  "fuse.rclone", "ncpfs"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& a, std::string_view v) {
  for (auto x : a)
    if (x == v) return true;
  return false;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const auto oct = s.substr(i + 1, 3);
      if (oct.size() == 3 && oct[0] >= '0' && oct[0] <= '7') {
        out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

MountTable MountTable::load(bool pseudo, bool network) {
  std::ifstream in("/proc/self/mountinfo");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), pseudo, network);
}

MountTable MountTable::parse(std::string_view mountinfo, bool pseudo, bool network) {
  MountTable t;
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::istringstream ls(line);
    std::string id, parent, devno, root, mount_point;
    ls >> id >> parent >> devno >> root >> mount_point;
    const auto dash = line.find(" - ");
    if (dash == std::string::npos || mount_point.empty()) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string fstype;
    rest >> fstype;
    std::string mp = unescape(mount_point);
    // A later mount on the same point hides the earlier one: its type decides.
    if (pseudo && contains(kPseudo, fstype)) t.skip[mp] = SkipReason::pseudo_fs;
    else if (network && contains(kNetwork, fstype)) t.skip[mp] = SkipReason::network_fs;
    else t.skip.erase(mp);
    if (std::find(t.points.begin(), t.points.end(), mp) == t.points.end()) t.points.push_back(std::move(mp));
  }
  // Kernel file systems are skipped by path too: a table that could not be read (a remote host
  // whose SFTP server hides /proc) must not send the walk through /proc or /sys.
  if (pseudo) {
    for (const char* p : {"/proc", "/sys", "/dev"}) t.skip.emplace(p, SkipReason::pseudo_fs);
  }
  return t;
}

std::uint64_t MountTable::device_of(std::string_view path) const {
  std::uint64_t best = 0;
  std::size_t best_len = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string_view mp = points[i];
    const bool holds = mp == "/" || (path.starts_with(mp) && (path.size() == mp.size() || path[mp.size()] == '/'));
    if (holds && (best == 0 || mp.size() > best_len)) {
      best = i + 1;
      best_len = mp.size();
    }
  }
  return best;
}

}  // namespace keyward::scanner::detail
