// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load's HTTPS client: one TLS connection to the collector (the CA verified, the
// collector's IP SAN checked), an agent's certificate and key per connection, the agent's TLS
// session resumed when it kept one, requests over keep-alive, a deadline on every step.
// Loopback only: a URL whose host is not 127.0.0.1, ::1 or localhost is refused.
// Must never log a request's body or headers (a bearer token rides in one).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>

namespace keyward::fleet_load {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
constexpr auto kTok = net::as_tuple(net::use_awaitable);

// Where the collector listens (a loopback address).
struct Target {
  std::string host;  // as in the URL, for the Host header
  std::string ip;    // the address verified against the server certificate's IP SAN
  tcp::endpoint endpoint;
};
// Throws std::runtime_error unless `url` is https://<loopback>:PORT.
Target parse_target(const std::string& url);

// A TLS client context trusting only `ca_file`; throws when it cannot be read.
std::unique_ptr<ssl::context> make_client_context(const std::string& ca_file);

struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

// What one request got: a status, or the stage that failed ("connect", "handshake", "write",
// "read").
struct Answer {
  int status = 0;
  std::string body;
  std::string failed;
  bool keep_alive = false;  // the server keeps the connection open after this answer
};

// The client certificate a connection presents and the session it may resume.
struct Credentials {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  SSL_SESSION* session = nullptr;
};

class Connection {
 public:
  Connection(net::any_io_executor ex, ssl::context& ctx, std::chrono::seconds timeout);
  // TCP connect and TLS handshake; "" when it worked, else the failed stage.
  net::awaitable<std::string> open(const Target& t, const Credentials& creds);
  // Writes the request and reads one answer; the connection is dropped when that failed.
  net::awaitable<Answer> exchange(http::request<http::string_body>& req);
  // A close_notify (a short deadline), then the socket is closed.
  net::awaitable<void> close();
  bool is_open() const { return stream_ != nullptr; }
  bool resumed() const;
  // The connection's session to resume next time (nullptr if it has none resumable).
  SessionPtr session() const;

 private:
  net::any_io_executor ex_;
  ssl::context& ctx_;
  std::chrono::seconds timeout_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

// A request with Host, User-Agent and, when given, the bearer token (only ever in its header).
http::request<http::string_body> make_request(http::verb verb, const std::string& path, const Target& t,
                                              std::string body, const std::string& bearer, bool keep_alive);

}  // namespace keyward::fleet_load
