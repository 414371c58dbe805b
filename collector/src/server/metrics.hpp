// SPDX-License-Identifier: Apache-2.0
// Counters for GET /metrics (Prometheus text exposition format 0.0.4).
// Used by: sessions (requests, handshakes) and the API (reports, ingest time). Lock-free
// counters; must never carry a label with an agent id, token or path (bounded cardinality).
#pragma once

#include <keyward/collector/store.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace keyward::collector {

struct Metrics {
  std::atomic<std::uint64_t> requests_2xx{0}, requests_3xx{0}, requests_4xx{0}, requests_5xx{0};
  std::atomic<std::uint64_t> reports_stored{0}, reports_duplicate{0}, reports_held{0}, reports_rejected{0};
  std::atomic<std::uint64_t> reports_rate_limited{0}, reads_rate_limited{0};
  std::atomic<std::uint64_t> findings_ingested{0};
  std::atomic<std::uint64_t> ingest_microseconds{0}, ingest_count{0};
  std::atomic<std::uint64_t> tls_handshake_failures{0};
  std::atomic<std::uint64_t> connections_open{0}, connections_refused{0}, connections_refused_per_client{0};

  // Counts one answered request by status class.
  void count_status(unsigned status) noexcept;
  // The exposition text, with the store's counts as gauges.
  std::string render(const StoreCounts& counts) const;
};

}  // namespace keyward::collector
