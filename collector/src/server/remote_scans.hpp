// SPDX-License-Identifier: Apache-2.0
// The collector's scheduled remote scans (docs/fleet.md, "Remote scans"): the hosts of the
// remote_scans inventory are scanned over SSH (keyward::ssh, docs/remote.md) at start and every
// `every`, at most `parallel` at once, on threads of their own (never the server's I/O threads).
// Each host is a remote target of the store (id "ssh:<name>", source remote); a scan that ran
// becomes a report ingested exactly as an agent's (Store::ingest, actor remote_scans_actor()),
// and one that did not finish is ingested as incomplete: it adds and resolves nothing. How each
// scan ended is recorded on its host (hosts(), /api/v1/hosts).
// Used by: `keyward-collector serve` (start/stop) and `keyward-collector remote-scan` (run_once).
// Must never log or store a credential: the identity and passphrase stay in their files and in
// wiped memory; messages are keyward::ssh's one-liners, which hold none.
#pragma once

#include <keyward/collector/store.hpp>
#include <keyward/ssh/inventory.hpp>
#include <keyward/ssh/remote_scan.hpp>

#include "server/config.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keyward::collector {

// How a host is scanned: ssh::scan_host, or a stand-in in tests.
using ScanHostFn = std::function<ssh::HostResult(const ssh::Target&, const ssh::RemoteScanOptions&)>;

// The audit actor of the collector's remote scans: "collector:remote-scans".
Actor remote_scans_actor();

// How one host's turn ended.
struct RemoteScanOutcome {
  std::string name;  // the inventory name
  ssh::HostStatus status = ssh::HostStatus::error;
  std::string message;    // one line; "" when ok
  bool ingested = false;  // a report went into the store
  IngestOutcome ingest;   // when ingested
};

class RemoteScanner {
 public:
  // `self_binary`: the keyward binary exec-mode hosts get ("" : exec mode is refused).
  RemoteScanner(RemoteScans config, std::vector<ssh::InventoryHost> hosts, Store& store,
                ScanHostFn scan = ssh::scan_host, std::string self_binary = {});
  // Stops the schedule (stop()).
  ~RemoteScanner();
  RemoteScanner(const RemoteScanner&) = delete;
  RemoteScanner& operator=(const RemoteScanner&) = delete;

  // Scans every host, or only the one named `only` (std::runtime_error when none is), at most
  // config.parallel at once; returns in inventory order once all are done.
  std::vector<RemoteScanOutcome> run_once(const std::string& only = {});
  // Runs run_once on a thread of its own now and then every config.every_seconds until stop();
  // logs one line per host on stderr.
  void start();
  // Cancels the scans in flight (their reports are incomplete) and the wait, and joins the
  // thread; thread-safe, idempotent.
  void stop();

 private:
  RemoteScanOutcome scan_one(const ssh::InventoryHost& host);
  ssh::RemoteScanOptions options_for(const ssh::InventoryHost& host) const;
  void ingest_result(const AgentInfo& host, ssh::HostResult& result, RemoteScanOutcome& out);

  RemoteScans config_;
  std::vector<ssh::InventoryHost> hosts_;
  Store& store_;
  ScanHostFn scan_;
  std::string self_binary_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

// The binary exec mode copies, found beside the running executable: keyward-remote (the build
// tree, or ../libexec/keyward when installed), else keyward; "" when there is none.
std::string keyward_beside_self();

}  // namespace keyward::collector
