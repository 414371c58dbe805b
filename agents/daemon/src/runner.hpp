// SPDX-License-Identifier: Apache-2.0
// The agent's work: deliver the spool (oldest first), scan, spool the report, deliver, sleep
// the interval plus jitter; or all of it once (--once). Used by: main (run).
// Sends findings documents only; logs status lines, never report bodies, keys or tokens.
#pragma once

#include "config.hpp"

#include <atomic>
#include <functional>
#include <string_view>

namespace keyward::scanner::detail {
class DetectorRegistry;  // scanner/src/detectors/detector.hpp
}

namespace keyward::agent {

// Exit codes of `keyward-agent run` (documented in --help and agents/README.md).
inline constexpr int kExitDelivered = 0;  // --once: the report reached the collector (or stopped by a signal)
inline constexpr int kExitError = 2;      // config or setup error (nothing scanned)
inline constexpr int kExitSpooled = 3;    // --once: the report is in the spool, not delivered yet
inline constexpr int kExitRejected = 4;   // --once: the collector refused the report (moved to spool/rejected)
inline constexpr int kExitHeld = 5;       // --once: the collector holds the report until an admin approves this agent

struct RunOptions {
  bool once = false;
  const std::atomic<bool>* stop = nullptr;                       // set by SIGTERM/SIGINT: cancel the scan, end the loop
  std::function<void(std::string_view)> log;                     // one line per event (default: stderr)
  const scanner::detail::DetectorRegistry* detectors = nullptr;  // default: the built-in formats
};

// Runs until stopped (or once). Throws ConfigError / std::runtime_error for setup problems.
int run_agent(const AgentConfig& config, const RunOptions& options);

// Sleeps until `deadline` or until *stop is set; false when stopped.
bool sleep_until(std::chrono::system_clock::time_point deadline, const std::atomic<bool>* stop);

}  // namespace keyward::agent
