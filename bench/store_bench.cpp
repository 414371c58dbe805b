// SPDX-License-Identifier: Apache-2.0
// The collector store under load (issue 12): the time to ingest one large report (every place
// new, then the same places again) and the longest wait of a concurrent reader meanwhile, and
// the time of the inventory reads at a large fleet; and the store's own cost of a fleet's small
// reports (issue 19): first snapshots, unchanged rescans, and rescans whose findings all change.
// Prints one line per measurement. Not a test: speed claims come from here, never from ctest.
//   keyward_store_bench [--findings N]... [--places N] [--agents N] [--small-reports N]
//                       [--replicas 1|2] [--postgres CONNINFO]
// --postgres: on PostgreSQL instead of SQLite (CONNINFO: a server where the bench may create and
// drop databases; `make bench-scale` starts a throw-away one). --replicas 2: the small reports
// come through two stores on the same database at once (two collectors; on SQLite, two threads
// of one store, since a SQLite file serves one collector).
#include <keyward/collector/store.hpp>
#include <keyward/protocol/protocol.hpp>
#include <keyward/scanner/finding.hpp>

#include <fmt/format.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace keyward;
constexpr std::int64_t kNow = 1'760'000'000;

std::string hex64(std::uint64_t n) { return fmt::format("{:064x}", n); }

scanner::Finding finding(std::uint64_t n) {
  scanner::Finding f;
  f.id = hex64(n);
  f.rule = "private-key/pkcs8";
  f.kind = scanner::Kind::private_key;
  f.format = scanner::Format::pem_pkcs8;
  // Some in home directories, some readable by all, some encrypted: scores spread as on a fleet.
  f.location.path = n % 5 == 0 ? fmt::format("/home/u{}/.ssh/id_{}", n % 7, n)
                               : fmt::format("/srv/app{}/conf/keys/service-{}.pem", n % 97, n);
  f.file.mode = n % 2 == 0 ? 0644 : 0600;
  f.file.owner = "svc";
  f.key = scanner::KeyFacts{};
  f.key->algorithm = "ec";
  f.key->bits = 256;
  f.key->curve = "P-256";
  f.key->encrypted = n % 3 == 0;
  f.key->spki_sha256 = hex64(n * 7919 + 1);
  return f;
}

protocol::Report report(std::uint64_t first, std::uint64_t count) {
  protocol::Report r;
  r.report_id = protocol::new_report_id();
  r.result.tool_version = "bench";
  r.result.host = {"bench", "linux"};
  r.result.complete = true;
  r.result.roots = {"/"};
  for (std::uint64_t i = 0; i < count; ++i) r.result.findings.push_back(finding(first + i));
  return r;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Where the bench's stores live: SQLite files, or databases made on a PostgreSQL server.
struct Engine {
  std::string postgres;  // "" : SQLite
  int replicas = 1;
};

void pg_run(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string msg = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error(sql + ": " + msg);
}

struct Bench {
  std::filesystem::path dir;
  Engine engine;
  std::string database;  // PostgreSQL: the database made for this bench
  std::unique_ptr<collector::Store> store;
  collector::Actor admin{"cli:bench", collector::Role::admin};
  int agents = 0;

