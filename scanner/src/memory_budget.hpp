// SPDX-License-Identifier: Apache-2.0
// The bytes that scan workers may hold in file buffers at once (scan.cpp), so that peak memory
// does not grow with the number of threads. Private to the scanner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace keyward::scanner::detail {

// Small files pass freely; a large file or a window waits until the budget has room (a file
// read whole that is bigger than the budget holds it alone). acquire() returns what to release.
class MemoryBudget {
 public:
  explicit MemoryBudget(std::uint64_t cap) : cap_(cap) {}
  static constexpr std::uint64_t kFree = 1u << 20;  // files up to this size are not counted

  std::uint64_t acquire(std::uint64_t n) {
    if (n <= kFree) return 0;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return fits(n); });
    used_ += n;
    return n;
  }
  // The same, but waiting at most `wait` for room: false (nothing taken) when there was none,
  // so that the caller can do other work (the walker helps a shared item) and ask again.
  bool try_acquire(std::uint64_t n, std::chrono::milliseconds wait, std::uint64_t& got) {
    got = 0;
    if (n <= kFree) return true;
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, wait, [&] { return fits(n); })) return false;
    used_ += n;
    got = n;
    return true;
  }
  void release(std::uint64_t n) {
    if (n == 0) return;
    {
      std::lock_guard lock(mu_);
      used_ -= n;
    }
    cv_.notify_all();
  }

 private:
  bool fits(std::uint64_t n) const { return used_ == 0 || used_ + n <= cap_; }

  std::uint64_t cap_;
  std::uint64_t used_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace keyward::scanner::detail
