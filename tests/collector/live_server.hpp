// SPDX-License-Identifier: Apache-2.0
// A real collector server for HTTP/TLS tests: CA, server certificate, SQLite store and Server on a
// free 127.0.0.1 port in a temporary directory, run on its own thread; and a raw TLS client
// (OpenSSL, blocking sockets with timeouts) that sends exact bytes, so that framing, deadlines
// and connection limits are tested as a client on the network sees them.
#pragma once

#include "server/ca.hpp"
#include "server/server.hpp"

#include <keyward/collector/store.hpp>

#include <support/temp_tree.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace keyward::test {

using namespace keyward::collector;

// A collector serving on 127.0.0.1:<free port> until the object goes.
struct LiveCollector {
  TempTree dir;
  Config config;
  std::unique_ptr<Store> store;
  std::unique_ptr<CertificateAuthority> ca;
  std::unique_ptr<Server> server;
  std::thread thread;
  std::string admin, viewer;

  // tune changes the config's limits, configure the rest of it (e.g. the dashboard), before the
  // server starts.
  explicit LiveCollector(const std::function<void(Limits&)>& tune = {},
                         const std::function<void(Config&)>& configure = {}) {
    std::signal(SIGPIPE, SIG_IGN);  // a write to a connection the server closed fails, not kills
    make_ca(dir.path("ca.pem"), dir.path("ca.key"), "test");
    make_server_certificate(dir.path("ca.pem"), dir.path("ca.key"), dir.path("server.pem"), dir.path("server.key"),
                            {"127.0.0.1"});
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.data_dir = dir.path();
    config.database = dir.path("k.db");
    config.tls = TlsFiles{dir.path("ca.pem"), dir.path("ca.key"), dir.path("server.pem"), dir.path("server.key")};
    if (tune) tune(config.limits);
    if (configure) configure(config);
    store = open_sqlite_store(config.database, "", FleetOptions{});
    ca = std::make_unique<CertificateAuthority>(config.tls.ca_cert, config.tls.ca_key);
    admin = store->create_token(Role::admin, "admin", "", 0, Actor{"cli:test", std::nullopt}).value().secret;
    viewer = store->create_token(Role::viewer, "viewer", "", 0, Actor{"cli:test", std::nullopt}).value().secret;
    server = std::make_unique<Server>(config, *store, *ca);
    thread = std::thread([this] { server->run(); });
  }
  ~LiveCollector() {
    server->stop();
    thread.join();
    server.reset();
  }
  LiveCollector(const LiveCollector&) = delete;
  LiveCollector& operator=(const LiveCollector&) = delete;

  std::uint16_t port() const { return server->port(); }
};

// A TCP connection to 127.0.0.1:port from source (another loopback address is another client).
inline int tcp_connect(std::uint16_t port, const char* source = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    throw std::runtime_error("connect");
  }
  return fd;
}

