// SPDX-License-Identifier: Apache-2.0
// Where a remote scan goes: ssh://[user@]host[:port]/path as users write it (docs/remote.md).
// Used by: the CLI (keyward scan ssh://..., keyward remote), the collector's remote scans.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::ssh {

// One SSH endpoint.
struct Target {
  std::string user;  // "" : the user running keyward
  std::string host;  // a name or an address (an IPv6 address without brackets)
  std::uint16_t port = 22;

  // "user@host:port" for messages (user and port only when given / not 22).
  std::string display() const;
  // The host as findings and reports name it: "host", or "host:port" when the port is not 22.
  std::string label() const;
  bool operator==(const Target&) const = default;
};

// A parsed ssh:// URL: the endpoint and the remote path ("/" when none is given).
struct SshUrl {
  Target target;
  std::string path;
};

// True when `s` starts with "ssh://".
bool is_ssh_url(std::string_view s) noexcept;

// Parses ssh://[user@]host[:port][/path] (IPv6 as [addr]); percent-escapes in user and path are
// decoded. nullopt with `error` set to one line that says what is wrong.
std::optional<SshUrl> parse_ssh_url(std::string_view s, std::string& error);

}  // namespace keyward::ssh
