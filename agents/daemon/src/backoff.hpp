// SPDX-License-Identifier: Apache-2.0
// Retry delays after a failed delivery: exponential from `base`, capped, with jitter so that a
// fleet does not retry in step after a collector outage; a server's Retry-After is honoured.
// Used by: the runner, tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace keyward::agent {

class Backoff {
 public:
  explicit Backoff(std::chrono::seconds base = std::chrono::seconds(30),
                   std::chrono::seconds cap = std::chrono::minutes(15));

  // The ceiling of the n-th retry (0-based): base * 2^n, at most cap. No jitter.
  std::chrono::seconds ceiling(unsigned attempt) const;

  // The delay before the next retry, and counts a failure: uniform in [ceiling/2, ceiling]
  // ("equal jitter"), at least retry_after when the server sent one (itself at most 1 h).
  std::chrono::seconds next(std::optional<std::chrono::seconds> retry_after = std::nullopt);

  // After a success.
  void reset() { attempt_ = 0; }
  unsigned failures() const { return attempt_; }

 private:
  std::chrono::seconds base_, cap_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

// A uniformly random duration in [0, max] (schedule jitter).
std::chrono::seconds random_jitter(std::chrono::seconds max);

}  // namespace keyward::agent
