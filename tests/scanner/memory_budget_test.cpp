// SPDX-License-Identifier: Apache-2.0
#include "memory_budget.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using keyward::scanner::detail::MemoryBudget;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;

// Starts a thread that acquires n, and says whether it got through within `wait`.
struct Waiter {
  std::atomic<bool> got{false};
  std::uint64_t held = 0;
  std::thread thread;
  Waiter(MemoryBudget& budget, std::uint64_t n)
      : thread([&budget, n, this] {
          held = budget.acquire(n);
          got = true;
        }) {}
  bool through_within(std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!got && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return got;
  }
  ~Waiter() { thread.join(); }
};

}  // namespace

TEST_CASE("the read budget lets small files through and holds a large one until there is room") {
  MemoryBudget budget(32 * kMiB);
  CHECK(budget.acquire(MemoryBudget::kFree) == 0);  // not counted: nothing to release
  const std::uint64_t first = budget.acquire(20 * kMiB);
  CHECK(first == 20 * kMiB);
  CHECK(budget.acquire(12 * kMiB) == 12 * kMiB);  // exactly full
  {
    Waiter small(budget, 64 * 1024);  // a small file never waits, even on a full budget
    CHECK(small.through_within(std::chrono::seconds(5)));
  }
  Waiter large(budget, 8 * kMiB);
  CHECK_FALSE(large.through_within(std::chrono::milliseconds(200)));  // 40 MiB would be over 32
  budget.release(first);
  CHECK(large.through_within(std::chrono::seconds(5)));
  CHECK(large.held == 8 * kMiB);
  budget.release(large.held);
  budget.release(12 * kMiB);
}

TEST_CASE("a file larger than the whole budget is read alone, once nothing else is held") {
  MemoryBudget budget(32 * kMiB);
  const std::uint64_t window = budget.acquire(8 * kMiB);
  Waiter huge(budget, 100 * kMiB);
  CHECK_FALSE(huge.through_within(std::chrono::milliseconds(200)));
  budget.release(window);
  CHECK(huge.through_within(std::chrono::seconds(5)));
  // While it is held, even a window waits.
  Waiter next(budget, 2 * kMiB);
  CHECK_FALSE(next.through_within(std::chrono::milliseconds(200)));
  budget.release(huge.held);
  CHECK(next.through_within(std::chrono::seconds(5)));
  budget.release(next.held);
}

TEST_CASE("try_acquire gives up after its wait with nothing taken, so that a worker can help meanwhile") {
  MemoryBudget budget(32 * kMiB);
  std::uint64_t got = 1;
  CHECK(budget.try_acquire(512 * 1024, std::chrono::milliseconds(1), got));  // small files pass freely
  CHECK(got == 0);
  const std::uint64_t held = budget.acquire(30 * kMiB);
  CHECK_FALSE(budget.try_acquire(8 * kMiB, std::chrono::milliseconds(20), got));  // 38 MiB would be over 32
  CHECK(got == 0);
  budget.release(held);
  CHECK(budget.try_acquire(8 * kMiB, std::chrono::milliseconds(20), got));
  CHECK(got == 8 * kMiB);
  // What it took is held: a file too large for what is left waits again.
  CHECK_FALSE(budget.try_acquire(30 * kMiB, std::chrono::milliseconds(20), got));
  budget.release(8 * kMiB);
}
