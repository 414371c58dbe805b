// SPDX-License-Identifier: Apache-2.0
// The collector's scheduled remote scans (collector/src/server/remote_scans.hpp) with a stand-in
// for ssh::scan_host: what a host's scan becomes in the store, the options it is given, the
// bounded parallelism and a prompt stop. tests/integration/check_remote_collector.py runs the
// real one against a real sshd.
#include "server/remote_scans.hpp"

#include "server/json_views.hpp"

#include "collector/store_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

using namespace keyward;
using namespace keyward::collector;
using keyward::test::key_finding;
using keyward::test::StoreFixture;

namespace {

ssh::InventoryHost inventory_host(const std::string& name, std::uint16_t port = 22) {
  ssh::InventoryHost h;
  h.name = name;
  h.target.host = "127.0.0.1";
  h.target.port = port;
  h.paths = {"/srv"};
  return h;
}

RemoteScans settings(const StoreFixture& fx) {
  RemoteScans r;
  r.inventory = fx.dir.path("hosts.yaml");
  r.identity = fx.dir.path("pki/remote_scan_key");
  r.known_hosts = fx.dir.path("remote_known_hosts");
  r.parallel = 2;
  r.connect_timeout_seconds = 7;
  r.timeout_seconds = 11;
  return r;
}

// What the stand-in answers: a status, and findings when a scan ran.
struct Answer {
  ssh::HostStatus status = ssh::HostStatus::ok;
  std::vector<scanner::Finding> findings;
  bool ran = true;
};

ScanHostFn answering(const Answer& a) {
  return [a](const ssh::Target& t, const ssh::RemoteScanOptions&) {
    ssh::HostResult r;
    r.target = t;
    r.status = a.status;
    if (a.status != ssh::HostStatus::ok) r.message = "connection refused by 127.0.0.1";
    if (a.ran) r.result = test::report(a.findings, /*complete=*/true).result;
    return r;
  };
}

std::optional<HostRow> host_row(Store& store, const std::string& id) {
  for (auto& h : store.hosts())
    if (h.agent_id == id) return h;
  return std::nullopt;
}

}  // namespace

TEST_CASE("a remote scan is stored like an agent's report, under a remote host, audited as the scheduler's") {
  StoreFixture fx;
  {
    RemoteScanner scanner(settings(fx), {inventory_host("web")}, *fx.store,
                          answering({ssh::HostStatus::ok, {key_finding("f1", "/srv/a.key", 1)}}));
    const auto out = scanner.run_once();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status == ssh::HostStatus::ok);
    CHECK(out[0].ingested);
    CHECK(out[0].ingest.new_places == 1);
  }
  const auto h = host_row(*fx.store, remote_host_id("web"));
  REQUIRE(h);
  CHECK(h->agent_id == "ssh:web");
  CHECK(h->hostname == "web");
  CHECK(h->source == HostSource::remote);
  CHECK(h->agent_status == "approved");
  CHECK(h->open_findings == 1);
  CHECK(h->remote.status == "ok");
  CHECK(h->last_report_at != 0);
  CHECK(fx.all_findings("ssh:web").total == 1);
  CHECK(fx.store->keys(10, 0).items.at(0).places.at(0).agent_id == "ssh:web");
  bool ingest_audited = false, add_audited = false;
  for (const auto& e : fx.store->audit_entries(0, 1000)) {
    if (e.action == "report.ingest" && e.subject == "ssh:web") ingest_audited = e.actor == "collector:remote-scans";
    if (e.action == "remote.add" && e.subject == "ssh:web") add_audited = e.actor == "collector:remote-scans";
  }
  CHECK(ingest_audited);
  CHECK(add_audited);
  // A later complete scan without the key resolves it, as an agent's snapshot would.
  RemoteScanner again(settings(fx), {inventory_host("web")}, *fx.store, answering({ssh::HostStatus::ok, {}}));
  CHECK(again.run_once().at(0).ingest.resolved == 1);
  CHECK(host_row(*fx.store, "ssh:web")->open_findings == 0);
}

