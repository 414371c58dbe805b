// SPDX-License-Identifier: Apache-2.0
// Keeps the agent's average CPU use at or under a share of one core: the scanner calls pace()
// between files (ScanOptions::pace); it compares this process's CPU time
// (CLOCK_PROCESS_CPUTIME_ID, all threads) with wall time since the window began and sleeps off
// the excess. Windows restart every few seconds so idle time is not banked for a burst.
// Used by: the runner, tests.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

namespace keyward::agent {

class Pacer {
 public:
  // percent of one core (1..100; 100 or more never sleeps); cancel (optional) cuts sleeps short.
  explicit Pacer(double percent, const std::atomic<bool>* cancel = nullptr,
                 std::chrono::milliseconds window = std::chrono::seconds(5));

  // Sleeps as needed; thread-safe.
  void pace();

  // Time slept so far.
  std::chrono::nanoseconds slept() const { return std::chrono::nanoseconds(slept_ns_.load()); }

  // This process's CPU time (all threads).
  static std::chrono::nanoseconds process_cpu_time();

 private:
  double fraction_;
  const std::atomic<bool>* cancel_;
  std::chrono::nanoseconds window_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point wall0_;
  std::chrono::nanoseconds cpu0_;
  std::atomic<std::int64_t> slept_ns_{0};
};

}  // namespace keyward::agent
