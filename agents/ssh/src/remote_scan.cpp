// SPDX-License-Identifier: Apache-2.0
#include <keyward/ssh/remote_scan.hpp>

#include "exec_scan.hpp"
#include "sftp_fs.hpp"

#include <keyward/scanner/remote_fs.hpp>

#include <chrono>
#include <stdexcept>

namespace keyward::ssh {

std::string_view to_string(Mode m) noexcept { return m == Mode::exec ? "exec" : "sftp"; }

std::optional<Mode> parse_mode(std::string_view s) noexcept {
  if (s == "sftp") return Mode::sftp;
  if (s == "exec") return Mode::exec;
  return std::nullopt;
}

std::string_view to_string(HostStatus s) noexcept {
  switch (s) {
    case HostStatus::ok:
      return "ok";
    case HostStatus::unreachable:
      return "unreachable";
    case HostStatus::host_key_unknown:
      return "host_key_unknown";
    case HostStatus::host_key_mismatch:
      return "host_key_mismatch";
    case HostStatus::auth_refused:
      return "auth_refused";
    case HostStatus::incompatible:
      return "incompatible";
    case HostStatus::partial:
      return "partial";
    case HostStatus::error:
      return "error";
  }
  return "error";
}

ConnectOptions ConnectOptions::copy() const {
  ConnectOptions out;
  out.credentials.identity_file = credentials.identity_file;
  out.credentials.passphrase = common::SecretBytes::copy_of(credentials.passphrase.bytes());
  out.credentials.use_agent = credentials.use_agent;
  out.known_hosts = known_hosts;
  out.accept_new_host_keys = accept_new_host_keys;
  out.connect_timeout = connect_timeout;
  out.io_timeout = io_timeout;
  out.proxy_jump = proxy_jump;
  return out;
}

namespace {

HostResult sftp_scan(const Target& target, const RemoteScanOptions& options) {
  HostResult h;
  h.target = target;
  detail::ConnectFailure failure;
  auto fs = detail::SftpFileSystem::open(target, options.connect, options.connections, failure);
  if (!fs) {
    h.status = failure.status;
    h.message = std::move(failure.message);
    return h;
  }
  scanner::ScanOptions so = options.scan;
  // Remote reads wait on the network, not on this machine's cores: one worker per session.
  if (so.threads == 0) so.threads = std::max(1u, options.connections);
  try {
    h.result = scanner::scan(so, *fs, target.label());
  } catch (const std::runtime_error& e) {
    h.status = fs->lost() ? HostStatus::partial : HostStatus::error;
    h.message = e.what();
    return h;
  }
  h.status = fs->lost() || !h.result->complete ? HostStatus::partial : HostStatus::ok;
  if (fs->lost()) h.message = "the connection to " + target.label() + " broke during the scan";
  else if (!h.result->complete) h.message = "the scan was stopped before it ended";
  return h;
}

}  // namespace

HostResult scan_host(const Target& target, const RemoteScanOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  HostResult h = options.mode == Mode::exec ? detail::exec_scan(target, options) : sftp_scan(target, options);
  h.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return h;
}

}  // namespace keyward::ssh
