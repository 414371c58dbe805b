// SPDX-License-Identifier: Apache-2.0
#include <keyward/common/random.hpp>
#include <keyward/common/terminal.hpp>
#include <keyward/protocol/protocol.hpp>

#include <keyward/scanner/finding_json.hpp>

#include <ctime>
#include <stdexcept>

namespace keyward::protocol {
namespace {

using json = nlohmann::json;

struct Bad {
  std::string code;
  std::string message;
};

const json& member(const json& j, const char* name, const char* where) {
  auto it = j.find(name);
  if (it == j.end()) throw Bad{"bad_field", std::string(where) + "." + name + " is missing"};
  return *it;
}

std::string string_at(const json& j, const char* name, const char* where, bool required = true) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) throw Bad{"bad_field", std::string(where) + "." + name + " is missing"};
    return {};
  }
  if (!it->is_string()) throw Bad{"bad_field", std::string(where) + "." + name + " must be a string"};
  return it->get<std::string>();
}

// A name an agent or a token holder sets: at most max bytes, no control characters.
std::string name_at(const json& j, const char* name, const char* where, std::size_t max, bool required = false) {
  std::string s = string_at(j, name, where, required);
  if (s.size() > max || common::has_control_characters(s))
    throw Bad{"bad_field", std::string(where) + "." + name + " must be at most " + std::to_string(max) +
                               " bytes without control characters"};
  return s;
}

std::uint64_t count_at(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return 0;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0))
    throw Bad{"bad_field", std::string("scan.stats.") + name + " must be a non-negative integer"};
  return it->get<std::uint64_t>();
}

std::int64_t time_at(const json& j, const char* name) {
  const std::string s = string_at(j, name, "scan", false);
  if (s.empty()) return 0;
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0')
    throw Bad{"bad_field", std::string("scan.") + name + " must be an RFC 3339 UTC time"};
  return static_cast<std::int64_t>(timegm(&tm));
}

std::map<std::string, std::uint64_t> counts_at(const json& stats, const char* name) {
  std::map<std::string, std::uint64_t> out;
  auto it = stats.find(name);
  if (it == stats.end()) return out;
  if (!it->is_object()) throw Bad{"bad_field", std::string("scan.stats.") + name + " must be an object"};
  if (it->size() > kMaxStatsKeys)
    throw Bad{"bad_field",
              std::string("scan.stats.") + name + " has more than " + std::to_string(kMaxStatsKeys) + " reasons"};
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (e.key().size() > kMaxShortFieldBytes || common::has_control_characters(e.key()))
      throw Bad{"bad_field", std::string("scan.stats.") + name + " has a malformed reason"};
    if (!e.value().is_number_unsigned())
      throw Bad{"bad_field", std::string("scan.stats.") + name + " values must be counts"};
    out[e.key()] = e.value().get<std::uint64_t>();
  }
  return out;
}

