// SPDX-License-Identifier: Apache-2.0
#include "status.hpp"

#include "fs_util.hpp"

#include <fmt/format.h>

#include <ctime>
#include <fstream>

namespace keyward::agent {

std::string format_time(std::int64_t t) {
  if (t == 0) return "-";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json AgentStatus::to_json() const {
  using nlohmann::json;
  return json{
      {"agent_id", agent_id},
      {"last_scan",
       {{"started", scan_started},
        {"finished", scan_finished},
        {"files", scan_files},
        {"findings", scan_findings},
        {"complete", scan_complete},
        {"report_id", scan_report_id}}},
      {"last_delivery", {{"time", delivery_time}, {"status", delivery_status}, {"last_delivered", last_delivered}}},
      {"next_attempt", next_attempt},
      {"next_scan", next_scan},
      {"spool",
       {{"depth", spool_depth}, {"bytes", spool_bytes}, {"dropped", dropped_reports}, {"rejected", rejected_reports}}},
      {"last_error", {{"time", error_time}, {"message", last_error}}},
  };
}

AgentStatus AgentStatus::from_json(const nlohmann::json& j) {
  AgentStatus s;
  auto get = [](const nlohmann::json& o, const char* k, auto& out) {
    if (!o.is_object()) return;
    auto it = o.find(k);
    if (it == o.end()) return;
    try {
      it->get_to(out);
    } catch (const nlohmann::json::exception&) {
      // a field of the wrong type reads as unset
    }
  };
  get(j, "agent_id", s.agent_id);
  if (auto it = j.find("last_scan"); it != j.end()) {
    get(*it, "started", s.scan_started);
    get(*it, "finished", s.scan_finished);
    get(*it, "files", s.scan_files);
    get(*it, "findings", s.scan_findings);
    get(*it, "complete", s.scan_complete);
    get(*it, "report_id", s.scan_report_id);
  }
  if (auto it = j.find("last_delivery"); it != j.end()) {
    get(*it, "time", s.delivery_time);
    get(*it, "status", s.delivery_status);
    get(*it, "last_delivered", s.last_delivered);
  }
  get(j, "next_attempt", s.next_attempt);
  get(j, "next_scan", s.next_scan);
  if (auto it = j.find("spool"); it != j.end()) {
    get(*it, "depth", s.spool_depth);
    get(*it, "bytes", s.spool_bytes);
    get(*it, "dropped", s.dropped_reports);
    get(*it, "rejected", s.rejected_reports);
  }
  if (auto it = j.find("last_error"); it != j.end()) {
    get(*it, "time", s.error_time);
    get(*it, "message", s.last_error);
  }
  return s;
}

AgentStatus AgentStatus::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  return from_json(j);
}

void AgentStatus::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n", 0600); }

std::string AgentStatus::render_text() const {
  std::string o;
  o += fmt::format("agent id:        {}\n", agent_id.empty() ? "-" : agent_id);
  if (scan_started == 0) {
    o += "last scan:       never\n";
  } else {
    o += fmt::format("last scan:       {} .. {} ({}), {} files, {} findings\n", format_time(scan_started),
                     format_time(scan_finished), scan_complete ? "complete" : "INCOMPLETE", scan_files, scan_findings);
  }
  o += fmt::format("next scan:       {}\n", format_time(next_scan));
  o += fmt::format("last delivery:   {} {}\n", format_time(delivery_time),
                   delivery_status.empty() ? "-" : delivery_status);
  o += fmt::format("last delivered:  {}\n", format_time(last_delivered));
  if (next_attempt != 0) o += fmt::format("next retry:      {}\n", format_time(next_attempt));
  o += fmt::format("spool:           {} reports, {} bytes waiting\n", spool_depth, spool_bytes);
  o += fmt::format("dropped:         {} (oldest reports dropped past spool_max_bytes)\n", dropped_reports);
  o += fmt::format("rejected:        {} (refused by the collector, kept in spool/rejected)\n", rejected_reports);
  o += fmt::format("last error:      {}{}\n", last_error.empty() ? "-" : format_time(error_time) + " ", last_error);
  return o;
}

}  // namespace keyward::agent