TEST_CASE("a partial remote scan resolves nothing, and an unreachable host keeps its places and shows its status") {
  StoreFixture fx;
  RemoteScanner first(settings(fx), {inventory_host("db")}, *fx.store,
                      answering({ssh::HostStatus::ok, {key_finding("f1", "/srv/a.key", 1)}}));
  first.run_once();
  // The connection dropped midway: the result holds no places (and says complete), yet it
  // must not count as a snapshot.
  RemoteScanner partial(settings(fx), {inventory_host("db")}, *fx.store, answering({ssh::HostStatus::partial, {}}));
  const auto p = partial.run_once().at(0);
  CHECK(p.ingested);
  CHECK(p.ingest.resolved == 0);
  CHECK(host_row(*fx.store, "ssh:db")->open_findings == 1);
  CHECK(host_row(*fx.store, "ssh:db")->remote.status == "partial");

  RemoteScanner down(settings(fx), {inventory_host("db")}, *fx.store,
                     answering({ssh::HostStatus::unreachable, {}, /*ran=*/false}));
  const auto d = down.run_once().at(0);
  CHECK(d.status == ssh::HostStatus::unreachable);
  CHECK(!d.ingested);
  const auto h = host_row(*fx.store, "ssh:db");
  CHECK(h->open_findings == 1);
  CHECK(h->remote.status == "unreachable");
  CHECK(h->remote.message == "connection refused by 127.0.0.1");
  CHECK(h->remote.scanned_at != 0);
}

TEST_CASE("a remote host gets the collector's credentials and known_hosts, never an agent nor accept-new") {
  StoreFixture fx;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;  // identity, known_hosts per host
  auto capture = [&](const ssh::Target& t, const ssh::RemoteScanOptions& o) {
    std::lock_guard lock(mu);
    CHECK(o.scan.roots == std::vector<std::string>{"/srv"});
    CHECK(o.scan.cancel != nullptr);
    CHECK(!o.connect.credentials.use_agent);
    CHECK(!o.connect.accept_new_host_keys);
    CHECK(o.connect.connect_timeout == std::chrono::seconds(7));
    CHECK(o.connect.io_timeout == std::chrono::seconds(11));
    seen.emplace_back(o.connect.credentials.identity_file, o.connect.known_hosts);
    ssh::HostResult r;
    r.target = t;
    r.status = ssh::HostStatus::auth_refused;
    r.message = "the server refused the key";
    return r;
  };
  auto own = inventory_host("own", 2222);
  own.known_hosts = fx.dir.path("own_known_hosts");
  RemoteScanner scanner(settings(fx), {inventory_host("plain"), own}, *fx.store, capture);
  const auto out = scanner.run_once();
  REQUIRE(out.size() == 2);
  CHECK(out[0].name == "plain");  // inventory order
  CHECK(out[1].status == ssh::HostStatus::auth_refused);
  std::sort(seen.begin(), seen.end());
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].first == fx.dir.path("pki/remote_scan_key"));
  CHECK(seen[0].second == fx.dir.path("own_known_hosts"));
  CHECK(seen[1].second == fx.dir.path("remote_known_hosts"));
  // Only one host, by name; a name not in the inventory is an error.
  CHECK(scanner.run_once("own").size() == 1);
  CHECK_THROWS_AS(scanner.run_once("nope"), std::runtime_error);
  // exec mode from the collector with no keyward binary to copy is refused, not attempted.
  auto exec = inventory_host("exec");
  exec.mode = ssh::Mode::exec;
  RemoteScanner no_binary(settings(fx), {exec}, *fx.store, capture);
  CHECK(no_binary.run_once().at(0).status == ssh::HostStatus::incompatible);
  CHECK(seen.size() == 3);  // "own" once more, "exec" never
}