// Whether the peer closed fd within timeout (reads and drops what arrives meanwhile).
inline bool closed_within(int fd, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

// One HTTP answer as read off the wire.
struct HttpAnswer {
  int status = 0;  // 0: none (closed or timed out first)
  std::string head;
  std::string body;
  // The value of a header field (name as sent), "" when absent.
  std::string field(const std::string& name) const {
    const auto at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return {};
    const auto from = at + 4 + name.size();
    return head.substr(from, head.find("\r\n", from) - from);
  }
};

// A client key and certificate pair in memory (an enrolled agent's, for client certificates).
struct ClientIdentity {
  std::string cert_pem;
  std::shared_ptr<EVP_PKEY> key;
};

// A raw TLS client over tcp_connect(): exact bytes out, answers read with a deadline.
class TlsClient {
 public:
  struct Options {
    const char* source = "127.0.0.1";
    std::string tls12_ciphers;  // non-empty: TLS 1.2 only, with these suites
    const ClientIdentity* identity = nullptr;
  };

  explicit TlsClient(std::uint16_t port) : TlsClient(port, Options{}) {}
  TlsClient(std::uint16_t port, const Options& o) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    if (!o.tls12_ciphers.empty()) {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
      SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
      if (SSL_CTX_set_cipher_list(ctx_, o.tls12_ciphers.c_str()) != 1) throw std::runtime_error("cipher list");
    }
    if (o.identity != nullptr) use_identity(*o.identity);
    fd_ = tcp_connect(port, o.source);
    set_timeout(std::chrono::milliseconds(5000));
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    ok_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // The handshake succeeded.
  bool connected() const { return ok_; }
  // The negotiated suite's name.
  std::string cipher() const { return ok_ ? SSL_get_cipher_name(ssl_) : ""; }
  int fd() const { return fd_; }

  void set_timeout(std::chrono::milliseconds t) {
    timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>((t.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  // Sends bytes; false when the connection failed first.
  bool send(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const int n =
          SSL_write(ssl_, bytes.data() + done, static_cast<int>(std::min<std::size_t>(bytes.size() - done, 1 << 20)));
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Everything that arrives until the peer closes or timeout passes without data.
  std::string read_all(std::chrono::milliseconds timeout) {
    set_timeout(timeout);
    std::string out;
    char buf[16384];
    for (int n; (n = SSL_read(ssl_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ERR_clear_error();
    return out;
  }

  // One answer (status line, fields, Content-Length body); status 0 when none came in time.
  HttpAnswer read_answer(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    set_timeout(timeout);
    HttpAnswer a;
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return a;
    a.head = pending_.substr(0, end + 2);
    pending_.erase(0, end + 4);
    std::sscanf(a.head.c_str(), "HTTP/1.1 %d", &a.status);
    const std::string length = a.field("Content-Length");
    const std::size_t n = length.empty() ? 0 : std::stoul(length);
    while (pending_.size() < n)
      if (!fill()) return HttpAnswer{};
    a.body = pending_.substr(0, n);
    pending_.erase(0, n);
    return a;
  }

  // Whether the peer ended the TLS session (close_notify or a closed connection) within timeout,
  // with nothing more sent.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    set_timeout(timeout);
    if (!pending_.empty()) return false;
    char c;
    const int n = SSL_read(ssl_, &c, 1);
    const int e = SSL_get_error(ssl_, n);
    ERR_clear_error();
    return n <= 0 && (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0));
  }

  // Sends a request and reads its answer.
  HttpAnswer request(const std::string& bytes) {
    if (!send(bytes)) return {};
    return read_answer();
  }

 private:
  bool fill() {
    char buf[16384];
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  void use_identity(const ClientIdentity& id) {
    BIO* b = BIO_new_mem_buf(id.cert_pem.data(), static_cast<int>(id.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    if (cert == nullptr || SSL_CTX_use_certificate(ctx_, cert) != 1 || SSL_CTX_use_PrivateKey(ctx_, id.key.get()) != 1)
      throw std::runtime_error("client identity");
    X509_free(cert);
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
  std::string pending_;
};

// An agent enrolled and approved in the live collector's store, with its key for TLS.
inline std::pair<ClientIdentity, std::string> enrolled_agent(LiveCollector& c, bool approve = true) {
  std::shared_ptr<EVP_PKEY> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, key.get());
  X509_REQ_sign(req, key.get(), EVP_sha256());
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(b, req);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  const std::string csr(data, static_cast<std::size_t>(n));
  BIO_free(b);
  X509_REQ_free(req);
  auto signed_agent = c.ca->sign_agent_csr(csr);
  if (!signed_agent) throw std::runtime_error("sign_agent_csr");
  const Actor cli{"cli:test", std::nullopt};
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const auto tok = c.store->create_enrollment_token(now + 600, cli);
  Enrollment e;
  e.agent_id = signed_agent->agent_id;
  e.hostname = "build-1";
  e.os = "linux";
  e.cert_sha256 = signed_agent->cert_sha256;
  e.cert_serial = signed_agent->serial_hex;
  e.spki_sha256 = signed_agent->spki_sha256;
  auto agent = c.store->enroll_agent(tok.secret, e, now);
  if (!agent) throw std::runtime_error("enroll_agent");
  if (approve && !c.store->approve_agent(agent->id, cli, now)) throw std::runtime_error("approve_agent");
  return {ClientIdentity{signed_agent->cert_pem, key}, agent->id};
}

}  // namespace keyward::test
