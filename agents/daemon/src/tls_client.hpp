// SPDX-License-Identifier: Apache-2.0
// One HTTPS request to the collector over (mutual) TLS: the collector verified against the
// configured CA with host-name (or IP SAN) verification, the agent's certificate presented when
// given, an optional HTTP proxy (CONNECT), a deadline on every step. Plain header: Beast, Asio
// and OpenSSL stay in tls_client.cpp (such a file takes 30-40 s to compile).
// Used by: the runner (reports), enroll. Never logs or returns request bodies, keys or tokens.
#pragma once

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace keyward::agent {

// Who we are and whom we trust.
struct TlsClientOptions {
  std::string ca_file;               // the collector's CA (PEM): the only trust anchor
  std::string cert_file;             // optional: the agent's certificate (PEM)
  std::string key_file;              // optional: the agent's key (PEM)
  std::string proxy;                 // optional: http://host:port, used through CONNECT
  std::chrono::seconds timeout{30};  // per step: resolve, connect, handshake, write, read
  std::size_t max_response_bytes = 4u << 20;
};

struct HttpRequest {
  std::string method = "POST";  // POST or GET
  std::string url;              // https://host[:port]/path
  std::string body;             // sent as is
  std::string content_type = "application/json";
  bool gzip_encoded = false;  // body is gzip: Content-Encoding: gzip
  std::string bearer;         // optional Authorization: Bearer (never logged)
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;  // from a Retry-After in seconds
};

// Why no answer came back.
struct HttpError {
  std::string stage;        // "setup", "url", "resolve", "connect", "proxy", "handshake", "write", "read"
  std::string message;      // one line: what failed and where; never secrets
  bool maybe_auth = false;  // the connection broke right after the handshake: under TLS 1.3 a
                            // refused client certificate looks like this
};

// Sends one request and reads one answer (Connection: close).
boost::system::result<HttpResponse, HttpError> https_request(const TlsClientOptions& options,
                                                             const HttpRequest& request);

}  // namespace keyward::agent
