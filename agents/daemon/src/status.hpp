// SPDX-License-Identifier: Apache-2.0
// state_dir/status.json: what the agent did last (scan, delivery, spool, errors), written
// atomically with mode 0600 after each step; `keyward-agent status` prints it.
// Used by: the runner, main (status). Never holds key bytes or tokens.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace keyward::agent {

struct AgentStatus {
  std::string agent_id;
  // last scan
  std::int64_t scan_started = 0, scan_finished = 0;  // seconds since the epoch, 0 never
  std::uint64_t scan_files = 0, scan_findings = 0;
  bool scan_complete = false;
  std::string scan_report_id;
  // last delivery attempt
  std::int64_t delivery_time = 0;
  std::string delivery_status;  // "delivered", "rejected 400", "not accepted 403", "retry 503", "network error", ...
  std::int64_t last_delivered = 0;
  std::int64_t next_attempt = 0, next_scan = 0;
  // spool
  std::uint64_t spool_depth = 0, spool_bytes = 0;
  std::uint64_t dropped_reports = 0, rejected_reports = 0;
  // last error
  std::int64_t error_time = 0;
  std::string last_error;

  nlohmann::json to_json() const;
  static AgentStatus from_json(const nlohmann::json& j);

  // Loads; an absent or unreadable file gives an empty status.
  static AgentStatus load(const std::string& path);
  // Writes atomically, 0600; throws std::runtime_error naming the file.
  void save(const std::string& path) const;

  // For people: one fact per line.
  std::string render_text() const;
};

// RFC 3339 UTC ("-" for 0).
std::string format_time(std::int64_t t);

}  // namespace keyward::agent
