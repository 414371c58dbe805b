// SPDX-License-Identifier: Apache-2.0
// The wire between keyward-agent and keyward-collector: paths, the report envelope and the
// enrollment messages (docs/api/openapi.yaml is the reference; docs/fleet.md the guide).
// Used by: the agent (builds reports, enrolls) and the collector (parses them).
// Must never carry key bytes, passwords or tokens in a body: reports are findings documents
// (facts and fingerprints); enrollment sends a CSR (public) and gets a certificate (public).
#pragma once

#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

namespace keyward::protocol {

// Paths of API v1 that agents use.
inline constexpr const char* kReportsPath = "/api/v1/reports";
inline constexpr const char* kEnrollPath = "/api/v1/enroll";
inline constexpr const char* kHealthPath = "/health";

// The "status" of a 202 answer to a report when the collector keeps it until an admin approves
// the agent (docs/api/openapi.yaml, IngestAnswer: stored | duplicate | held).
inline constexpr const char* kIngestHeld = "held";

// A report is the keyward.findings/v1 document with "report_id" added at the top level: a
// random 32-hex-digit id the agent picks once per scan and keeps across retries, so that the
// collector stores a replayed report once. scan.complete=false marks a scan cut short.
struct Report {
  std::string report_id;
  scanner::ScanResult result;
};

// Bounds of the names an agent or an enrollment token holder sets (issue 12): longer ones, and
// any holding a control character (C0, DEL, C1), are refused as bad_field.
inline constexpr std::size_t kMaxHostnameBytes = 253;  // a DNS name (RFC 1035)
inline constexpr std::size_t kMaxOsBytes = 256;
inline constexpr std::size_t kMaxShortFieldBytes = 128;  // tool.version, scan.id, stats keys
inline constexpr std::size_t kMaxRoots = 4096;
inline constexpr std::size_t kMaxRootBytes = 4096;  // PATH_MAX
inline constexpr std::size_t kMaxStatsKeys = 256;
// No cap on the number of findings (parse_report's default).
inline constexpr std::size_t kAnyNumberOfFindings = std::numeric_limits<std::size_t>::max();

// A new random report id: 32 lowercase hex digits (128 bits from the OpenSSL DRBG).
std::string new_report_id();

// True when s is 32 lowercase hex digits.
bool valid_report_id(std::string_view s) noexcept;

// The report document for a scan result.
nlohmann::json report_to_json(const scanner::ScanResult& r, const std::string& report_id);

// The same document written piece by piece to `out`, one finding at a time, so that no JSON
// tree of the whole report is built (the agent streams it into its gzip spool file).
void write_report_json(const scanner::ScanResult& r, const std::string& report_id,
                       const std::function<void(std::string_view)>& out);

// Why a body is not a report; the message says what is wrong and what was expected, never
// echoes content.
struct ParseError {
  // stable: "malformed_json", "unknown_schema", "bad_report_id", "bad_field", "bad_finding",
  // "too_many_findings"
  std::string code;
  std::string message;  // one line a person reads
};

// Parses a report body (already decompressed). Never throws on bad input. A report with more
// than max_findings findings is refused as too_many_findings as soon as the parser reads the
// one too many, before the rest of the body is read or any finding is converted.
boost::system::result<Report, ParseError> parse_report(std::string_view body,
                                                       std::size_t max_findings = kAnyNumberOfFindings);

// POST /api/v1/enroll (bearer: the one-time enrollment token).
struct EnrollRequest {
  std::string csr_pem;   // PKCS#10, the agent's key made on the host
  std::string hostname;  // 1 to kMaxHostnameBytes, no control characters
  std::string os;        // up to kMaxOsBytes, no control characters
};
// 201 answer to an enrollment.
struct EnrollResponse {
  std::string agent_id;         // also the CN of the certificate
  std::string certificate_pem;  // signed by the collector's CA
  std::string ca_pem;           // the collector's CA certificate
  std::string status;           // "pending" until an admin approves
};

nlohmann::json to_json(const EnrollRequest& r);
nlohmann::json to_json(const EnrollResponse& r);
boost::system::result<EnrollRequest, ParseError> parse_enroll_request(std::string_view body);
boost::system::result<EnrollResponse, ParseError> parse_enroll_response(std::string_view body);

// The JSON error body every 4xx/5xx answer carries: {"error": {"code": ..., "message": ...}}.
nlohmann::json error_body(std::string_view code, std::string_view message);

}  // namespace keyward::protocol
