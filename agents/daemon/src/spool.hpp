// SPDX-License-Identifier: Apache-2.0
// The durable spool of reports waiting for the collector: state_dir/spool, one gzip file per
// report named `<16-digit sequence>-<report_id>.json.gz`, written tmp + fsync + rename + fsync
// of the directory, mode 0600. Oldest first; a report leaves only after delivery (remove) or a
// refusal (reject -> spool/rejected/). Past max_bytes the OLDEST reports are dropped: every
// report is a full snapshot of the host, so the newest supersedes what is older.
// Used by: the runner, tests. Holds findings documents only, never key bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::agent {

class Spool {
 public:
  // One spooled report.
  struct Entry {
    std::string path;
    std::string name;
    std::uint64_t sequence = 0;
    std::string report_id;
    std::uint64_t bytes = 0;  // compressed size on disk
  };
  // What add() did.
  struct Added {
    Entry entry;
    std::uint64_t dropped = 0;  // older reports removed to stay under max_bytes
  };

  // Opens (creates, 0700) dir and dir/rejected; removes leftover *.tmp files of a killed agent.
  // Throws std::runtime_error naming the directory.
  Spool(std::string dir, std::uint64_t max_bytes, std::size_t max_rejected = 16);

  // Compresses and durably adds a report; drops the oldest reports when the spool would pass
  // max_bytes (the new report is always kept). Throws std::runtime_error when it cannot write.
  Added add(const std::string& report_id, std::string_view report_json);
  // The same for a report compressed already (a gzip member of its JSON).
  Added add_compressed(const std::string& report_id, const std::string& gz);

  // Reports waiting, oldest first (only well-named files count).
  std::vector<Entry> list() const;
  // The stored (gzip) bytes of a report.
  std::string read_compressed(const Entry& e) const;
  // Removes a delivered report.
  void remove(const Entry& e);
  // Moves a refused report to rejected/ (keeping the newest max_rejected there).
  void reject(const Entry& e);
  // Reports in rejected/.
  std::vector<Entry> rejected() const;

  // Total compressed bytes waiting.
  std::uint64_t bytes() const;
  const std::string& dir() const { return dir_; }
  std::string rejected_dir() const { return dir_ + "/rejected"; }

  // Parses a spool file name; false when it is not one.
  static bool parse_name(std::string_view name, std::uint64_t& sequence, std::string& report_id);

 private:
  std::vector<Entry> list_dir(const std::string& dir) const;
  std::uint64_t next_sequence() const;

  std::string dir_;
  std::uint64_t max_bytes_;
  std::size_t max_rejected_;
};

}  // namespace keyward::agent
