// SPDX-License-Identifier: Apache-2.0
// The agent's only Beast translation unit (see tls_client.hpp).
#include "tls_client.hpp"

#include "url.hpp"

#include <keyward/common/openssl_errors.hpp>

#include <keyward/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <charconv>
#include <exception>

namespace keyward::agent {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

using common::drain_openssl_errors;

std::string host_port(const Url& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  return (v6 ? "[" + u.host + "]" : u.host) + ":" + u.port;
}

struct Outcome {
  std::optional<HttpResponse> response;
  std::optional<HttpError> error;
  void fail(std::string stage, std::string message, bool maybe_auth = false) {
    if (!error) error = HttpError{std::move(stage), std::move(message), maybe_auth};
  }
};

std::optional<std::chrono::seconds> parse_retry_after(std::string_view v) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 0) return std::nullopt;  // HTTP-date: ignored
  return std::chrono::seconds(n);
}

// The awaitable form of every step: its error code is returned, never thrown.
constexpr auto kTok = net::as_tuple(net::use_awaitable);

// Stage "resolve": the hop's addresses. The resolver has no deadline of its own: a timer cancels it.
net::awaitable<std::optional<tcp::resolver::results_type>> resolve_hop(const Url& hop, const TlsClientOptions& opts,
                                                                       Outcome& out) {
  auto ex = co_await net::this_coro::executor;
  tcp::resolver resolver(ex);
  net::steady_timer timer(ex);
  timer.expires_after(opts.timeout);
  timer.async_wait([&resolver](boost::system::error_code e) {
    if (!e) resolver.cancel();
  });
  auto [rec, endpoints] = co_await resolver.async_resolve(hop.host, hop.port, kTok);
  timer.cancel();
  if (rec) {
    out.fail("resolve", fmt::format("cannot resolve {}: {}", hop.host, rec.message()));
    co_return std::nullopt;
  }
  co_return endpoints;
}

// Stage "connect": a TCP connection to the first address that answers, within the deadline.
net::awaitable<bool> connect_hop(beast::tcp_stream& tcp_layer, const tcp::resolver::results_type& endpoints,
                                 const Url& hop, bool via_proxy, const TlsClientOptions& opts, Outcome& out) {
  tcp_layer.expires_after(opts.timeout);
  auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, kTok);
  if (cec) {
    out.fail("connect", fmt::format("cannot connect to {}{}: {}", host_port(hop), via_proxy ? " (proxy)" : "",
                                    cec == beast::error::timeout ? "timed out" : cec.message()));
    co_return false;
  }
  co_return true;
}

// Stage "proxy": RFC 9110 9.3.6, CONNECT host:port, then TLS through the tunnel.
net::awaitable<bool> open_tunnel(beast::tcp_stream& tcp_layer, const Url& target, const Url& proxy,
                                 const TlsClientOptions& opts, Outcome& out) {
  http::request<http::empty_body> creq{http::verb::connect, host_port(target), 11};
  creq.set(http::field::host, host_port(target));
  creq.set(http::field::user_agent, "keyward-agent/" KEYWARD_VERSION);
  tcp_layer.expires_after(opts.timeout);
  auto [wec, wn] = co_await http::async_write(tcp_layer, creq, kTok);
  if (wec) {
    out.fail("proxy", fmt::format("cannot send CONNECT to proxy {}: {}", host_port(proxy), wec.message()));
    co_return false;
  }
  beast::flat_buffer pbuf;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a CONNECT answer has no body
  tcp_layer.expires_after(opts.timeout);
  auto [pec, pn] = co_await http::async_read_header(tcp_layer, pbuf, parser, kTok);
  if (pec) {
    out.fail("proxy", fmt::format("no answer from proxy {}: {}", host_port(proxy), pec.message()));
    co_return false;
  }
  if (parser.get().result_int() != 200) {
    out.fail("proxy", fmt::format("proxy {} refused CONNECT to {}: HTTP {}", host_port(proxy), host_port(target),
                                  parser.get().result_int()));
    co_return false;
  }
  co_return true;
}

