// SPDX-License-Identifier: Apache-2.0
// One translation unit holds all of Beast's I/O (listener and session coroutines): each TU with
// Beast and asio/ssl costs 30-40 s to compile on the build hosts. Request framing is Beast's
// parser alone, in http_framing.cpp (no Asio I/O), so that it can be fuzzed.
#include "server/server.hpp"

#include "server/api.hpp"
#include "server/connection_limiter.hpp"
#include "server/http_framing.hpp"
#include "server/metrics.hpp"
#include "server/security_headers.hpp"
#include "server/ui_files.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <thread>
#include <type_traits>

namespace keyward::collector {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct Shared {
  Api& api;
  Metrics& metrics;
  const Config& config;
  net::thread_pool& work;  // runs the API (store, gzip, CSR signing) off the io threads
  ConnectionLimiter& connections;
  const UiFiles* ui;  // the dashboard under /ui/; null with `ui: false` or without its files
};

// A declared body larger than this (or chunked) is read only once the headers' credentials
// were accepted (Api::preauthorize): an unauthenticated client cannot make the collector hold
// max_request_bytes per connection.
constexpr std::uint64_t kPreauthorizeOver = 64 * 1024;
// The most read from the TLS stream at once.
constexpr std::size_t kReadSize = 16 * 1024;

std::string now_utc() {
  const std::string s = rfc3339(static_cast<std::int64_t>(std::time(nullptr)));
  return s;
}

// The one failure path: cancellation, a closed peer and a missing close_notify are normal.
void fail(const beast::error_code& ec, const char* what, const std::string& peer) {
  if (ec == net::error::operation_aborted || ec == net::error::eof || ec == ssl::error::stream_truncated ||
      ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::connection_reset ||
      ec == net::error::broken_pipe)
    return;
  std::fprintf(stderr, "%s keyward-collector: %s %s: %s\n", now_utc().c_str(), peer.c_str(), what,
               ec.message().c_str());
}

std::optional<std::string> peer_cert_sha256(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  X509_free(cert);
  if (n <= 0) return std::nullopt;
  std::string out = sha256_hex(der, static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// A session's hold on its connection slot (total and per client) and on the open gauge.
struct ConnectionSlot {
  Shared& sh;
  std::string client;
  ConnectionSlot(Shared& shared, std::string address) : sh(shared), client(std::move(address)) {}
  ~ConnectionSlot() {
    sh.connections.release(client);
    --sh.metrics.connections_open;
  }
};

ApiResponse plain_error(unsigned status, const std::string& code, const std::string& message) {
  ApiResponse r;
  r.status = status;
  r.body = protocol::error_body(code, message).dump() + "\n";
  return r;
}

using Stream = beast::ssl_stream<beast::tcp_stream>;

// One TLS connection's state shared by its request/answer rounds.
struct Connection {
  Stream& stream;
  Shared& sh;
  std::string peer;  // "address:port" for the log
  std::chrono::seconds timeout;
  std::optional<std::string> cert_sha256;  // of the verified client certificate
  beast::flat_buffer buffer;               // read, not yet used: the rest of a request, or the next
  bool first_request = true;               // its header is still under the handshake's deadline
};

// One round on a connection: the answer to write, or none when the connection just ends.
struct Exchange {
  bool answered = false;
  bool keep_alive = true;
  ApiResponse resp;
  std::string method = "-", path = "-";  // for the access log
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();

  // Answers and closes the connection after the answer (the rest of the request is not read).
  void refuse(ApiResponse r) {
    resp = std::move(r);
    answered = true;
    keep_alive = false;
  }
};

std::string_view unused_bytes(const beast::flat_buffer& b) {
  return {static_cast<const char*>(b.data().data()), b.size()};
}

// Feeds the framer what the connection holds, reading more while the framer stays at stage;
// false when the peer closed, the read failed or the deadline passed first.
net::awaitable<bool> pump(Connection& c, RequestFramer& framer, RequestFramer::Stage stage) {
  for (;;) {
    c.buffer.consume(framer.feed(unused_bytes(c.buffer)));
    if (framer.stage() != stage) co_return true;
    auto [ec, n] = co_await c.stream.async_read_some(c.buffer.prepare(kReadSize), use_tuple);
    if (ec) {
      fail(ec, "read", c.peer);
      co_return false;
    }
    c.buffer.commit(n);
  }
}

// Runs f (the API: it blocks on SQLite, inflating, signing) on the work pool; the coroutine
// resumes on its connection's strand with the result.
template <class F>
net::awaitable<std::invoke_result_t<F&>> on_work_pool(Connection& c, F f) {
  using R = std::invoke_result_t<F&>;
  co_return co_await net::co_spawn(
      c.sh.work, [&]() -> net::awaitable<R> { co_return f(); }, net::use_awaitable);
}

ApiRequest api_request(const RequestHead& head, std::string body, const std::optional<std::string>& cert_sha256) {
  ApiRequest ar;
  ar.method = head.method;
  ar.target = head.target;
  ar.authorization = head.authorization;
  ar.content_encoding = head.content_encoding;
  ar.body = std::move(body);
  ar.peer_cert_sha256 = cert_sha256;
  return ar;
}

// Before a large body is read: the credentials of its header, and "100 Continue" when asked.
// False when the exchange is decided (refused, or the connection failed).
net::awaitable<bool> admit_body(Connection& c, const RequestFramer& framer, Exchange& x) {
  const RequestHead& head = framer.head();
  if (framer.body_over(kPreauthorizeOver)) {
    auto refusal = co_await on_work_pool(
        c, [&] { return c.sh.api.preauthorize(head.method, head.target, head.authorization, c.cert_sha256); });
    if (refusal) {
      x.refuse(std::move(*refusal));
      co_return false;
    }
  }
  if (head.expect_continue) {
    http::response<http::empty_body> cont{http::status::continue_, 11};
    beast::get_lowest_layer(c.stream).expires_after(c.timeout);
    auto [cec, cn] = co_await http::async_write(c.stream, cont, use_tuple);
    if (cec) {
      fail(cec, "write", c.peer);
      co_return false;
    }
  }
  co_return true;
}

// Reads one request (header, credentials before a large body, "100 Continue" when asked, body)
// and lets the API answer it.
net::awaitable<Exchange> read_exchange(Connection& c) {
  RequestFramer framer(c.sh.config.limits.max_request_bytes);
  // The first request's header must arrive within the handshake's deadline (set at accept).
  if (!c.first_request) beast::get_lowest_layer(c.stream).expires_after(c.timeout);
  if (!co_await pump(c, framer, RequestFramer::Stage::header)) co_return Exchange{};
  c.first_request = false;
  Exchange x;
  const RequestHead& head = framer.head();
  if (!head.method.empty()) x.method = head.method;
  if (!head.target.empty()) x.path = head.target.substr(0, head.target.find('?'));
  if (framer.stage() == RequestFramer::Stage::body) {
    if (!co_await admit_body(c, framer, x)) co_return x;
    beast::get_lowest_layer(c.stream).expires_after(c.timeout);
    if (!co_await pump(c, framer, RequestFramer::Stage::body)) co_return x;
  }
  if (framer.stage() == RequestFramer::Stage::refused) {
    const FramingRefusal& r = framer.refusal();
    x.refuse(plain_error(r.status, r.code, r.message));
    co_return x;
  }
  x.keep_alive = head.keep_alive;
  const ApiRequest request = api_request(head, framer.take_body(), c.cert_sha256);
  // The dashboard's files are in memory and /health needs no store: both are answered here,
  // never queued behind store work on the pool.
  if (c.sh.ui != nullptr && UiFiles::serves(request.target)) x.resp = c.sh.ui->answer(request.method, request.target);
  else if (Api::store_free(request.method, request.target)) x.resp = c.sh.api.handle(request);
  else x.resp = co_await on_work_pool(c, [&] { return c.sh.api.handle(request); });
  x.answered = true;
  co_return x;
}

// Writes the answer and its access-log line; false when the write failed.
net::awaitable<bool> write_exchange(Connection& c, Exchange& x) {
  http::response<http::string_body> res{static_cast<http::status>(x.resp.status), 11};
  res.set(http::field::server, "keyward-collector");
  res.set(http::field::content_type, x.resp.content_type);
  // docs/dashboard.md, "Headers": on every answer; a dashboard answer replaces some with its own.
  for (const auto& [k, v] : kApiSecurityHeaders) res.set(k, v);
  for (const auto& [k, v] : x.resp.headers) res.set(k, v);
  res.body() = std::move(x.resp.body);
  res.keep_alive(x.keep_alive);
  res.prepare_payload();
  // A HEAD answer has the GET answer's header, Content-Length included, and no body (RFC 9110
  // section 9.3.2): a body would be read as the start of the next answer on the connection.
  if (x.method == "HEAD") res.body().clear();
  beast::get_lowest_layer(c.stream).expires_after(c.timeout);
  auto [wec, wn] = co_await http::async_write(c.stream, res, use_tuple);
  c.sh.metrics.count_status(x.resp.status);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - x.t0);
  // One line per request: never the query, a header value or a body (tokens live there).
  std::fprintf(stderr, "%s %s %s %s %u %s %lldms\n", now_utc().c_str(), c.peer.c_str(), x.method.c_str(),
               x.path.substr(0, 200).c_str(), x.resp.status, x.resp.who.c_str(), static_cast<long long>(ms.count()));
  if (wec) fail(wec, "write", c.peer);
  co_return !wec;
}

net::awaitable<void> session(tcp::socket socket, ssl::context& ctx, Shared& sh, std::string client) {
  ConnectionSlot slot(sh, std::move(client));
  beast::error_code ignored;
  const auto remote = socket.remote_endpoint(ignored);
  Stream stream(std::move(socket), ctx);
  Connection c{stream,
               sh,
               remote.address().to_string() + ":" + std::to_string(remote.port()),
               std::chrono::seconds(sh.config.limits.request_timeout_seconds),
               std::nullopt,
               {},
               true};

  // One deadline for the handshake and the first request's header: a connection that does not
  // get that far soon gives its slot back.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(sh.config.limits.handshake_timeout_seconds));
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  if (hec) {
    ++sh.metrics.tls_handshake_failures;
    if (hec != net::error::eof && hec != beast::error::timeout)
      std::fprintf(stderr, "%s keyward-collector: %s TLS handshake failed: %s\n", now_utc().c_str(), c.peer.c_str(),
                   hec.message().c_str());
    co_return;
  }
  c.cert_sha256 = peer_cert_sha256(stream.native_handle());

  for (bool keep_alive = true; keep_alive;) {
    Exchange x = co_await read_exchange(c);
    if (!x.answered) break;
    keep_alive = x.keep_alive;
    if (!co_await write_exchange(c, x)) break;
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  auto [sec] = co_await stream.async_shutdown(use_tuple);
  (void)sec;  // a peer that leaves without close_notify is normal
}

// Takes a connection slot for the peer (total and per address); false (counted) when a limit
// is reached.
bool admit_connection(Shared& sh, const std::string& client) {
  switch (sh.connections.acquire(client)) {
    case ConnectionLimiter::Verdict::admitted:
      ++sh.metrics.connections_open;
      return true;
    case ConnectionLimiter::Verdict::over_total:
      ++sh.metrics.connections_refused;
      return false;
    case ConnectionLimiter::Verdict::over_client:
      ++sh.metrics.connections_refused_per_client;
      return false;
  }
  return false;
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, ssl::context& ctx, Shared& sh) {
  auto& ioc = static_cast<net::io_context&>(acceptor.get_executor().context());
  for (;;) {
    // Each connection gets its own strand: the stream, its timer and the coroutine never run
    // concurrently on the two io threads.
    auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(ioc), use_tuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      fail(ec, "accept", "-");
      // Out of descriptors: wait a little instead of spinning.
      net::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(use_tuple);
      continue;
    }
    beast::error_code ignored;
    std::string client = socket.remote_endpoint(ignored).address().to_string();
    if (ignored || !admit_connection(sh, client)) {
      socket.close(ignored);
      continue;
    }
    auto ex = socket.get_executor();
    net::co_spawn(ex, session(std::move(socket), ctx, sh, std::move(client)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "%s keyward-collector: session ended by an error: %s\n", now_utc().c_str(), x.what());
      }
    });
  }
}

