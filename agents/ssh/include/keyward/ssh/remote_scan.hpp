// SPDX-License-Identifier: Apache-2.0
// Agentless scans over SSH (docs/remote.md): connect with libssh, check the host key, log in as
// ssh users expect, then scan by content in one of two modes:
// - sftp (default): the scanner's own walker walks the remote tree through SFTP; file contents
//   stay in memory; reads are pipelined;
// - exec: this keyward binary is copied to a private temporary directory on a compatible Linux
//   host, run there, its findings streamed back, and everything it copied removed, also after an
//   error or a cut connection.
// Either way the findings are the same as a local scan of the same files (same ids), carry the
// host, and hold facts and fingerprints only: no key bytes cross the wire back.
// Used by: the CLI (keyward scan ssh://..., keyward remote), the collector's scheduled remote
// scans. No libssh type appears here; the agent daemon never links this library.
#pragma once

#include <keyward/common/secret.hpp>
#include <keyward/scanner/finding.hpp>
#include <keyward/scanner/scan.hpp>
#include <keyward/ssh/target.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::ssh {

enum class Mode { sftp, exec };
// "sftp", "exec".
std::string_view to_string(Mode m) noexcept;
std::optional<Mode> parse_mode(std::string_view s) noexcept;

// How one host's scan ended. JSON and text use to_string's names.
enum class HostStatus {
  ok,                 // scanned whole
  unreachable,        // no TCP connection (refused, no route, name unknown) or connect timeout
  host_key_unknown,   // the host is not in known_hosts (and --accept-new-host-keys was not given)
  host_key_mismatch,  // known_hosts holds another key for the host: refused, always
  auth_refused,       // no offered key was accepted
  incompatible,       // exec mode refused: not Linux, another architecture, or the binary cannot run there
  partial,            // the scan started but did not finish (connection lost, operation timed out, cancelled)
  error,              // anything else (protocol error, SFTP unavailable, ...)
};
// "ok", "unreachable", "host_key_unknown", "host_key_mismatch", "auth_refused", "incompatible",
// "partial", "error".
std::string_view to_string(HostStatus s) noexcept;

// Who we are. Never logged; the passphrase lives in wiped memory.
struct Credentials {
  std::string identity_file;       // -i FILE; "" : ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa
  common::SecretBytes passphrase;  // for an encrypted identity file (--passphrase-source)
  bool use_agent = true;           // ask $SSH_AUTH_SOCK when no identity file is given
};

// How to reach and trust a host.
struct ConnectOptions {
  Credentials credentials;
  std::string known_hosts;            // "" : ~/.ssh/known_hosts of the user running keyward
  bool accept_new_host_keys = false;  // record an unknown host's key and go on; a changed key is always refused
  std::chrono::milliseconds connect_timeout{10000};  // TCP connect, key exchange and login
  std::chrono::milliseconds io_timeout{30000};       // every later operation
  std::string proxy_jump;                            // optional [user@]host[:port] to go through (ProxyJump)

  // A copy, passphrase included (into new wiped memory): each host's scan gets its own.
  ConnectOptions copy() const;
};

// One host's scan.
struct RemoteScanOptions {
  scanner::ScanOptions scan;  // roots, excludes, limits, passwords; progress and cancel honoured
  ConnectOptions connect;
  Mode mode = Mode::sftp;
  unsigned connections = 8;  // sftp: SSH sessions used at once (each with pipelined reads)
  // exec: the keyward binary to copy; "" : the stripped copy installed beside this binary
  // (keyward-remote), else this binary itself.
  std::string self_binary;
  std::vector<std::string> password_files;  // exec: --passwords files, copied and removed with the binary
};

// What one host gave.
struct HostResult {
  Target target;
  HostStatus status = HostStatus::error;
  std::string message;                        // one line for people; "" when ok; never a secret
  std::optional<scanner::ScanResult> result;  // when a scan ran (ok or partial)
  double seconds = 0;
};

// Connects, checks the host key, logs in and scans options.scan.roots (remote absolute paths).
// Never throws for a host problem: it is the status. Findings' location.host is target.label().
HostResult scan_host(const Target& target, const RemoteScanOptions& options);

}  // namespace keyward::ssh
