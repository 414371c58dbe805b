// SPDX-License-Identifier: Apache-2.0
#include "pacer.hpp"

#include <time.h>

#include <algorithm>
#include <thread>

namespace keyward::agent {

std::chrono::nanoseconds Pacer::process_cpu_time() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

Pacer::Pacer(double percent, const std::atomic<bool>* cancel, std::chrono::milliseconds window)
    : fraction_(percent / 100.0),
      cancel_(cancel),
      window_(window),
      wall0_(std::chrono::steady_clock::now()),
      cpu0_(process_cpu_time()) {}

void Pacer::pace() {
  if (fraction_ <= 0 || fraction_ >= 1.0) return;
  std::chrono::nanoseconds owe{0};
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    const auto cpu = process_cpu_time() - cpu0_;
    const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(now - wall0_);
    // CPU time `cpu` may take cpu / fraction of wall time.
    const auto allowed_wall =
        std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(cpu.count()) / fraction_));
    if (allowed_wall > wall) {
      owe = std::min<std::chrono::nanoseconds>(allowed_wall - wall, std::chrono::seconds(2));
    } else if (wall > window_) {
      wall0_ = now;  // in budget: start a new window so idle time is not saved up
      cpu0_ = cpu + cpu0_;
    }
  }
  // Sleep in short steps so a cancelled scan stops promptly.
  const auto start = std::chrono::steady_clock::now();
  while (owe.count() > 0) {
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) break;
    const auto step = std::min<std::chrono::nanoseconds>(owe, std::chrono::milliseconds(100));
    std::this_thread::sleep_for(step);
    owe -= step;
  }
  slept_ns_.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace keyward::agent
