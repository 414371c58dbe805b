// SPDX-License-Identifier: Apache-2.0
#include "session.hpp"

#include <keyward/common/secret.hpp>

#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace keyward::ssh::detail {
namespace {

constexpr std::size_t kMaxStderr = 64 * 1024;

// libssh's global state, set up once before the first session (its documented requirement for
// threaded use); not a cache.
void init_libssh() {
  static std::once_flag once;
  std::call_once(once, [] { ssh_init(); });
}

std::string error_of(ssh_session s) {
  const char* e = ssh_get_error(s);
  return e != nullptr && *e != '\0' ? std::string(e) : std::string("unknown error");
}

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return "/";
}

void set_timeout(ssh_session s, std::chrono::milliseconds d) {
  long sec = static_cast<long>(d.count() / 1000), usec = static_cast<long>(d.count() % 1000) * 1000;
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

// ProxyJump through the system's ssh client (libssh 0.10 has no native jump): `ssh -W`.
std::string proxy_command(const ConnectOptions& o) {
  std::string jump = o.proxy_jump, port;
  if (const auto colon = jump.rfind(':'); colon != std::string::npos && jump.find(']') == std::string::npos) {
    port = jump.substr(colon + 1);
    jump.resize(colon);
  }
  std::string cmd = "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes";
  if (!o.known_hosts.empty()) cmd += " -o UserKnownHostsFile=" + shell_quote(o.known_hosts);
  if (!o.credentials.identity_file.empty()) cmd += " -i " + shell_quote(o.credentials.identity_file);
  if (!port.empty()) cmd += " -p " + shell_quote(port);
  return cmd + " -W '[%h]:%p' -- " + shell_quote(jump);
}

ConnectFailure fail(HostStatus s, std::string m) { return {s, std::move(m)}; }

// The host key against known_hosts: ok, unknown (recorded when accept-new), changed (refused).
std::optional<ConnectFailure> verify_host_key(ssh_session s, const Target& t, const ConnectOptions& o,
                                              const std::string& known_hosts) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK) return fail(HostStatus::error, "no host key: " + error_of(s));
  unsigned char* hash = nullptr;
  std::size_t hlen = 0;
  std::string fingerprint = "(unknown)";
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
    if (char* fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen); fp != nullptr) {
      fingerprint = fp;
      ssh_string_free_char(fp);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  switch (ssh_session_is_known_server(s)) {
    case SSH_KNOWN_HOSTS_OK:
      return std::nullopt;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      return fail(HostStatus::host_key_mismatch,
                  "the host key of " + t.label() + " (" + fingerprint + ") is not the one in " + known_hosts +
                      ": refused (if the host was really re-keyed, remove its old line with "
                      "`ssh-keygen -R '" +
                      t.label() + "' -f " + known_hosts + "`)");
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      if (!o.accept_new_host_keys)
        return fail(HostStatus::host_key_unknown,
                    t.label() + " is not in " + known_hosts + " (its key is " + fingerprint +
                        "): refused; check the fingerprint and add it (ssh-keyscan), or pass --accept-new-host-keys");
      if (ssh_session_update_known_hosts(s) != SSH_OK)
        return fail(HostStatus::error, "cannot record the host key in " + known_hosts + ": " + error_of(s));
      return std::nullopt;
    case SSH_KNOWN_HOSTS_ERROR:
      break;
  }
  return fail(HostStatus::error, "cannot check the host key against " + known_hosts + ": " + error_of(s));
}

std::optional<ConnectFailure> authenticate(ssh_session s, const Target& t, const ConnectOptions& o) {
  const Credentials& c = o.credentials;
  const std::string who = (t.user.empty() ? std::string("the current user") : "user " + t.user) + " on " + t.label();
  int rc = SSH_AUTH_DENIED;
  if (!c.identity_file.empty()) {
    ssh_key key = nullptr;
    if (ssh_pki_import_privkey_file(c.identity_file.c_str(), c.passphrase.empty() ? nullptr : c.passphrase.c_str(),
                                    nullptr, nullptr, &key) != SSH_OK)
      return fail(HostStatus::auth_refused, "cannot read the identity " + c.identity_file +
                                                " (not a private key, unreadable, or it needs the right "
                                                "--passphrase-source)");
    rc = ssh_userauth_publickey(s, nullptr, key);
    ssh_key_free(key);
    if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL)
      return fail(HostStatus::auth_refused, "the key " + c.identity_file + " was refused for " + who +
                                                " (is its public key in that user's authorized_keys?)");
  } else {
    if (c.use_agent && std::getenv("SSH_AUTH_SOCK") != nullptr) rc = ssh_userauth_agent(s, nullptr);
    if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR) rc = ssh_userauth_publickey_auto(s, nullptr, nullptr);
    if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL)
      return fail(HostStatus::auth_refused, "no key was accepted for " + who +
                                                " (tried ssh-agent and ~/.ssh/id_ed25519, id_ecdsa, id_rsa; "
                                                "give one with -i)");
  }
  if (rc == SSH_AUTH_SUCCESS) return std::nullopt;
  return fail(ssh_is_connected(s) ? HostStatus::error : HostStatus::partial, "login failed: " + error_of(s));
}

}  // namespace

void SessionFree::operator()(ssh_session s) const noexcept {
  if (ssh_is_connected(s)) ssh_disconnect(s);
  ssh_free(s);
}

