// SPDX-License-Identifier: Apache-2.0
// Enrollment: make the agent's key on this host (EC P-256), send a CSR with a one-time token
// over TLS verified against the admin's CA, and only once the collector answered with a
// certificate for that key write the key, the certificate, the collector's CA and the config
// together (each 0600 beside its target, all fsync'd, then put in place; the key with O_EXCL
// semantics unless --force). Until then the key lives only in memory (common::SecretBytes): a
// failed or killed enrollment leaves no new key on disk and, with --force, the old key and
// certificate as they were. Directories it makes are 0700 whatever the umask.
// Used by: main (enroll). The token is used for one Authorization header and never written to a
// file or a log; the key never leaves the host.
#pragma once

#include "config.hpp"

#include <keyward/common/secret.hpp>

#include <functional>
#include <string>
#include <vector>

namespace keyward::agent {

struct EnrollOptions {
  std::string collector;  // https://host:port
  std::string token;      // one-time enrollment token (never stored)
  std::string ca;         // the collector's CA, from the admin
  std::string state_dir;
  std::vector<std::string> roots;  // default: /
  std::string config_out;          // optional: where to write agent.yaml
  std::string proxy;               // optional http://host:port
  bool force = false;              // replace an existing enrollment (new key), once the new one succeeded
};

struct EnrollResult {
  std::string agent_id;
  std::string status;  // "pending" until an admin approves
  AgentConfig config;
};

// Runs the enrollment; throws std::runtime_error with one actionable line.
EnrollResult enroll(const EnrollOptions& options);

// The PEM of a new EC P-256 private key (PKCS#8, wiped when dropped) and its CSR
// (CN = common_name).
struct KeyAndCsr {
  common::SecretBytes key_pem;
  std::string csr_pem;
};
KeyAndCsr make_key_and_csr(const std::string& common_name);

// This host's name (gethostname).
std::string host_name();

// The CN of a PEM certificate file ("" when unreadable).
std::string certificate_common_name(const std::string& path);

}  // namespace keyward::agent