Report report_from(const json& j) {
  if (!j.is_object()) throw Bad{"bad_field", "a report must be a JSON object"};
  auto schema = j.find("schema");
  if (schema == j.end() || !schema->is_string())
    throw Bad{"unknown_schema", std::string("the report has no schema; expected \"") + scanner::kFindingsSchema + "\""};
  if (schema->get<std::string>() != scanner::kFindingsSchema)
    throw Bad{"unknown_schema", "unknown schema \"" + schema->get<std::string>().substr(0, 64) +
                                    "\"; this collector reads \"" + scanner::kFindingsSchema + "\""};
  Report rep;
  auto id = j.find("report_id");
  if (id == j.end() || !id->is_string() || !valid_report_id(id->get<std::string>()))
    throw Bad{"bad_report_id", "report_id must be 32 lowercase hex digits (the idempotency id of the report)"};
  rep.report_id = id->get<std::string>();

  scanner::ScanResult& r = rep.result;
  if (auto tool = j.find("tool"); tool != j.end() && tool->is_object())
    r.tool_version = name_at(*tool, "version", "tool", kMaxShortFieldBytes);
  if (auto host = j.find("host"); host != j.end()) {
    if (!host->is_object()) throw Bad{"bad_field", "host must be an object"};
    r.host.hostname = name_at(*host, "hostname", "host", kMaxHostnameBytes);
    r.host.os = name_at(*host, "os", "host", kMaxOsBytes);
  }
  const json& scan = member(j, "scan", "report");
  if (!scan.is_object()) throw Bad{"bad_field", "scan must be an object"};
  r.scan_id = name_at(scan, "id", "scan", kMaxShortFieldBytes);
  r.started_at = time_at(scan, "started_at");
  r.finished_at = time_at(scan, "finished_at");
  if (auto roots = scan.find("roots"); roots != scan.end()) {
    if (!roots->is_array() || roots->size() > kMaxRoots)
      throw Bad{"bad_field", "scan.roots must be an array of at most " + std::to_string(kMaxRoots) + " paths"};
    for (const auto& root : *roots) {
      if (!root.is_string() || root.get_ref<const std::string&>().size() > kMaxRootBytes)
        throw Bad{"bad_field", "scan.roots must hold paths of at most " + std::to_string(kMaxRootBytes) + " bytes"};
      r.roots.push_back(root.get<std::string>());
    }
  }
  const json& complete = member(scan, "complete", "scan");
  if (!complete.is_boolean()) throw Bad{"bad_field", "scan.complete must be true or false"};
  r.complete = complete.get<bool>();
  if (auto stats = scan.find("stats"); stats != scan.end()) {
    if (!stats->is_object()) throw Bad{"bad_field", "scan.stats must be an object"};
    r.stats.files_seen = count_at(*stats, "files_seen");
    r.stats.files_scanned = count_at(*stats, "files_scanned");
    r.stats.files_cached = count_at(*stats, "files_cached");
    r.stats.bytes_scanned = count_at(*stats, "bytes_scanned");
    r.stats.dirs_seen = count_at(*stats, "dirs_seen");
    r.stats.dirs_cached = count_at(*stats, "dirs_cached");
    r.stats.errors = count_at(*stats, "errors");
    r.stats.trust_store_certificates = count_at(*stats, "trust_store_certificates");
    r.stats.archives = count_at(*stats, "archives");
    r.stats.archive_members = count_at(*stats, "archive_members");
    r.stats.skipped = counts_at(*stats, "skipped");
    r.stats.rejected = counts_at(*stats, "rejected");
  }
  const json& findings = member(j, "findings", "report");
  if (!findings.is_array()) throw Bad{"bad_field", "findings must be an array"};
  r.findings.reserve(findings.size());
  for (std::size_t i = 0; i < findings.size(); ++i) {
    auto f = scanner::finding_from_json(findings[i]);
    if (!f)
      throw Bad{"bad_finding", "findings[" + std::to_string(i) + "] is not a keyward finding: " + f.error().message()};
    if (f->id.empty()) throw Bad{"bad_finding", "findings[" + std::to_string(i) + "] has no id"};
    r.findings.push_back(std::move(*f));
  }
  return rep;
}

}  // namespace

std::string new_report_id() { return common::random_hex(16); }

bool valid_report_id(std::string_view s) noexcept {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

nlohmann::json report_to_json(const scanner::ScanResult& r, const std::string& report_id) {
  json j = scanner::to_json(r);
  j["report_id"] = report_id;
  return j;
}

void write_report_json(const scanner::ScanResult& r, const std::string& report_id,
                       const std::function<void(std::string_view)>& out) {
  json head = scanner::to_json(r, /*with_findings=*/false);
  head["report_id"] = report_id;
  std::string text = head.dump(-1, ' ', false, json::error_handler_t::replace);
  text.pop_back();  // the closing brace: the findings follow
  text += ",\"findings\":[";
  out(text);
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    text = i == 0 ? std::string() : std::string(",");
    scanner::write_json(r.findings[i], text, -1);
    out(text);
  }
  out("]}");
}

