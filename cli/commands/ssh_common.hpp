// SPDX-License-Identifier: Apache-2.0
// What `keyward scan ssh://...` and `keyward remote` share (docs/remote.md): the SSH flags (one
// registration), the ConnectOptions they ask for, one host's scan with the local scan's options,
// merging host results into one ScanResult, and scoring remote findings without the provenance
// that reads this machine (its package database, its git indexes).
#pragma once

#include "commands/common.hpp"

#include <keyward/rules/rule_set.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/ssh/remote_scan.hpp>
#include <keyward/ssh/target.hpp>

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace keyward::cli {

// -i, --passphrase-source, --known-hosts, --accept-new-host-keys, --mode, --connect-timeout,
// --ssh-timeout, --connections, --proxy-jump.
struct SshFlags {
  std::string identity;           // -i/--identity FILE
  std::string passphrase_source;  // env:VAR or file:PATH, never the passphrase
  std::string known_hosts;
  bool accept_new_host_keys = false;
  std::string mode = "sftp";
  std::string connect_timeout = "10s";
  std::string ssh_timeout = "30s";
  unsigned connections = 8;
  std::string proxy_jump;
};

// Registers the SSH flags in their own help group.
void add_ssh_flags(CLI::App& cmd, SshFlags& flags);

// The ConnectOptions the flags ask for; reads the passphrase source (into wiped memory). Throws
// std::runtime_error / std::invalid_argument naming the flag when a source cannot be read.
ssh::ConnectOptions connect_options(const SshFlags& flags);

// One endpoint's scan: `scan` as a local scan would run it (cache dropped), with `paths` as roots.
ssh::HostResult scan_endpoint(const ssh::Target& target, const std::vector<std::string>& paths,
                              const scanner::ScanOptions& scan, ssh::ConnectOptions connect, ssh::Mode mode,
                              unsigned connections, const std::vector<std::string>& password_files);

// "ssh://user@host:port" (the endpoint as users write it).
std::string endpoint_url(const ssh::Target& target);

// One line on stderr for a host that was not scanned whole: "keyward: ssh://...: STATUS: MESSAGE".
void print_host_problem(const ssh::HostResult& host);

// An empty result to merge hosts into: this keyward's version, a new scan id, started now, host
// this machine (the one that scanned; each finding names the host it was found on).
scanner::ScanResult empty_result(const scanner::ScanOptions& opts);

// Appends `part` (one host's result) to `into`: findings, errors, counters; roots become
// ssh:// URLs; complete only when both are.
void merge_result(scanner::ScanResult& into, scanner::ScanResult part, const ssh::Target& target);

// {"name", "target", "status", "seconds"}, "findings" when a scan ran, "message" when not ok: a
// host's entry of the `hosts` list (docs/findings.md, "Remote scans").
nlohmann::json host_status_json(const std::string& name, const ssh::HostResult& host);

}  // namespace keyward::cli