// Stage "setup": the collector's name to verify, DNS name (with SNI) or IP SAN.
bool set_peer_name(SSL* ssl_handle, const Url& target, Outcome& out) {
  ERR_clear_error();
  if (is_ip_literal(target.host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), target.host.c_str()) != 1) {
      out.fail("setup", "cannot set the IP address to verify: " + drain_openssl_errors());
      return false;
    }
  } else if (SSL_set_tlsext_host_name(ssl_handle, target.host.c_str()) != 1 ||
             SSL_set1_host(ssl_handle, target.host.c_str()) != 1) {
    out.fail("setup", "cannot set the host name to verify: " + drain_openssl_errors());
    return false;
  }
  return true;
}

// Stage "handshake": TLS with the collector; a refused certificate may show here (maybe_auth).
net::awaitable<bool> tls_handshake(beast::ssl_stream<beast::tcp_stream>& stream, const Url& target,
                                   const TlsClientOptions& opts, Outcome& out) {
  beast::get_lowest_layer(stream).expires_after(opts.timeout);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kTok);
  if (hec) {
    const long vr = SSL_get_verify_result(stream.native_handle());
    std::string why = hec == beast::error::timeout ? "timed out" : hec.message();
    if (vr != X509_V_OK) why += fmt::format(" (collector certificate: {})", X509_verify_cert_error_string(vr));
    ERR_clear_error();
    out.fail("handshake", fmt::format("TLS handshake with {} failed: {}", host_port(target), why), true);
    co_return false;
  }
  co_return true;
}

// The HTTP/1.1 request for req (the bearer token goes in its header only, never in a message).
http::request<http::string_body> http_request_for(const HttpRequest& req, const Url& target) {
  const http::verb verb = req.method == "GET" ? http::verb::get : http::verb::post;
  http::request<http::string_body> hreq{verb, target.path.empty() ? "/" : target.path, 11};
  hreq.set(http::field::host, host_port(target));
  hreq.set(http::field::user_agent, "keyward-agent/" KEYWARD_VERSION);
  hreq.set(http::field::accept, "application/json");
  hreq.set(http::field::connection, "close");
  if (!req.bearer.empty()) hreq.set(http::field::authorization, "Bearer " + req.bearer);
  if (verb == http::verb::post) {
    hreq.set(http::field::content_type, req.content_type);
    if (req.gzip_encoded) hreq.set(http::field::content_encoding, "gzip");
    hreq.body() = req.body;
    hreq.prepare_payload();
  }
  return hreq;
}

// Stage "write": the request, within the deadline.
net::awaitable<bool> send_request(beast::ssl_stream<beast::tcp_stream>& stream, http::request<http::string_body>& hreq,
                                  const Url& target, const TlsClientOptions& opts, Outcome& out) {
  beast::get_lowest_layer(stream).expires_after(opts.timeout);
  auto [wec, wn] = co_await http::async_write(stream, hreq, kTok);
  if (wec) {
    out.fail("write",
             fmt::format("sending to {} failed: {}; the collector may have refused this agent's certificate",
                         host_port(target), wec == beast::error::timeout ? "timed out" : wec.message()),
             true);
    co_return false;
  }
  co_return true;
}

// Stage "read": the answer (body at most max_response_bytes), within the deadline, into out.
net::awaitable<bool> read_response(beast::ssl_stream<beast::tcp_stream>& stream, const Url& target,
                                   const TlsClientOptions& opts, Outcome& out) {
  beast::flat_buffer buf;
  http::response_parser<http::string_body> rp;
  rp.body_limit(opts.max_response_bytes);
  beast::get_lowest_layer(stream).expires_after(opts.timeout);
  auto [rdec, rn] = co_await http::async_read(stream, buf, rp, kTok);
  if (rdec) {
    out.fail("read",
             fmt::format("no answer from {}: {}; right after the handshake this usually means the collector "
                         "refused this agent's certificate",
                         host_port(target), rdec == beast::error::timeout ? "timed out" : rdec.message()),
             true);
    co_return false;
  }
  HttpResponse res;
  res.status = static_cast<int>(rp.get().result_int());
  res.body = std::move(rp.get().body());
  if (auto it = rp.get().find(http::field::retry_after); it != rp.get().end())
    res.retry_after = parse_retry_after(std::string_view(it->value().data(), it->value().size()));
  out.response = std::move(res);
  co_return true;
}

