// SPDX-License-Identifier: Apache-2.0
// Open connections, counted in total (limits.max_connections) and per client address
// (limits.max_connections_per_client), so that one client cannot hold every connection.
// Used by: the listener (server.cpp), which asks before it starts a session and gives the slot
// back when the session ends. Thread-safe. Must never grow without bound: a client's entry goes
// with its last connection.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace keyward::collector {

class ConnectionLimiter {
 public:
  // Whether a connection may start, and if not which limit it hit.
  enum class Verdict { admitted, over_total, over_client };

  ConnectionLimiter(std::uint32_t max_total, std::uint32_t max_per_client);

  // Takes a slot for a connection from client (an IP address, without the port) when both
  // limits allow; every admitted connection is given back with release(client).
  Verdict acquire(const std::string& client);
  // Gives back a slot that acquire() admitted.
  void release(const std::string& client);
  // Connections open now.
  std::uint32_t open() const;

 private:
  const std::uint32_t max_total_;
  const std::uint32_t max_per_client_;
  mutable std::mutex mutex_;
  std::uint32_t total_ = 0;
  std::unordered_map<std::string, std::uint32_t> per_client_;
};

}  // namespace keyward::collector