// TLS 1.2 suites: forward secret (ECDHE) and AEAD only (AES-GCM, ChaCha20-Poly1305), no CBC
// (RFC 9325 section 4.2). TLS 1.3 suites are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

// TLS 1.2+ with the server's certificate and key; asks for (does not require) a client
// certificate from the collector's CA.
void configure_tls(ssl::context& ctx, const Config& config) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(ctx.native_handle(), kTls12Ciphers) != 1)
    throw std::runtime_error("cannot set the TLS 1.2 cipher suites");
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  try {
    ctx.use_certificate_chain_file(config.tls.server_cert);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(config.tls.server_cert + ": cannot load the server certificate: " + e.code().message());
  }
  try {
    ctx.use_private_key_file(config.tls.server_key, ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(config.tls.server_key + ": cannot load the server key: " + e.code().message());
  }
  try {
    ctx.load_verify_file(config.tls.ca_cert);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(config.tls.ca_cert + ": cannot load the CA certificate: " + e.code().message());
  }
  // Ask for a client certificate from our CA, but do not require one: people use bearer
  // tokens; a certificate from another CA fails the handshake.
  ctx.set_verify_mode(ssl::verify_peer);
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.tls.ca_cert.c_str()))
    SSL_CTX_set_client_CA_list(ctx.native_handle(), names);
  // Required for session resumption when client certificates are verified (SSL_CTX_set_session_id_context(3)).
  static const unsigned char kSidContext[] = "keyward-collector";
  SSL_CTX_set_session_id_context(ctx.native_handle(), kSidContext, sizeof kSidContext - 1);
}

