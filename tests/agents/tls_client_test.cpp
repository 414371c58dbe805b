// SPDX-License-Identifier: Apache-2.0
#include "tls_client.hpp"

#include "tls_fixture.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <poll.h>

#include <cstring>

#include <atomic>
#include <thread>

using keyward::agent::HttpRequest;
using keyward::agent::https_request;
using keyward::agent::TlsClientOptions;
using keyward::test::SServer;
using keyward::test::TestPki;

namespace {

TlsClientOptions mutual(const TestPki& pki) {
  TlsClientOptions o;
  o.ca_file = pki.path("ca.pem");
  o.cert_file = pki.path("client.pem");
  o.key_file = pki.path("client.key");
  o.timeout = std::chrono::seconds(10);
  return o;
}

HttpRequest get(int port, const char* host = "127.0.0.1") {
  HttpRequest r;
  r.method = "GET";
  r.url = std::string("https://") + host + ":" + std::to_string(port) + "/";
  return r;
}

// A one-connection HTTP CONNECT proxy on loopback; records the request line it saw.
class TinyProxy {
 public:
  TinyProxy() {
    listen_ = keyward::test::listen_loopback(port_, 4);
    thread_ = std::thread([this] { serve(); });
  }
  ~TinyProxy() {
    ::shutdown(listen_, SHUT_RDWR);
    ::close(listen_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string request_line() const { return line_; }

 private:
  void serve() {
    const int c = ::accept(listen_, nullptr, nullptr);
    if (c < 0) return;
    std::string head;
    char ch;
    while (head.find("\r\n\r\n") == std::string::npos && ::read(c, &ch, 1) == 1) head += ch;
    line_ = head.substr(0, head.find("\r\n"));
    const auto sp1 = line_.find(' '), sp2 = line_.rfind(' ');
    const std::string target = line_.substr(sp1 + 1, sp2 - sp1 - 1);
    const int up = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(target.substr(target.rfind(':') + 1))));
    if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      const char* bad = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
      (void)!::write(c, bad, std::strlen(bad));
      ::close(c);
      return;
    }
    const char* ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    (void)!::write(c, ok, std::strlen(ok));
    pollfd fds[2] = {{c, POLLIN, 0}, {up, POLLIN, 0}};
    char buf[16384];
    for (;;) {
      if (::poll(fds, 2, 10000) <= 0) break;
      bool closed = false;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
          if (n <= 0 || ::write(fds[1 - i].fd, buf, static_cast<std::size_t>(n)) != n) closed = true;
        }
      }
      if (closed) break;
    }
    ::close(up);
    ::close(c);
  }
  int listen_ = -1;
  int port_ = 0;
  std::string line_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("the TLS client presents its certificate and gets an answer from a server that requires one") {
  const auto& pki = TestPki::get();
  SServer server(pki);
  auto res = https_request(mutual(pki), get(server.port()));
  REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().stage + ": " + res.error().message));
  CHECK(res->status == 200);
}

TEST_CASE("a collector certificate from another CA fails the handshake") {
  const auto& pki = TestPki::get();
  SServer server(pki);
  auto o = mutual(pki);
  o.ca_file = pki.path("other.pem");
  auto res = https_request(o, get(server.port()));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().stage == "handshake");
  CHECK(res.error().message.find("certificate") != std::string::npos);
}

TEST_CASE("a collector name that its certificate does not carry fails the handshake") {
  const auto& pki = TestPki::get();
  SServer server(pki);
  // The server certificate names IP 127.0.0.1 only; "localhost" reaches it but must not verify.
  auto res = https_request(mutual(pki), get(server.port(), "localhost"));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().stage == "handshake");
}

TEST_CASE("without a client certificate the refusal is reported as a possible authentication failure") {
  const auto& pki = TestPki::get();
  SServer server(pki);
  TlsClientOptions o;
  o.ca_file = pki.path("ca.pem");
  o.timeout = std::chrono::seconds(10);
  auto res = https_request(o, get(server.port()));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().maybe_auth);
}

TEST_CASE("the TLS client reaches the collector through an HTTP CONNECT proxy") {
  const auto& pki = TestPki::get();
  SServer server(pki);
  TinyProxy proxy;
  auto o = mutual(pki);
  o.proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto res = https_request(o, get(server.port()));
  REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().stage + ": " + res.error().message));
  CHECK(res->status == 200);
  CHECK(proxy.request_line() == "CONNECT 127.0.0.1:" + std::to_string(server.port()) + " HTTP/1.1");
}

TEST_CASE("a closed port is a connect error and bad files are setup errors naming the file") {
  const auto& pki = TestPki::get();
  const int port = keyward::test::free_port();
  auto res = https_request(mutual(pki), get(port));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().stage == "connect");

  auto o = mutual(pki);
  o.ca_file = "/nonexistent/ca.pem";
  res = https_request(o, get(port));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().stage == "setup");
  CHECK(res.error().message.find("/nonexistent/ca.pem") != std::string::npos);

  o = mutual(pki);
  o.key_file = pki.path("server.key");  // not the certificate's key
  res = https_request(o, get(port));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().stage == "setup");
}