TEST_CASE("remote scans run at most `parallel` hosts at once, and each host once") {
  StoreFixture fx;
  std::atomic<int> running{0}, most{0}, calls{0};
  auto slow = [&](const ssh::Target& t, const ssh::RemoteScanOptions&) {
    const int now = ++running;
    for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
    }
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    --running;
    ssh::HostResult r;
    r.target = t;
    r.status = ssh::HostStatus::unreachable;
    return r;
  };
  std::vector<ssh::InventoryHost> hosts;
  for (int i = 0; i < 6; ++i) hosts.push_back(inventory_host("h" + std::to_string(i)));
  RemoteScanner scanner(settings(fx), hosts, *fx.store, slow);
  CHECK(scanner.run_once().size() == 6);
  CHECK(calls == 6);
  CHECK(most.load() == 2);
}

TEST_CASE("stop() cancels a remote scan in flight and ends the schedule promptly") {
  StoreFixture fx;
  std::atomic<bool> started{false};
  auto waits_for_cancel = [&](const ssh::Target& t, const ssh::RemoteScanOptions& o) {
    started = true;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!o.scan.cancel->load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ssh::HostResult r;
    r.target = t;
    r.status = ssh::HostStatus::partial;
    r.result = test::report({key_finding("f1", "/srv/a.key", 1)}, /*complete=*/false).result;
    return r;
  };
  RemoteScanner scanner(settings(fx), {inventory_host("slow")}, *fx.store, waits_for_cancel);
  scanner.start();
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto t0 = std::chrono::steady_clock::now();
  scanner.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  // What it had found is kept, as an incomplete report: added, nothing resolved.
  CHECK(host_row(*fx.store, "ssh:slow")->remote.status == "partial");
  CHECK(host_row(*fx.store, "ssh:slow")->open_findings == 1);
}

TEST_CASE("a revoked remote host is not scanned") {
  StoreFixture fx;
  std::atomic<int> calls{0};
  auto counting = [&](const ssh::Target& t, const ssh::RemoteScanOptions&) {
    ++calls;
    ssh::HostResult r;
    r.target = t;
    r.status = ssh::HostStatus::ok;
    r.result = test::report({}).result;
    return r;
  };
  RemoteScanner scanner(settings(fx), {inventory_host("gone")}, *fx.store, counting);
  scanner.run_once();
  REQUIRE(fx.store->revoke_agent("ssh:gone", fx.admin, test::kNow).has_value());
  const auto out = scanner.run_once();
  CHECK(calls == 1);
  CHECK(!out.at(0).ingested);
  CHECK(out.at(0).message.find("revoked") != std::string::npos);
  // A name a terminal or a log line would misread is refused before anything is stored.
  RemoteScanner bad(settings(fx), {inventory_host("evil\nname")}, *fx.store, counting);
  CHECK(bad.run_once().at(0).status == ssh::HostStatus::error);
  CHECK(calls == 1);
}

TEST_CASE("the hosts view names each host's source, and a remote host's last scan") {
  StoreFixture fx;
  fx.agent("agent-host");
  RemoteScanner down(settings(fx), {inventory_host("dark")}, *fx.store,
                     answering({ssh::HostStatus::host_key_mismatch, {}, /*ran=*/false}));
  down.run_once();
  std::map<std::string, nlohmann::json> views;
  for (const auto& h : fx.store->hosts()) views[h.hostname] = to_json(h);
  CHECK(views.at("agent-host").at("source") == "agent");
  CHECK(views.at("agent-host").at("last_remote_scan").is_null());
  const auto& dark = views.at("dark");
  CHECK(dark.at("agent_id") == "ssh:dark");
  CHECK(dark.at("source") == "remote");
  CHECK(dark.at("last_remote_scan").at("status") == "host_key_mismatch");
  CHECK(dark.at("last_remote_scan").at("message") == "connection refused by 127.0.0.1");
  CHECK(dark.at("last_remote_scan").at("scanned_at").is_string());
  CHECK(to_json(*fx.store->agent("ssh:dark")).at("source") == "remote");
}
