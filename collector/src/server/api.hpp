// API v1 of the collector (docs/fleet.md): routing, authentication, roles and the handlers,
// on plain request/response values so that it is testable without a network.
// Used by: the TLS session (session.cpp), one call per HTTP request, from any io thread.
// Must never log or echo a token secret, a body or a CSR; refuses malformed input with 4xx.
#pragma once

#include <keyward/collector/store.hpp>

#include "server/ca.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"
#include "server/rate_limiter.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keyward::collector {

// One HTTP request as the session read it (body complete, at most max_request_bytes).
struct ApiRequest {
  std::string method;            // "GET", "POST", ...
  std::string target;            // path and query
  std::string authorization;     // the Authorization header, "" when absent
  std::string content_encoding;  // "" or e.g. "gzip"
  std::string body;
  std::optional<std::string> peer_cert_sha256;  // SHA-256 of the verified client certificate's DER
};

// The answer; who names the caller for the access log ("agent:<id>", "token:<id>", "-").
struct ApiResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string who = "-";
};

class Api {
 public:
  // store and ca must outlive the Api; the store is called under one mutex.
  Api(Store& store, const CertificateAuthority& ca, const Config& config, Metrics& metrics);

  // Answers one request; never throws for bad input (a store failure becomes a 500).
  ApiResponse handle(const ApiRequest& req);

 private:
  struct Caller;
  ApiResponse dispatch(const ApiRequest& req, Caller& caller);
  ApiResponse reports(const ApiRequest& req, Caller& caller);
  ApiResponse enroll(const ApiRequest& req, Caller& caller);

  Store& store_;
  const CertificateAuthority& ca_;
  const Config& config_;
  Metrics& metrics_;
  RateLimiter rate_;
  std::mutex store_mutex_;
};

// HTTP status for a store Refusal code.
unsigned status_for(const std::string& refusal_code) noexcept;

}  // namespace keyward::collector
