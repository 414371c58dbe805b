// SPDX-License-Identifier: Apache-2.0
// One SSH connection made the way docs/remote.md promises: libssh with ~/.ssh/config ignored,
// the host key checked against known_hosts by us (unknown: refused unless accept-new; changed:
// always refused), login with the given identity, else ssh-agent, else the default keys, and a
// deadline on connect and on every later operation. Used by: sftp_fs.cpp, exec_scan.cpp,
// remote_scan.cpp. Never logs or returns a key, a passphrase or anything the host sent but
// libssh's one-line error text.
#pragma once

#include <keyward/ssh/remote_scan.hpp>
#include <keyward/ssh/target.hpp>

#include <libssh/libssh.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace keyward::ssh::detail {

// Owning handles (ssh_free disconnects; a channel is closed before it is freed).
struct SessionFree {
  void operator()(ssh_session s) const noexcept;
};
struct ChannelFree {
  void operator()(ssh_channel c) const noexcept;
};
using SessionPtr = std::unique_ptr<std::remove_pointer_t<ssh_session>, SessionFree>;
using ChannelPtr = std::unique_ptr<std::remove_pointer_t<ssh_channel>, ChannelFree>;

// Where a connection attempt stopped and why.
struct ConnectFailure {
  HostStatus status = HostStatus::error;
  std::string message;  // one line: what failed and what to do
};

// A connected, host-verified, logged-in session, or why not.
struct Connected {
  SessionPtr session;
  ConnectFailure failure;  // meaningful when !session
};

// Connects to `target` (through options.proxy_jump when set), verifies and logs in. After login
// the session's timeout is options.io_timeout.
Connected connect(const Target& target, const ConnectOptions& options);

// What a command run with exec() gave.
struct ExecResult {
  bool ran = false;         // the channel opened and the command was started
  bool lost = false;        // the connection broke or an operation timed out
  int exit_status = -1;     // -1 when unknown (lost, or killed by a signal)
  std::string stderr_text;  // at most 64 KiB, for messages
};

// Runs `command` on the host: writes `input` (the parts in order) to its stdin, sends EOF unless
// keep_stdin_open (the command then sees EOF only when the connection ends), hands its stdout to
// `on_stdout` chunk by chunk as it arrives (false stops reading and closes the channel), and
// keeps a bounded copy of stderr. Setting `cancel` (optional) closes the channel within half a
// second. Each write is bounded by the session's timeout.
ExecResult exec(ssh_session session, const std::string& command, std::span<const std::string_view> input,
                bool keep_stdin_open, const std::function<bool(std::string_view)>& on_stdout,
                const std::atomic<bool>* cancel);

// Quotes a string for a POSIX shell ('...' with ' as '\'').
std::string shell_quote(std::string_view s);

}  // namespace keyward::ssh::detail
