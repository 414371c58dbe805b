// SPDX-License-Identifier: Apache-2.0
// Lowers the agent's own CPU and I/O priority before it scans (setpriority(2), ioprio_set(2)).
// Used by: main (run). Only ever lowers priority.
#pragma once

#include "config.hpp"

#include <string>

namespace keyward::agent {

// Sets nice (when higher than now) and the I/O class; returns "" or a warning to log.
std::string lower_priority(int nice, IoClass io_class);

}  // namespace keyward::agent