// Binds and listens on the configured host:port (a name is resolved); throws naming the step.
void listen_on(tcp::acceptor& acceptor, net::io_context& ioc, const Config& config) {
  tcp::endpoint endpoint;
  beast::error_code ec;
  const auto address = net::ip::make_address(config.listen_host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, config.listen_port);
  } else {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(config.listen_host, std::to_string(config.listen_port), ec);
    if (ec || results.empty())
      throw std::runtime_error(config.path + ": listen: cannot resolve \"" + config.listen_host + "\"");
    endpoint = results.begin()->endpoint();
  }
  auto check = [&](const char* what) {
    if (ec)
      throw std::runtime_error("cannot listen on " + config.listen_host + ":" + std::to_string(config.listen_port) +
                               " (" + what + "): " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  check("open");
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  check("reuse_address");
  acceptor.bind(endpoint, ec);
  check("bind");
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  check("listen");
}

}  // namespace

struct Server::Impl {
  const Config& config;
  Metrics metrics;
  Api api;
  // Store work blocks on fsync and the write lock as often as on the CPU: more threads than the
  // two cores, so that reads (on their own connections) run beside an ingest.
  net::thread_pool work{4};
  ConnectionLimiter connections;
  std::optional<UiFiles> ui;
  Shared shared{api, metrics, config, work, connections, ui ? &*ui : nullptr};
  ssl::context ctx{ssl::context::tls_server};
  net::io_context ioc{2};
  tcp::acceptor acceptor{ioc};
  std::optional<net::signal_set> signals;

