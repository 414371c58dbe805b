// SPDX-License-Identifier: Apache-2.0
#include "priority.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keyward::agent {
namespace {
// linux/ioprio.h (not in every libc's headers): class in the top bits, level below.
constexpr int kIoprioClassShift = 13;
constexpr int kIoprioClassBe = 2;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioWhoProcess = 1;
}  // namespace

std::string lower_priority(int nice, IoClass io_class) {
  std::string warn;
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, 0);
  if (!(now == -1 && errno != 0) && nice > now && ::setpriority(PRIO_PROCESS, 0, nice) != 0)
    warn = std::string("cannot set nice ") + std::to_string(nice) + ": " + std::strerror(errno);
  if (io_class != IoClass::none) {
    const int value = io_class == IoClass::idle ? (kIoprioClassIdle << kIoprioClassShift)
                                                : ((kIoprioClassBe << kIoprioClassShift) | 7);
    if (::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, value) != 0) {
      if (!warn.empty()) warn += "; ";
      warn += std::string("cannot set I/O class ") + std::string(to_string(io_class)) + ": " + std::strerror(errno);
    }
  }
  return warn;
}

}  // namespace keyward::agent
