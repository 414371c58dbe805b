// The collector's HTTPS server: TLS 1.2+ listener with optional client certificates (agents)
// and bearer tokens (people), keep-alive sessions with deadlines, API v1 behind it.
// Used by: `keyward-collector serve`. Beast and OpenSSL stay inside server.cpp.
// Must never log a body, a token or a query string; stops cleanly on SIGINT/SIGTERM.
#pragma once

#include <keyward/collector/store.hpp>

#include "server/ca.hpp"
#include "server/config.hpp"

namespace keyward::collector {

// Serves config.listen until SIGINT or SIGTERM (2 io threads); throws std::runtime_error when
// the TLS files cannot be loaded or the address cannot be bound.
void run_server(const Config& config, Store& store, const CertificateAuthority& ca);

}  // namespace keyward::collector
