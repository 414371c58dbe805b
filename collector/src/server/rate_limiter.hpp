// SPDX-License-Identifier: Apache-2.0
// A token bucket per key: reports per agent (limits.reports_per_minute) and GET requests per API
// token (limits.reads_per_minute).
// Used by: the API (reports, reads). Thread-safe. Must never grow without bound: idle buckets are
// dropped once they are full again.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace keyward::collector {

class RateLimiter {
 public:
  // per_minute requests per key, bursts up to per_minute.
  explicit RateLimiter(std::uint32_t per_minute);

  // Takes one token for key at time now (seconds, monotonic). 0 when allowed, else the
  // seconds to wait before a token is available (for Retry-After, at least 1).
  std::uint32_t take(const std::string& key, double now);

 private:
  struct Bucket {
    double tokens = 0;
    double at = 0;
  };
  double capacity_;
  double per_second_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  double last_sweep_ = 0;
};

}  // namespace keyward::collector