  Bench(const std::string& name, Engine e) : engine(std::move(e)) {
    dir = std::filesystem::temp_directory_path() / fmt::format("keyward-store-bench-{}-{}", name, ::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    if (!engine.postgres.empty()) {
      database = fmt::format("keyward_bench_{}_{}", name, ::getpid());
      pg_run(engine.postgres, "DROP DATABASE IF EXISTS " + database);
      pg_run(engine.postgres, "CREATE DATABASE " + database + " TEMPLATE template0 ENCODING 'UTF8'");
    }
    store = open();
  }
  // Another store on the same database (a second replica).
  std::unique_ptr<collector::Store> open() {
    if (engine.postgres.empty()) return collector::open_sqlite_store((dir / "k.db").string(), "", {});
    return collector::open_postgres_store({engine.postgres + " dbname=" + database, nullptr}, "", {});
  }
  ~Bench() {
    store.reset();
    if (!database.empty()) pg_run(engine.postgres, "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    std::filesystem::remove_all(dir);
  }
  collector::AgentInfo pending_agent() {
    ++agents;
    const auto tok = store->create_enrollment_token(kNow + 3600, admin);
    // Far above every finding's SPKI (n * 7919 + 1): an agent's key is never one of the fleet's findings.
    constexpr std::uint64_t kAgentKeys = 1ULL << 62;
    collector::Enrollment e{
        fmt::format("{:016x}", agents), fmt::format("host-{}", agents), "linux",
        hex64(kAgentKeys + agents),     std::to_string(agents),         hex64(kAgentKeys + (1ULL << 40) + agents)};
    return store->enroll_agent(tok.secret, e, kNow).value();
  }
  collector::AgentInfo agent() { return store->approve_agent(pending_agent().id, admin, kNow).value(); }
};

// While an ingest runs, another thread reads one agent again and again: the longest of those
// reads is how long the ingest kept the store from its readers at a stretch.
class ReaderProbe {
 public:
  ReaderProbe(collector::Store& store, std::string agent_id)
      : store_(store), agent_id_(std::move(agent_id)), thread_([this] { run(); }) {}
  ~ReaderProbe() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  double longest() const { return longest_; }
  std::uint64_t reads() const { return reads_; }

 private:
  void run() {
    while (!stop_) {
      const auto t0 = std::chrono::steady_clock::now();
      (void)store_.agent(agent_id_);
      longest_ = std::max(longest_, seconds_since(t0));
      ++reads_;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  collector::Store& store_;
  std::string agent_id_;
  std::atomic<bool> stop_{false};
  double longest_ = 0;
  std::uint64_t reads_ = 0;
  std::thread thread_;
};

void timed_ingest(Bench& b, const collector::AgentInfo& a, const protocol::Report& r, std::int64_t now,
                  const char* what) {
  ReaderProbe probe(*b.store, a.id);
  const auto t0 = std::chrono::steady_clock::now();
  const auto fresh = b.store->ingest(a, r, now).new_places;
  const double took = seconds_since(t0);
  probe.stop();
  fmt::print("ingest {:>7} findings, {:<10} {:7.2f} s ({} new); a concurrent read waited at most {:.3f} s ({} reads)\n",
             r.result.findings.size(), what, took, fresh, probe.longest(), probe.reads());
}

void ingest_bench(std::uint64_t n, const Engine& e) {
  Bench b(fmt::format("ingest{}", n), e);
  const auto a = b.agent();
  auto r = report(0, n);
  timed_ingest(b, a, r, kNow, "all new:");
  r.report_id = protocol::new_report_id();
  timed_ingest(b, a, r, kNow + 60, "unchanged:");
}

// Approving an agent ingests the snapshot held for it.
void approve_bench(std::uint64_t n, const Engine& e) {
  Bench b(fmt::format("approve{}", n), e);
  const auto a = b.pending_agent();
  b.store->ingest(a, report(0, n), kNow);
  ReaderProbe probe(*b.store, a.id);
  const auto t0 = std::chrono::steady_clock::now();
  (void)b.store->approve_agent(a.id, b.admin, kNow + 60).value();
  const double took = seconds_since(t0);
  probe.stop();
  fmt::print("approve with a held {:>7}-finding report:  {:7.2f} s; a concurrent read waited at most {:.3f} s\n", n,
             took, probe.longest());
}

void read_bench(std::uint64_t places, std::uint64_t agents, const Engine& e) {
  Bench b("reads", e);
  const std::uint64_t per = places / agents;
  std::vector<collector::AgentInfo> list;
  for (std::uint64_t i = 0; i < agents; ++i) {
    list.push_back(b.agent());
    b.store->ingest(list.back(), report(i * per, per), kNow);
  }
  auto time = [](const char* what, auto&& f) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    fmt::print("{:<44} {:8.3f} s\n", what, seconds_since(t0));
  };
  fmt::print("reads at {} places on {} hosts:\n", per * agents, agents);
  time("  hosts()", [&] { b.store->hosts(); });
  time("  findings() open, first page", [&] { b.store->findings({}); });
  collector::FindingQuery q;
  q.host = list.back().hostname;
  time("  findings(host=) open, first page", [&] { b.store->findings(q); });
  time("  counts()", [&] { b.store->counts(); });
  time("  keys() first page", [&] { b.store->keys(100, 0); });
  collector::FindingQuery critical;
  critical.severity = "critical";
  time("  findings(severity=critical) first page", [&] { b.store->findings(critical); });
  time("  fleet_plan()", [&] { b.store->fleet_plan(kNow); });
}

// Reports of 50 findings from `hosts` agents, each kind in turn: reports a second of the store
// alone (one thread; no TLS, gzip or JSON).
void small_reports_bench(std::uint64_t hosts, const Engine& e) {
  Bench b("small", e);
  std::vector<collector::AgentInfo> list;
  for (std::uint64_t i = 0; i < hosts; ++i) list.push_back(b.agent());
  // The second writer: another replica on PostgreSQL, the same store on SQLite.
  std::unique_ptr<collector::Store> second = e.replicas > 1 && !e.postgres.empty() ? b.open() : nullptr;
  collector::Store& other = second ? *second : *b.store;
  const auto replicas = static_cast<std::uint64_t>(std::max(1, e.replicas));
  fmt::print("{} on {}, {} writer(s):\n", e.postgres.empty() ? "SQLite" : "PostgreSQL",
             second ? "two stores (replicas)" : "one store", replicas);
  auto round = [&](const char* what, std::int64_t now, auto&& first_finding) {
    const auto t0 = std::chrono::steady_clock::now();
    auto part = [&](collector::Store& store, std::uint64_t k) {
      for (std::uint64_t i = k; i < hosts; i += replicas) store.ingest(list[i], report(first_finding(i), 50), now);
    };
    std::thread t;
    if (replicas > 1) t = std::thread(part, std::ref(other), 1);
    part(*b.store, 0);
    if (t.joinable()) t.join();
    const double took = seconds_since(t0);
    fmt::print("{:>6} reports of 50 findings, {:<22} {:8.1f} reports/s ({:.2f} ms each)\n", hosts, what,
               static_cast<double>(hosts) / took, took * 1000 / static_cast<double>(hosts));
  };
  round("first snapshots:", kNow, [](std::uint64_t i) { return i * 50; });
  round("unchanged:", kNow + 60, [](std::uint64_t i) { return i * 50; });
  round("all 50 changed:", kNow + 120, [&](std::uint64_t i) { return (hosts + i) * 50; });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint64_t> sizes;
  std::uint64_t places = 170000, agents = 17, small = 0;
  Engine engine;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--findings") sizes.push_back(v);
    else if (flag == "--places") places = v;
    else if (flag == "--agents") agents = v;
    else if (flag == "--small-reports") small = v;
    else if (flag == "--replicas") engine.replicas = static_cast<int>(v);
    else if (flag == "--postgres") engine.postgres = argv[i + 1];
  }
  if (small > 0) {
    small_reports_bench(small, engine);
    return 0;
  }
  if (sizes.empty()) sizes = {20000, 100000};
  for (auto n : sizes) ingest_bench(n, engine);
  approve_bench(sizes.front(), engine);
  if (places > 0 && agents > 0) read_bench(places, agents, engine);
}