void ChannelFree::operator()(ssh_channel c) const noexcept {
  if (ssh_channel_is_open(c)) ssh_channel_close(c);
  ssh_channel_free(c);
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

Connected connect(const Target& t, const ConnectOptions& o) {
  init_libssh();
  Connected out;
  SessionPtr s(ssh_new());
  if (!s) {
    out.failure = fail(HostStatus::error, "out of memory");
    return out;
  }
  const int no = 0;
  const unsigned port = t.port;
  const std::string known_hosts = o.known_hosts.empty() ? home_dir() + "/.ssh/known_hosts" : o.known_hosts;
  ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no);  // ~/.ssh/config is ssh's, not ours
  ssh_options_set(s.get(), SSH_OPTIONS_HOST, t.host.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_PORT, &port);
  if (!t.user.empty()) ssh_options_set(s.get(), SSH_OPTIONS_USER, t.user.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str());
  // An explicit --known-hosts is the only trust: the system-wide file is not consulted then.
  if (!o.known_hosts.empty()) ssh_options_set(s.get(), SSH_OPTIONS_GLOBAL_KNOWNHOSTS, known_hosts.c_str());
  if (!o.proxy_jump.empty()) ssh_options_set(s.get(), SSH_OPTIONS_PROXYCOMMAND, proxy_command(o).c_str());
  set_timeout(s.get(), o.connect_timeout);
  if (ssh_connect(s.get()) != SSH_OK) {
    const std::string e = error_of(s.get());
    const bool timed_out = e.find("imeout") != std::string::npos || e.find("timed out") != std::string::npos;
    out.failure = fail(HostStatus::unreachable, "cannot connect to " + t.display() + ": " + e +
                                                    (timed_out ? " (no answer within --connect-timeout)" : ""));
    return out;
  }
  if (auto f = verify_host_key(s.get(), t, o, known_hosts)) {
    out.failure = std::move(*f);
    return out;
  }
  if (auto f = authenticate(s.get(), t, o)) {
    out.failure = std::move(*f);
    return out;
  }
  set_timeout(s.get(), o.io_timeout);
  out.session = std::move(s);
  return out;
}

namespace {

void keep_stderr(ExecResult& r, std::string_view got) {
  if (r.stderr_text.size() < kMaxStderr) r.stderr_text.append(got.substr(0, kMaxStderr - r.stderr_text.size()));
}

// Reads stdout and stderr until the command's EOF. A remote scan may print nothing for a long
// time, so silence is not a failure: the connection is checked every half second and kept alive
// (a keepalive request every 5 s), and a broken one ends the wait.
bool read_until_eof(ssh_session session, ssh_channel ch, ExecResult& r,
                    const std::function<bool(std::string_view)>& on_stdout, const std::atomic<bool>* cancel) {
  std::string buffer(64 * 1024, '\0');
  auto last_keepalive = std::chrono::steady_clock::now();
  for (;;) {
    const int n = ssh_channel_read_timeout(ch, buffer.data(), static_cast<std::uint32_t>(buffer.size()), 0, 500);
    if (n == SSH_ERROR) return false;
    if (n > 0 && !on_stdout(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) return true;
    for (int e; (e = ssh_channel_read_timeout(ch, buffer.data(), static_cast<std::uint32_t>(buffer.size()), 1, 0)) > 0;)
      keep_stderr(r, std::string_view(buffer.data(), static_cast<std::size_t>(e)));
    if (cancel != nullptr && cancel->load()) return true;
    if (n > 0) continue;
    if (ssh_channel_is_eof(ch)) return true;
    if (!ssh_channel_is_open(ch) || !ssh_is_connected(session)) return false;
    if (const auto now = std::chrono::steady_clock::now(); now - last_keepalive > std::chrono::seconds(5)) {
      if (ssh_send_ignore(session, "") != SSH_OK) return false;
      last_keepalive = now;
    }
  }
}

}  // namespace

ExecResult exec(ssh_session session, const std::string& command, std::span<const std::string_view> input,
                bool keep_stdin_open, const std::function<bool(std::string_view)>& on_stdout,
                const std::atomic<bool>* cancel) {
  ExecResult r;
  ChannelPtr ch(ssh_channel_new(session));
  if (!ch || ssh_channel_open_session(ch.get()) != SSH_OK ||
      ssh_channel_request_exec(ch.get(), command.c_str()) != SSH_OK) {
    r.lost = !ssh_is_connected(session);
    r.stderr_text = error_of(session);
    return r;
  }
  r.ran = true;
  for (std::string_view part : input) {
    while (!part.empty()) {
      const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(part.size(), 1u << 20));
      const int w = ssh_channel_write(ch.get(), part.data(), n);
      if (w <= 0) {
        r.lost = true;
        return r;
      }
      part.remove_prefix(static_cast<std::size_t>(w));
    }
  }
  if (!keep_stdin_open) ssh_channel_send_eof(ch.get());
  if (!read_until_eof(session, ch.get(), r, on_stdout, cancel)) {
    r.lost = true;
    return r;
  }
  ssh_channel_send_eof(ch.get());
  // The exit status arrives with or just after EOF.
  for (int i = 0; i < 100 && (r.exit_status = ssh_channel_get_exit_status(ch.get())) == -1; ++i)
    if (ssh_channel_poll_timeout(ch.get(), 50, 0) == SSH_ERROR) break;
  return r;
}

}  // namespace keyward::ssh::detail