  Impl(const Config& c, Store& store, const CertificateAuthority& ca)
      : config(c),
        api(store, ca, c, metrics),
        connections(c.limits.max_connections, c.limits.max_connections_per_client),
        ui(load_dashboard(c.ui)) {}

  void stop() {
    net::post(ioc, [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
      if (signals) signals->cancel(ignored);
      ioc.stop();
    });
  }
};

Server::Server(const Config& config, Store& store, const CertificateAuthority& ca)
    : impl_(std::make_unique<Impl>(config, store, ca)) {
  configure_tls(impl_->ctx, config);
  listen_on(impl_->acceptor, impl_->ioc, config);
}

Server::~Server() {
  stop();
  impl_->work.join();
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::stop_on_signals() {
  impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const beast::error_code& sec, int sig) {
    if (sec) return;
    std::fprintf(stderr, "%s keyward-collector: signal %d, stopping\n", now_utc().c_str(), sig);
    impl_->stop();
  });
}

void Server::run() {
  Impl& s = *impl_;
  const auto bound = s.acceptor.local_endpoint();
  net::co_spawn(s.ioc, accept_loop(s.acceptor, s.ctx, s.shared), net::detached);
  std::fprintf(stderr, "%s keyward-collector: listening on https://%s:%u\n", now_utc().c_str(),
               bound.address().to_string().c_str(), static_cast<unsigned>(bound.port()));
  std::thread second([&s] { s.ioc.run(); });
  s.ioc.run();
  second.join();
  // Let a request the API is still answering finish (its store transaction commits) before the
  // sessions waiting for it are destroyed with the io_context.
  s.work.join();
}

void Server::stop() { impl_->stop(); }

void run_server(const Config& config, Store& store, const CertificateAuthority& ca) {
  Server server(config, store, ca);
  server.stop_on_signals();
  server.run();
}

}  // namespace keyward::collector
