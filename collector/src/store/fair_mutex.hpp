// SPDX-License-Identifier: Apache-2.0
// A mutex that hands the lock over in arrival order (a ticket lock on a condition variable).
// The store's ingest releases its lock after each chunk of a large report and takes it again
// at once; with std::mutex the releasing thread usually wins that race and readers wait for
// the whole report (issue 12). With this one, every thread already waiting goes first.
// Used by: SqlStore (its one lock). BasicLockable, so std::lock_guard works with it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace keyward::collector::detail {

class FairMutex {
 public:
  void lock() {
    std::unique_lock guard(m_);
    const std::uint64_t ticket = next_++;
    turn_.wait(guard, [&] { return serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard guard(m_);
      ++serving_;
    }
    turn_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable turn_;
  std::uint64_t next_ = 0;     // the ticket of the next thread to ask
  std::uint64_t serving_ = 0;  // the ticket that holds the lock (or may take it)
};

}  // namespace keyward::collector::detail
