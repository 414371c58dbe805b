// SPDX-License-Identifier: Apache-2.0
// The events file: one JSON line per event ({seq, time, type, agent_id, hostname, identity,
// finding_id, detail}) for a SIEM to tail, appended after the database commit and fsync'd, and
// the audit log's signed checkpoints ({"type": "audit_checkpoint", ...}, no seq: audit_key.hpp).
// On open it finds the last complete event line's seq (cutting a torn last line) so the store
// can append what a crash left out.
// Used by: sql_events.cpp. Mode 0600. Not thread-safe: the store serialises access.
#pragma once

#include <keyward/collector/store.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace keyward::collector::detail {

// One event as its JSON line (without the newline).
nlohmann::json event_to_json(const Event& e);

class EventFile {
 public:
  // Opens (creating, mode 0600) for appending. Throws StoreError when it cannot.
  explicit EventFile(const std::string& path);
  ~EventFile();
  EventFile(const EventFile&) = delete;
  EventFile& operator=(const EventFile&) = delete;

  // The seq of the last line written (0 for an empty file).
  std::uint64_t last_seq() const { return last_seq_; }
  // Appends events with seq > last_seq(), then fsyncs. Throws StoreError on a write error.
  void append(const std::vector<Event>& events);
  // Appends one line that is not an event (a signed checkpoint), then fsyncs.
  void append_line(const std::string& line);

 private:
  void write_all(const std::string& text);

  std::string path_;
  int fd_ = -1;
  std::uint64_t last_seq_ = 0;
};

}  // namespace keyward::collector::detail