namespace {

// Counts the elements of the top-level "findings" array while the parser reads them, and stops
// it at the one past the cap (so a report over the cap is never parsed whole).
class FindingsCounter {
 public:
  struct TooMany {};
  explicit FindingsCounter(std::size_t max) : max_(max) {}
  bool operator()(int depth, json::parse_event_t event, const json& parsed) {
    using E = json::parse_event_t;
    // Depths as nlohmann reports them: the root's keys and its arrays' starts and ends are at 1,
    // an element of such an array ends (object_end, array_end, value) at 2.
    if (depth == 1 && event == E::key) findings_key_ = parsed == "findings";
    else if (depth == 1 && event == E::array_start) in_findings_ = findings_key_;
    else if (depth == 1 && event == E::array_end) in_findings_ = false;
    else if (in_findings_ && depth == 2 && (event == E::object_end || event == E::array_end || event == E::value))
      if (++count_ > max_) throw TooMany{};
    return true;
  }

 private:
  std::size_t max_;
  std::size_t count_ = 0;
  bool findings_key_ = false;
  bool in_findings_ = false;
};

json parse_counted(std::string_view body, std::size_t max_findings) {
  if (max_findings == kAnyNumberOfFindings) return json::parse(body, nullptr, /*allow_exceptions=*/false);
  FindingsCounter counter(max_findings);
  return json::parse(
      body, [&counter](int depth, json::parse_event_t event, json& parsed) { return counter(depth, event, parsed); },
      /*allow_exceptions=*/false);
}

}  // namespace

boost::system::result<Report, ParseError> parse_report(std::string_view body, std::size_t max_findings) {
  json j;
  try {
    j = parse_counted(body, max_findings);
  } catch (const FindingsCounter::TooMany&) {
    return ParseError{"too_many_findings",
                      "the report has more than " + std::to_string(max_findings) + " findings (the collector's limit)"};
  }
  if (j.is_discarded()) return ParseError{"malformed_json", "the body is not valid JSON"};
  try {
    return report_from(j);
  } catch (const Bad& b) {
    return ParseError{b.code, b.message};
  } catch (const json::exception&) {
    return ParseError{"bad_field", "a field of the report has the wrong type"};
  }
}

nlohmann::json to_json(const EnrollRequest& r) {
  return json{{"csr", r.csr_pem}, {"hostname", r.hostname}, {"os", r.os}};
}

nlohmann::json to_json(const EnrollResponse& r) {
  return json{{"agent_id", r.agent_id}, {"certificate", r.certificate_pem}, {"ca", r.ca_pem}, {"status", r.status}};
}

boost::system::result<EnrollRequest, ParseError> parse_enroll_request(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ParseError{"malformed_json", "the body is not a JSON object"};
  try {
    EnrollRequest r;
    r.csr_pem = string_at(j, "csr", "enrollment");
    r.hostname = name_at(j, "hostname", "enrollment", kMaxHostnameBytes, /*required=*/true);
    r.os = name_at(j, "os", "enrollment", kMaxOsBytes);
    if (r.hostname.empty()) return ParseError{"bad_field", "enrollment.hostname must not be empty"};
    if (r.csr_pem.size() > 16384) return ParseError{"bad_field", "csr is too large"};
    return r;
  } catch (const Bad& b) {
    return ParseError{b.code, b.message};
  }
}

boost::system::result<EnrollResponse, ParseError> parse_enroll_response(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ParseError{"malformed_json", "the body is not a JSON object"};
  try {
    EnrollResponse r;
    r.agent_id = string_at(j, "agent_id", "enrollment");
    r.certificate_pem = string_at(j, "certificate", "enrollment");
    r.ca_pem = string_at(j, "ca", "enrollment");
    r.status = string_at(j, "status", "enrollment", false);
    return r;
  } catch (const Bad& b) {
    return ParseError{b.code, b.message};
  }
}

nlohmann::json error_body(std::string_view code, std::string_view message) {
  return json{{"error", {{"code", std::string(code)}, {"message", std::string(message)}}}};
}

}  // namespace keyward::protocol
