// SPDX-License-Identifier: Apache-2.0
#include "server/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace keyward::collector {

RateLimiter::RateLimiter(std::uint32_t per_minute)
    : capacity_(std::max<double>(1, per_minute)), per_second_(std::max<double>(1, per_minute) / 60.0) {}

std::uint32_t RateLimiter::take(const std::string& key, double now) {
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ > 300) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (it->second.tokens + (now - it->second.at) * per_second_ >= capacity_) it = buckets_.erase(it);
      else ++it;
    }
    last_sweep_ = now;
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{capacity_, now});
  Bucket& b = it->second;
  b.tokens = std::min(capacity_, b.tokens + std::max(0.0, now - b.at) * per_second_);
  b.at = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait = (1.0 - b.tokens) / per_second_;
  return static_cast<std::uint32_t>(std::max(1.0, std::ceil(wait)));
}

}  // namespace keyward::collector
