// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load's HTTPS client (see http_client.hpp). Never logs a request, a header
// value or a body: errors name the stage and the error code only.
#include "http_client.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace keyward::fleet_load {

Target parse_target(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) throw std::runtime_error("--url must be https://127.0.0.1:PORT");
  std::string rest = url.substr(scheme.size());
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--url needs a port: https://127.0.0.1:PORT");
  Target t;
  t.host = rest;
  std::string host = rest.substr(0, colon);
  const std::string port = rest.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec || !address.is_loopback()) throw std::runtime_error("--url must name a loopback address (127.0.0.1 or ::1)");
  unsigned long p = 0;
  try {
    p = std::stoul(port);
  } catch (const std::exception&) {
    p = 0;
  }
  if (p == 0 || p > 65535) throw std::runtime_error("--url has a bad port");
  t.ip = address.to_string();
  t.endpoint = tcp::endpoint(address, static_cast<unsigned short>(p));
  return t;
}

std::unique_ptr<ssl::context> make_client_context(const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
  boost::system::error_code ec;
  ctx->load_verify_file(ca_file, ec);
  if (ec) throw std::runtime_error("cannot load the CA " + ca_file + ": " + ec.message());
  // Sessions are kept by the caller per agent (SSL_get1_session), never in a shared cache.
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  return ctx;
}

Connection::Connection(net::any_io_executor ex, ssl::context& ctx, std::chrono::seconds timeout)
    : ex_(std::move(ex)), ctx_(ctx), timeout_(timeout) {}

bool Connection::resumed() const { return stream_ && SSL_session_reused(stream_->native_handle()) == 1; }

SessionPtr Connection::session() const {
  if (!stream_) return nullptr;
  const SSL_SESSION* s = SSL_get0_session(stream_->native_handle());
  if (s == nullptr || SSL_SESSION_is_resumable(s) != 1) return nullptr;
  // A copy: OpenSSL marks a connection's own session not resumable when that connection ends
  // without a clean shutdown (a kept-alive connection the collector closed while idle).
  return SessionPtr(SSL_SESSION_dup(s));
}

// Sets the agent's certificate, key and session on the connection before its handshake.
static bool prepare_ssl(SSL* ssl, const Target& t, const Credentials& creds) {
  ERR_clear_error();
  if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t.ip.c_str()) != 1) return false;
  if (creds.cert != nullptr && (SSL_use_certificate(ssl, creds.cert) != 1 || SSL_use_PrivateKey(ssl, creds.key) != 1))
    return false;
  if (creds.session != nullptr && SSL_set_session(ssl, creds.session) != 1) return false;
  return true;
}

net::awaitable<std::string> Connection::open(const Target& t, const Credentials& creds) {
  stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex_, ctx_);
  buffer_.clear();
  if (!prepare_ssl(stream_->native_handle(), t, creds)) {
    ERR_clear_error();
    stream_.reset();
    co_return "setup";
  }
  auto& tcp_layer = beast::get_lowest_layer(*stream_);
  tcp_layer.expires_after(timeout_);
  auto [cec] = co_await tcp_layer.async_connect(t.endpoint, kTok);
  if (cec) {
    stream_.reset();
    co_return "connect";
  }
  tcp_layer.socket().set_option(tcp::no_delay(true), cec);
  tcp_layer.expires_after(timeout_);
  auto [hec] = co_await stream_->async_handshake(ssl::stream_base::client, kTok);
  if (hec) {
    ERR_clear_error();
    stream_.reset();
    co_return "handshake";
  }
  co_return "";
}

net::awaitable<Answer> Connection::exchange(http::request<http::string_body>& req) {
  Answer a;
  if (!stream_) {
    a.failed = "closed";
    co_return a;
  }
  auto& tcp_layer = beast::get_lowest_layer(*stream_);
  tcp_layer.expires_after(timeout_);
  auto [wec, wn] = co_await http::async_write(*stream_, req, kTok);
  if (wec) {
    stream_.reset();
    a.failed = wec == beast::error::timeout ? "write-timeout" : "write";
    co_return a;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  tcp_layer.expires_after(timeout_);
  auto [rec, rn] = co_await http::async_read(*stream_, buffer_, parser, kTok);
  if (rec) {
    stream_.reset();
    a.failed = rec == beast::error::timeout ? "read-timeout" : "read";
    co_return a;
  }
  a.status = static_cast<int>(parser.get().result_int());
  a.body = std::move(parser.get().body());
  a.keep_alive = parser.get().keep_alive();
  co_return a;
}

net::awaitable<void> Connection::close() {
  if (!stream_) co_return;
  auto stream = std::move(stream_);
  beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(2));
  auto [ec] = co_await stream->async_shutdown(kTok);
  (void)ec;  // a peer gone before our close_notify changes nothing
  ERR_clear_error();
}

http::request<http::string_body> make_request(http::verb verb, const std::string& path, const Target& t,
                                              std::string body, const std::string& bearer, bool keep_alive) {
  http::request<http::string_body> req{verb, path, 11};
  req.set(http::field::host, t.host);
  req.set(http::field::user_agent, "keyward-fleet-load");
  req.set(http::field::accept, "application/json");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (verb != http::verb::get) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.keep_alive(keep_alive);
  req.prepare_payload();
  return req;
}

}  // namespace keyward::fleet_load
