// One translation unit holds all of Beast (listener and session coroutines): each TU with
// Beast and asio/ssl costs 30-40 s to compile on the build hosts.
#include "server/server.hpp"

#include "server/api.hpp"
#include "server/metrics.hpp"

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
};

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

struct ConnectionSlot {
  Metrics& m;
  explicit ConnectionSlot(Metrics& metrics) : m(metrics) {}
  ~ConnectionSlot() { --m.connections_open; }
};

ApiResponse plain_error(unsigned status, const char* code, const char* message) {
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
  beast::flat_buffer buffer;
};

// One round on a connection: the answer to write, or none when the connection just ends.
struct Exchange {
  bool answered = false;
  bool keep_alive = true;
  ApiResponse resp;
  std::string method = "-", path = "-";  // for the access log
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
};

// The answer to a failed read of a request's header: 413 or 400 (the connection closes after
// it); nullopt when the peer closed, reset or timed out.
std::optional<ApiResponse> header_error_answer(const beast::error_code& ec, const std::string& peer) {
  if (ec == http::error::body_limit)
    return plain_error(413, "too_large", "the body is larger than limits.max_request_bytes");
  const bool malformed = ec.category() == http::make_error_code(http::error::bad_method).category() &&
                         ec != http::error::end_of_stream && ec != http::error::partial_message;
  if (!malformed) {
    fail(ec, "read", peer);
    return std::nullopt;
  }
  return plain_error(400, "bad_request", "the request is not valid HTTP/1.1");
}

ApiRequest api_request(http::request<http::string_body>& req, const std::optional<std::string>& cert_sha256) {
  ApiRequest ar;
  ar.method = std::string(req.method_string());
  ar.target = std::string(req.target());
  ar.authorization = std::string(req[http::field::authorization]);
  ar.content_encoding = std::string(req[http::field::content_encoding]);
  ar.body = std::move(req.body());
  ar.peer_cert_sha256 = cert_sha256;
  return ar;
}

// Reads one request (header, "100 Continue" when asked, body) and lets the API answer it.
net::awaitable<Exchange> read_exchange(Connection& c) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(c.sh.config.limits.max_request_bytes);
  beast::get_lowest_layer(c.stream).expires_after(c.timeout);
  auto [rec, rn] = co_await http::async_read_header(c.stream, c.buffer, parser, use_tuple);
  Exchange x;
  if (rec) {
    if (auto answer = header_error_answer(rec, c.peer)) {
      x.resp = std::move(*answer);
      x.answered = true;
      x.keep_alive = false;
    }
    co_return x;
  }
  x.method = std::string(parser.get().method_string());
  const auto target = parser.get().target();
  x.path = std::string(target.substr(0, target.find('?')));
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
    beast::get_lowest_layer(c.stream).expires_after(c.timeout);
    auto [cec, cn] = co_await http::async_write(c.stream, cont, use_tuple);
    if (cec) {
      fail(cec, "write", c.peer);
      co_return x;
    }
  }
  beast::get_lowest_layer(c.stream).expires_after(c.timeout);
  auto [bec, bn] = co_await http::async_read(c.stream, c.buffer, parser, use_tuple);
  if (bec == http::error::body_limit) {
    x.resp = plain_error(413, "too_large", "the body is larger than limits.max_request_bytes");
    x.keep_alive = false;
  } else if (bec) {
    fail(bec, "read", c.peer);
    co_return x;
  } else {
    x.keep_alive = parser.get().keep_alive();
    const ApiRequest request = api_request(parser.get(), c.cert_sha256);
    // The API blocks (SQLite, inflating, signing): it runs on the work pool, and this coroutine
    // resumes on its connection's strand with the answer.
    x.resp = co_await net::co_spawn(
        c.sh.work, [&]() -> net::awaitable<ApiResponse> { co_return c.sh.api.handle(request); }, net::use_awaitable);
  }
  x.answered = true;
  co_return x;
}

// Writes the answer and its access-log line; false when the write failed.
net::awaitable<bool> write_exchange(Connection& c, Exchange& x) {
  http::response<http::string_body> res{static_cast<http::status>(x.resp.status), 11};
  res.set(http::field::server, "keyward-collector");
  res.set(http::field::content_type, x.resp.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [k, v] : x.resp.headers) res.set(k, v);
  res.body() = std::move(x.resp.body);
  res.keep_alive(x.keep_alive);
  res.prepare_payload();
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

net::awaitable<void> session(tcp::socket socket, ssl::context& ctx, Shared& sh) {
  ConnectionSlot slot(sh.metrics);
  beast::error_code ignored;
  const auto remote = socket.remote_endpoint(ignored);
  Stream stream(std::move(socket), ctx);
  Connection c{stream,
               sh,
               remote.address().to_string() + ":" + std::to_string(remote.port()),
               std::chrono::seconds(sh.config.limits.request_timeout_seconds),
               std::nullopt,
               {}};

  beast::get_lowest_layer(stream).expires_after(c.timeout);
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
    if (sh.metrics.connections_open.load() >= sh.config.limits.max_connections) {
      ++sh.metrics.connections_refused;
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++sh.metrics.connections_open;
    auto ex = socket.get_executor();
    net::co_spawn(ex, session(std::move(socket), ctx, sh), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "%s keyward-collector: session ended by an error: %s\n", now_utc().c_str(), x.what());
      }
    });
  }
}

// TLS 1.2+ with the server's certificate and key; asks for (does not require) a client
// certificate from the collector's CA.
void configure_tls(ssl::context& ctx, const Config& config) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
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

void run_server(const Config& config, Store& store, const CertificateAuthority& ca) {
  Metrics metrics;
  Api api(store, ca, config, metrics);
  net::thread_pool work(2);
  Shared shared{api, metrics, config, work};

  ssl::context ctx(ssl::context::tls_server);
  configure_tls(ctx, config);

  net::io_context ioc(2);
  tcp::acceptor acceptor(ioc);
  listen_on(acceptor, ioc, config);
  const auto bound = acceptor.local_endpoint();

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code& sec, int sig) {
    if (sec) return;
    std::fprintf(stderr, "%s keyward-collector: signal %d, stopping\n", now_utc().c_str(), sig);
    beast::error_code ignored;
    acceptor.close(ignored);
    ioc.stop();
  });
  net::co_spawn(ioc, accept_loop(acceptor, ctx, shared), net::detached);
  std::fprintf(stderr, "%s keyward-collector: listening on https://%s:%u\n", now_utc().c_str(),
               bound.address().to_string().c_str(), static_cast<unsigned>(bound.port()));

  std::thread second([&ioc] { ioc.run(); });
  ioc.run();
  second.join();
  // Let a request the API is still answering finish (its store transaction commits) before the
  // sessions waiting for it are destroyed with the io_context.
  work.join();
}

}  // namespace keyward::collector
