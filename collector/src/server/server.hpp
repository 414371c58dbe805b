// SPDX-License-Identifier: Apache-2.0
// The collector's HTTPS server: TLS 1.2+ listener with optional client certificates (agents)
// and bearer tokens (people), keep-alive sessions with deadlines, API v1 and the dashboard's
// files (/ui/, docs/dashboard.md) behind it.
// Used by: `keyward-collector serve`; the HTTP/TLS tests (on a free loopback port). Beast I/O
// and OpenSSL stay inside server.cpp.
// Must never log a body, a token or a query string, nor read a large body before its
// credentials were accepted; stops cleanly on SIGINT/SIGTERM.
#pragma once

#include <keyward/collector/store.hpp>

#include "server/ca.hpp"
#include "server/config.hpp"

#include <cstdint>
#include <memory>

namespace keyward::collector {

// A bound server: `serve` runs it until a signal, the tests on a free loopback port.
class Server {
 public:
  // Loads the TLS files and binds config.listen (port 0: a free one); throws std::runtime_error
  // naming what failed.
  Server(const Config& config, Store& store, const CertificateAuthority& ca);
  // Stops it and waits for the API work in flight.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port.
  std::uint16_t port() const;
  // SIGINT and SIGTERM stop run().
  void stop_on_signals();
  // Serves on the calling thread and one more until stop(); logs the address first.
  void run();
  // Makes run() return; thread-safe, once.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Serves config.listen until SIGINT or SIGTERM (2 io threads); throws std::runtime_error when
// the TLS files cannot be loaded or the address cannot be bound.
void run_server(const Config& config, Store& store, const CertificateAuthority& ca);

}  // namespace keyward::collector
