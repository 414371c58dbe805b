// SPDX-License-Identifier: Apache-2.0
#include "commands/ssh_common.hpp"

#include "config.hpp"  // keyward::agent::parse_duration: the agent's "30s", "10m" durations

#include <keyward/common/random.hpp>
#include <keyward/migrate/execute.hpp>
#include <keyward/rules/engine.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace keyward::cli {
namespace {

// A CLI11 check for "10s", "2m", "1h": "" when fine, else why not.
std::string check_duration(const std::string& text) {
  try {
    if (agent::parse_duration(text).count() == 0) return "a duration must be longer than 0s";
    return "";
  } catch (const std::invalid_argument& e) {
    return std::string(e.what()) + "; use e.g. 10s, 2m or 1h";
  }
}

void add_sums(std::map<std::string, std::uint64_t>& into, const std::map<std::string, std::uint64_t>& more) {
  for (const auto& [k, v] : more) into[k] += v;
}

}  // namespace

void add_ssh_flags(CLI::App& cmd, SshFlags& flags) {
  const std::string group = "SSH (ssh:// roots and remote hosts, docs/remote.md)";
  cmd.add_option("-i,--identity", flags.identity,
                 "Log in with this private key (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)")
      ->type_name("FILE")
      ->group(group);
  cmd.add_option("--passphrase-source", flags.passphrase_source,
                 "Where the identity's passphrase is: env:VAR or file:PATH (never the passphrase)")
      ->type_name("SRC")
      ->group(group);
  cmd.add_option("--known-hosts", flags.known_hosts, "Check host keys against FILE (default: ~/.ssh/known_hosts)")
      ->type_name("FILE")
      ->group(group);
  cmd.add_flag("--accept-new-host-keys", flags.accept_new_host_keys,
               "Record the key of a host not yet in known_hosts and go on (a changed key is always refused)")
      ->group(group);
  cmd.add_option("--mode", flags.mode,
                 "sftp: walk and read over SFTP (any host); exec: copy keyward to the host and run it there")
      ->check(CLI::IsMember({"sftp", "exec"}))
      ->capture_default_str()
      ->group(group);
  cmd.add_option("--connect-timeout", flags.connect_timeout, "Give up connecting and logging in after DURATION")
      ->type_name("DURATION")
      ->check(CLI::Validator(check_duration, "DURATION"))
      ->capture_default_str()
      ->group(group);
  cmd.add_option("--ssh-timeout", flags.ssh_timeout, "Give up on any later SSH operation after DURATION")
      ->type_name("DURATION")
      ->check(CLI::Validator(check_duration, "DURATION"))
      ->capture_default_str()
      ->group(group);
  cmd.add_option("--connections", flags.connections, "sftp: SSH sessions per host used at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str()
      ->group(group);
  cmd.add_option("--proxy-jump", flags.proxy_jump, "Connect through this SSH host, as ssh -J does")
      ->type_name("[USER@]HOST[:PORT]")
      ->group(group);
}

ssh::ConnectOptions connect_options(const SshFlags& flags) {
  ssh::ConnectOptions c;
  c.credentials.identity_file = flags.identity;
  if (!flags.passphrase_source.empty()) {
    try {
      c.credentials.passphrase = migrate::read_secret_source(flags.passphrase_source);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--passphrase-source: ") + e.what());
    }
  }
  c.known_hosts = flags.known_hosts;
  c.accept_new_host_keys = flags.accept_new_host_keys;
  c.connect_timeout = agent::parse_duration(flags.connect_timeout);
  c.io_timeout = agent::parse_duration(flags.ssh_timeout);
  c.proxy_jump = flags.proxy_jump;
  return c;
}

ssh::HostResult scan_endpoint(const ssh::Target& target, const std::vector<std::string>& paths,
                              const scanner::ScanOptions& scan, ssh::ConnectOptions connect, ssh::Mode mode,
                              unsigned connections, const std::vector<std::string>& password_files) {
  ssh::RemoteScanOptions o;
  o.scan = scan;
  o.scan.roots = paths;
  o.scan.cache = nullptr;     // the cache describes this machine's files
  o.scan.progress = nullptr;  // one progress line is the local scan's
  o.connect = std::move(connect);
  o.mode = mode;
  o.connections = connections;
  o.password_files = password_files;
  return ssh::scan_host(target, o);
}

std::string endpoint_url(const ssh::Target& target) { return "ssh://" + target.display(); }

void print_host_problem(const ssh::HostResult& host) {
  if (host.status == ssh::HostStatus::ok) return;
  std::fprintf(stderr, "keyward: %s: %s: %s\n", endpoint_url(host.target).c_str(),
               std::string(ssh::to_string(host.status)).c_str(), host.message.c_str());
}

scanner::ScanResult empty_result(const scanner::ScanOptions& opts) {
  scanner::ScanResult r;
  r.tool_version = opts.tool_version;
  r.scan_id = common::random_hex(16);
  r.started_at = r.finished_at =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) == 0) r.host.hostname = name;
  return r;
}

void merge_result(scanner::ScanResult& into, scanner::ScanResult part, const ssh::Target& target) {
  for (auto& root : part.roots) into.roots.push_back(endpoint_url(target) + root);
  into.complete = into.complete && part.complete;
  if (part.started_at != 0) into.started_at = std::min(into.started_at, part.started_at);
  into.finished_at = std::max(into.finished_at, part.finished_at);
  scanner::ScanStats& s = into.stats;
  const scanner::ScanStats& p = part.stats;
  s.files_seen += p.files_seen;
  s.files_scanned += p.files_scanned;
  s.files_cached += p.files_cached;
  s.bytes_scanned += p.bytes_scanned;
  s.dirs_seen += p.dirs_seen;
  s.dirs_cached += p.dirs_cached;
  s.errors += p.errors;
  s.trust_store_certificates += p.trust_store_certificates;
  s.archives += p.archives;
  s.archive_members += p.archive_members;
  add_sums(s.skipped, p.skipped);
  add_sums(s.rejected, p.rejected);
  for (auto& e : part.errors) {
    e.path = endpoint_url(target) + e.path;
    into.errors.push_back(std::move(e));
  }
  std::move(part.findings.begin(), part.findings.end(), std::back_inserter(into.findings));
}

nlohmann::json host_status_json(const std::string& name, const ssh::HostResult& host) {
  nlohmann::json j = {{"name", name},
                      {"target", endpoint_url(host.target)},
                      {"status", std::string(ssh::to_string(host.status))},
                      {"seconds", std::round(host.seconds * 1000) / 1000}};
  if (host.result) j["findings"] = host.result->findings.size();
  if (!host.message.empty()) j["message"] = host.message;
  return j;
}

}  // namespace keyward::cli
