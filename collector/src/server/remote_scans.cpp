// SPDX-License-Identifier: Apache-2.0
#include "server/remote_scans.hpp"

#include <keyward/common/terminal.hpp>
#include <keyward/migrate/execute.hpp>
#include <keyward/protocol/protocol.hpp>
#include <keyward/rules/passwords.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <utility>

namespace keyward::collector {
namespace {

std::int64_t wall_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

void log_outcome(const RemoteScanOutcome& o) {
  std::string line = fmt::format("{} keyward-collector: remote scan {}: {}", rfc3339(wall_now()),
                                 common::terminal_safe(o.name), ssh::to_string(o.status));
  if (o.ingested)
    line +=
        fmt::format(" ({} findings, {} new, {} resolved)", o.ingest.findings, o.ingest.new_places, o.ingest.resolved);
  if (!o.message.empty()) line += ": " + common::terminal_safe(o.message);
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace

Actor remote_scans_actor() { return Actor{"collector:remote-scans", std::nullopt}; }

std::string keyward_beside_self() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const auto dir = self.parent_path();
  // The stripped copy exec mode prefers (built or installed beside the binaries, docs/remote.md),
  // else the keyward command itself; never keyward-collector, which cannot scan.
  for (const auto& candidate : {dir / "keyward-remote", dir / "../libexec/keyward/keyward-remote", dir / "keyward"})
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
  return {};
}

RemoteScanner::RemoteScanner(RemoteScans config, std::vector<ssh::InventoryHost> hosts, Store& store, ScanHostFn scan,
                             std::string self_binary)
    : config_(std::move(config)),
      hosts_(std::move(hosts)),
      store_(store),
      scan_(std::move(scan)),
      self_binary_(std::move(self_binary)) {}

RemoteScanner::~RemoteScanner() { stop(); }

std::vector<RemoteScanOutcome> RemoteScanner::run_once(const std::string& only) {
  std::vector<const ssh::InventoryHost*> todo;
  for (const auto& h : hosts_)
    if (only.empty() || h.name == only) todo.push_back(&h);
  if (todo.empty()) throw std::runtime_error(fmt::format("no host named \"{}\" in {}", only, config_.inventory));
  std::vector<RemoteScanOutcome> out(todo.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    while (!stop_.load()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= todo.size()) return;
      try {
        out[i] = scan_one(*todo[i]);
      } catch (const std::exception& e) {  // the store failed: this host's turn ends, not the others'
        out[i].name = todo[i]->name;
        out[i].message = e.what();
      }
    }
  };
  const std::size_t n = std::min<std::size_t>(std::max<std::uint32_t>(config_.parallel, 1), todo.size());
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < n; ++i) workers.emplace_back(work);
  work();
  for (auto& t : workers) t.join();
  // Hosts never reached because of a stop keep their last status; they are left out.
  std::erase_if(out, [](const RemoteScanOutcome& o) { return o.name.empty(); });
  return out;
}

void RemoteScanner::start() {
  thread_ = std::thread([this] {
    for (;;) {
      try {
        for (const auto& o : run_once()) log_outcome(o);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s keyward-collector: remote scans failed: %s\n", rfc3339(wall_now()).c_str(), e.what());
      }
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, std::chrono::seconds(config_.every_seconds), [this] { return stop_.load(); })) return;
    }
  });
}

void RemoteScanner::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

ssh::RemoteScanOptions RemoteScanner::options_for(const ssh::InventoryHost& h) const {
  ssh::RemoteScanOptions o;
  o.scan.roots = h.paths.empty() ? std::vector<std::string>{"/"} : h.paths;
  o.scan.passwords = common::SecretList(rules::builtin_passwords());
  o.scan.cancel = &stop_;
  auto& credentials = o.connect.credentials;
  credentials.identity_file = h.identity_file.empty() ? config_.identity : h.identity_file;
  credentials.use_agent = false;  // the collector logs in with the files it holds, never an agent
  if (!config_.passphrase_file.empty())
    credentials.passphrase = migrate::read_secret_source("file:" + config_.passphrase_file);
  o.connect.known_hosts = h.known_hosts.empty() ? config_.known_hosts : h.known_hosts;
  o.connect.accept_new_host_keys = false;  // a new host key is added by a person, never by a schedule
  o.connect.connect_timeout = std::chrono::seconds(config_.connect_timeout_seconds);
  o.connect.io_timeout = std::chrono::seconds(config_.timeout_seconds);
  o.mode = h.mode;
  o.self_binary = self_binary_;
  return o;
}

RemoteScanOutcome RemoteScanner::scan_one(const ssh::InventoryHost& h) {
  RemoteScanOutcome out;
  out.name = h.name;
  const Actor by = remote_scans_actor();
  auto host = store_.remote_host(h.name, by, wall_now());
  if (!host) {
    out.message = host.error().message;
    return out;
  }
  if (host->status != AgentStatus::approved) {
    out.message = fmt::format("{} is {} in the collector: not scanned", host->id, to_string(host->status));
    return out;
  }
  ssh::HostResult result;
  result.target = h.target;
  try {
    if (h.mode == ssh::Mode::exec && self_binary_.empty()) {
      result.status = ssh::HostStatus::incompatible;
      result.message = "exec mode needs the keyward binary beside keyward-collector";
    } else {
      if (!h.identity_file.empty()) check_private_file(h.identity_file, config_.inventory, h.name + ": identity");
      result = scan_(h.target, options_for(h));
    }
  } catch (const std::exception& e) {  // an unreadable credential file, a store failure
    result.status = ssh::HostStatus::error;
    result.message = e.what();
  }
  out.status = result.status;
  out.message = result.message;
  ingest_result(*host, result, out);
  return out;
}

// A scan that ran is a report like an agent's; one that did not finish (partial, or a result
// with complete = false) is ingested incomplete: it adds places and resolves none.
void RemoteScanner::ingest_result(const AgentInfo& host, ssh::HostResult& result, RemoteScanOutcome& out) {
  const Actor by = remote_scans_actor();
  const std::int64_t now = wall_now();
  if (result.result) {
    protocol::Report report{protocol::new_report_id(), std::move(*result.result)};
    if (result.status != ssh::HostStatus::ok) report.result.complete = false;
    out.ingest = store_.ingest(host, report, now, by);
    out.ingested = true;
  }
  store_.record_remote_scan(host.id, {std::string(ssh::to_string(out.status)), out.message, now}, by);
}

}  // namespace keyward::collector
