// SPDX-License-Identifier: Apache-2.0
// Sharing one item's work over the scan's workers (docs/architecture.md, "Threading"): the
// walker's run_parts (every part once, runner ids in range, a part's exception rethrown to the
// item's owner after the others finished) and first_opener (the first password in candidate
// order wins, whichever finishes first, within the budget of tries).
#include "detectors/binary.hpp"
#include "item_scan.hpp"
#include "walk/local_source.hpp"
#include "walk/walker.hpp"

#include <keyward/scanner/scan.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace d = keyward::scanner::detail;
using keyward::common::SecretBytes;

namespace {

// Runs each part on its own thread at once: the order in which parts finish is not their order.
class ThreadShare final : public d::WorkShare {
 public:
  explicit ThreadShare(unsigned n) : n_(n) {}
  unsigned runners() const noexcept override { return n_; }
  void run_parts(std::size_t count, const std::function<void(unsigned, std::size_t)>& part) override {
    ++calls;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < count; ++i) threads.emplace_back([&, i] { part(static_cast<unsigned>(i % n_), i); });
    for (auto& t : threads) t.join();
  }
  std::atomic<int> calls{0};

 private:
  unsigned n_;
};

d::PasswordSet candidates(std::size_t n) {
  d::PasswordSet set;
  for (std::size_t i = 0; i < n; ++i) set.candidates.push_back({SecretBytes::copy_of("pw" + std::to_string(i)), ""});
  set.max_tries = 96;
  set.max_time = std::chrono::seconds(30);
  return set;
}

}  // namespace

TEST_CASE("first_opener: the first candidate in order that opens wins, even when a later one answers first") {
  ThreadShare share(4);
  for (d::WorkShare* s : {static_cast<d::WorkShare*>(nullptr), static_cast<d::WorkShare*>(&share)}) {
    auto set = candidates(10);
    set.share = s;
    d::PasswordBudget budget(set);
    std::atomic<int> tried{0};
    const auto i = d::first_opener(set, budget, [&](std::size_t at, const d::PasswordCandidate& c) {
      ++tried;
      CHECK(c.password.view() == "pw" + std::to_string(at));
      if (at == 5) return true;  // answers at once
      if (at == 6) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return true;
      }
      if (at == 4) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return at == 7;
    });
    CHECK(i == 5);
    // One at a time: six tries (0..5); in rounds of four: two rounds, eight tries.
    CHECK(tried == (s == nullptr ? 6 : 8));
  }
  CHECK(share.calls == 2);
}

TEST_CASE("first_opener: the budget of tries bounds it, shared or not") {
  ThreadShare share(2);
  for (d::WorkShare* s : {static_cast<d::WorkShare*>(nullptr), static_cast<d::WorkShare*>(&share)}) {
    auto set = candidates(10);
    set.share = s;
    set.max_tries = 4;
    d::PasswordBudget budget(set);
    std::atomic<int> tried{0};
    const auto i = d::first_opener(set, budget, [&](std::size_t at, const d::PasswordCandidate&) {
      ++tried;
      return at == 6;
    });
    CHECK(i == std::string::npos);
    CHECK(tried == 4);
  }
}

TEST_CASE("walker run_parts: every part once, runner ids below runners(), a part's exception rethrown after the rest") {
  keyward::scanner::ScanOptions options;
  d::LocalSource source;
  d::Walker walker(options, source);
  std::vector<d::WalkWorker> workers(3);
  walker.run(workers);  // nothing to walk: sets the worker count, returns at once
  REQUIRE(walker.runners() == 3);

  std::mutex mu;
  std::multiset<std::size_t> seen;
  walker.run_parts(100, [&](unsigned runner, std::size_t i) {
    CHECK(runner < walker.runners());
    std::lock_guard lock(mu);
    seen.insert(i);
  });
  CHECK(seen.size() == 100);
  for (std::size_t i = 0; i < 100; ++i) CHECK(seen.count(i) == 1);

  std::atomic<int> ran{0};
  CHECK_THROWS_AS(walker.run_parts(10,
                                   [&](unsigned, std::size_t i) {
                                     ++ran;
                                     if (i == 3) throw std::runtime_error("part failed");
                                   }),
                  std::runtime_error);
  CHECK(ran == 4);  // parts after the failing one are left: the item is an error
}
