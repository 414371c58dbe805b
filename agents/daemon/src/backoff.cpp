// SPDX-License-Identifier: Apache-2.0
#include "backoff.hpp"

#include <algorithm>

namespace keyward::agent {

Backoff::Backoff(std::chrono::seconds base, std::chrono::seconds cap)
    : base_(base), cap_(cap), rng_(std::random_device{}()) {}

std::chrono::seconds Backoff::ceiling(unsigned attempt) const {
  std::int64_t d = base_.count();
  for (unsigned i = 0; i < attempt && d < cap_.count(); ++i) d *= 2;
  return std::chrono::seconds(std::min(d, cap_.count()));
}

std::chrono::seconds Backoff::next(std::optional<std::chrono::seconds> retry_after) {
  const std::int64_t hi = ceiling(attempt_).count();
  if (attempt_ < 64) ++attempt_;
  std::uniform_int_distribution<std::int64_t> dist(hi / 2, hi);
  std::int64_t d = dist(rng_);
  if (retry_after) d = std::max<std::int64_t>(d, std::min<std::int64_t>(retry_after->count(), 3600));
  return std::chrono::seconds(d);
}

std::chrono::seconds random_jitter(std::chrono::seconds max) {
  if (max.count() <= 0) return std::chrono::seconds(0);
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<std::int64_t> dist(0, max.count());
  return std::chrono::seconds(dist(rng));
}

}  // namespace keyward::agent
