#include "mounts.hpp"

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
  MountTable t;
  if (pseudo) {
    for (const char* p : {"/proc", "/sys", "/dev"}) t.skip.emplace(p, SkipReason::pseudo_fs);
  }
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::istringstream ls(line);
    std::string id, parent, devno, root, mount_point;
    ls >> id >> parent >> devno >> root >> mount_point;
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string fstype;
    rest >> fstype;
    const std::string mp = unescape(mount_point);
    if (pseudo && contains(kPseudo, fstype)) t.skip[mp] = SkipReason::pseudo_fs;
    else if (network && contains(kNetwork, fstype)) t.skip[mp] = SkipReason::network_fs;
  }
  return t;
}

}  // namespace keyward::scanner::detail