// One request, stage by stage; the first stage that fails is recorded in out and ends it.
net::awaitable<void> exchange(ssl::context& ctx, const Url& target, const std::optional<Url>& proxy,
                              const TlsClientOptions& opts, const HttpRequest& req, Outcome& out) {
  auto ex = co_await net::this_coro::executor;
  beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
  beast::tcp_stream& tcp_layer = beast::get_lowest_layer(stream);
  const Url& hop = proxy ? *proxy : target;

  const auto endpoints = co_await resolve_hop(hop, opts, out);
  if (!endpoints) co_return;
  if (!co_await connect_hop(tcp_layer, *endpoints, hop, proxy.has_value(), opts, out)) co_return;
  if (proxy && !co_await open_tunnel(tcp_layer, target, *proxy, opts, out)) co_return;
  if (!set_peer_name(stream.native_handle(), target, out)) co_return;
  if (!co_await tls_handshake(stream, target, opts, out)) co_return;
  auto hreq = http_request_for(req, target);
  if (!co_await send_request(stream, hreq, target, opts, out)) co_return;
  if (!co_await read_response(stream, target, opts, out)) co_return;

  // A polite close; its failure changes nothing (the answer is in).
  tcp_layer.expires_after(std::chrono::seconds(5));
  auto [sec] = co_await stream.async_shutdown(kTok);
  (void)sec;
}

}  // namespace

boost::system::result<HttpResponse, HttpError> https_request(const TlsClientOptions& opts, const HttpRequest& req) {
  const auto target = parse_url(req.url);
  if (!target || target->scheme != "https")
    return HttpError{"url", "the collector URL must be https://host[:port] (got \"" + req.url + "\")"};
  std::optional<Url> proxy;
  if (!opts.proxy.empty()) {
    proxy = parse_url(opts.proxy);
    if (!proxy || proxy->scheme != "http")
      return HttpError{"url", "the proxy must be http://host:port (got \"" + opts.proxy + "\")"};
  }

  ssl::context ctx(ssl::context::tls_client);
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer);
  // Never let OpenSSL prompt on a terminal for a key passphrase.
  ctx.set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
  boost::system::error_code ec;
  ctx.load_verify_file(opts.ca_file, ec);
  if (ec) {
    ERR_clear_error();
    return HttpError{"setup", "cannot load the collector's CA from " + opts.ca_file + ": " + ec.message()};
  }
  if (!opts.cert_file.empty()) {
    ctx.use_certificate_chain_file(opts.cert_file, ec);
    if (ec) {
      ERR_clear_error();
      return HttpError{"setup", "cannot load the agent certificate " + opts.cert_file + ": " + ec.message()};
    }
    ctx.use_private_key_file(opts.key_file, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      ERR_clear_error();
      return HttpError{"setup", "cannot use the agent key " + opts.key_file +
                                    " (unreadable, encrypted or not the certificate's key)"};
    }
  }

  net::io_context ioc;
  Outcome out;
  net::co_spawn(ioc, exchange(ctx, *target, proxy, opts, req, out), [&out](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        out.fail("internal", std::string("request failed: ") + x.what());
      }
    }
  });
  ioc.run();
  if (out.response) return std::move(*out.response);
  if (out.error) return std::move(*out.error);
  return HttpError{"internal", "no answer and no error"};
}

}  // namespace keyward::agent
