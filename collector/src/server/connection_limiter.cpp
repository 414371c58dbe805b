// SPDX-License-Identifier: Apache-2.0
#include "server/connection_limiter.hpp"

namespace keyward::collector {

ConnectionLimiter::ConnectionLimiter(std::uint32_t max_total, std::uint32_t max_per_client)
    : max_total_(max_total), max_per_client_(max_per_client) {}

ConnectionLimiter::Verdict ConnectionLimiter::acquire(const std::string& client) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return Verdict::over_total;
  auto [it, inserted] = per_client_.try_emplace(client, 0);
  if (it->second >= max_per_client_) return Verdict::over_client;
  ++it->second;
  ++total_;
  return Verdict::admitted;
}

void ConnectionLimiter::release(const std::string& client) {
  std::lock_guard lock(mutex_);
  auto it = per_client_.find(client);
  if (it == per_client_.end() || it->second == 0) return;
  --total_;
  if (--it->second == 0) per_client_.erase(it);
}

std::uint32_t ConnectionLimiter::open() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace keyward::collector
