// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load run: N simulated agents post full-snapshot reports (gzip, each with its
// own client certificate) for S seconds or R reports, C at once, while a probe times GET /health
// on its own connection. Each report is its own TLS connection (the agent's last session
// resumed) unless --keep-alive keeps one open per agent. Prints what was sent, what came back
// and the latencies. Bounded: no report begins after the deadline or past the report budget,
// and every step of one has a 60 s deadline.
// Must never print a key: the agents' keys are only handed to OpenSSL.
#include "fleet_load.hpp"
#include "http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

namespace keyward::fleet_load {

namespace {

using Clock = std::chrono::steady_clock;

struct Agent {
  std::size_t index = 0;
  std::string hostname;
  X509Ptr cert;
  PkeyPtr key;
  SessionPtr session;
  std::unique_ptr<Connection> conn;  // --keep-alive: open between the agent's reports
  std::uint64_t generation = 0;
  std::uint64_t reports = 0;
  bool busy = false;
};

struct Shared {
  const RunOptions& o;
  Target target;
  ssl::context& ctx;
  ReportShape shape;
  Clock::time_point start, deadline;
  std::atomic<std::uint64_t> issued{0};  // reports begun (the budget and the pacing)
  std::atomic<bool> stop_probe{false};
};

// One thread's share: its agents (index % threads), its io_context and its counts.
struct Lane {
  std::vector<Agent*> agents;
  std::size_t cursor = 0;
  Tally tally;
  std::mt19937_64 rng;
  Clock::time_point end;
};

double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

// The agent's connection, opened (and counted) when it has none.
net::awaitable<bool> ensure_open(Shared& s, Lane& lane, Agent& a) {
  if (a.conn && a.conn->is_open()) co_return true;
  a.conn = std::make_unique<Connection>(co_await net::this_coro::executor, s.ctx, std::chrono::seconds(60));
  const auto t0 = Clock::now();
  const std::string failed =
      co_await a.conn->open(s.target, Credentials{a.cert.get(), a.key.get(), s.o.resume ? a.session.get() : nullptr});
  if (!failed.empty()) {
    ++lane.tally.errors[failed];
    a.conn.reset();
    co_return false;
  }
  lane.tally.handshake_us.push_back(us_since(t0));
  ++lane.tally.handshakes;
  if (a.conn->resumed()) ++lane.tally.resumed;
  co_return true;
}

// Counts one answer to a report.
void record(Lane& lane, const Answer& ans, std::size_t findings, double us) {
  Tally& t = lane.tally;
  ++t.sent;
  if (!ans.failed.empty()) {
    ++t.errors[ans.failed];
    return;
  }
  if (ans.status != 202) {
    ++t.errors[std::to_string(ans.status)];
    return;
  }
  ++t.ok;
  t.findings_ok += findings;
  t.ingest_us.push_back(us);
  if (ans.body.find(R"("status":"held")") != std::string::npos) ++t.held;
  if (ans.body.find(R"("status":"duplicate")") != std::string::npos) ++t.duplicate;
}

// One report of agent a: its snapshot (changed by churn or --changing), sent and timed.
net::awaitable<void> post_report(Shared& s, Lane& lane, Agent& a) {
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  if (a.reports > 0 && (s.o.changing > 0 || (s.o.churn > 0 && coin(lane.rng) < s.o.churn))) ++a.generation;
  std::size_t findings = 0;
  std::string body = gzip(report_json(s.shape, a.index, a.hostname, a.generation, findings), s.o.gzip_level);
  ++a.reports;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = a.conn && a.conn->is_open();
    if (!co_await ensure_open(s, lane, a)) {
      // No connection (counted): a pause, so that a collector that is down is not spun on.
      net::steady_timer pause(co_await net::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTok);
      co_return;
    }
    auto req = make_request(http::verb::post, "/api/v1/reports", s.target, body, "", s.o.keep_alive);
    req.set(http::field::content_encoding, "gzip");
    const auto t0 = Clock::now();
    Answer ans = co_await a.conn->exchange(req);
    const double us = us_since(t0);
    // A kept-alive connection the collector closed while idle: once more on a new one.
    if (reused && !ans.failed.empty() && attempt == 0) {
      ++lane.tally.reconnects;
      continue;
    }
    lane.tally.bytes_sent += body.size();
    record(lane, ans, findings, us);
    if (s.o.resume && a.conn && a.conn->is_open()) a.session = a.conn->session();
    if (!s.o.keep_alive || !ans.keep_alive) {
      if (a.conn) co_await a.conn->close();
      a.conn.reset();
    }
    co_return;
  }
}

// Takes one report from the budget and waits for its slot when --rate paces; false: stop.
net::awaitable<bool> next_slot(Shared& s) {
  if (Clock::now() >= s.deadline) co_return false;
  const std::uint64_t k = s.issued.fetch_add(1);
  if (s.o.max_reports > 0 && k >= s.o.max_reports) co_return false;
  if (s.o.rate > 0) {
    const auto at = s.start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(static_cast<double>(k) / s.o.rate));
    if (at >= s.deadline) co_return false;
    net::steady_timer timer(co_await net::this_coro::executor, at);
    co_await timer.async_wait(kTok);
  }
  co_return true;
}

Agent* next_free_agent(Lane& lane) {
  for (std::size_t n = 0; n < lane.agents.size(); ++n) {
    Agent* a = lane.agents[lane.cursor];
    lane.cursor = (lane.cursor + 1) % lane.agents.size();
    if (!a->busy) return a;
  }
  return nullptr;
}

net::awaitable<void> worker(Shared& s, Lane& lane) {
  while (co_await next_slot(s)) {
    Agent* a = next_free_agent(lane);
    if (a == nullptr) break;  // never: a lane has no more workers than agents
    a->busy = true;
    co_await post_report(s, lane, *a);
    a->busy = false;
  }
  lane.end = std::max(lane.end, Clock::now());
}

// GET /health every interval over its own keep-alive connection until told to stop.
net::awaitable<void> health_probe(Shared& s, Tally& t) {
  auto ex = co_await net::this_coro::executor;
  Connection c(ex, s.ctx, std::chrono::seconds(30));
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(std::max(1.0, s.o.health_interval_ms)));
  net::steady_timer timer(ex);
  for (auto next = Clock::now(); !s.stop_probe.load();) {
    next += interval;
    if (c.is_open() || (co_await c.open(s.target, Credentials{})).empty()) {
      auto req = make_request(http::verb::get, "/health", s.target, "", "", true);
      const auto t0 = Clock::now();
      Answer a = co_await c.exchange(req);
      if (a.status == 200) t.health_us.push_back(us_since(t0));
      else ++t.health_errors;
      if (!a.keep_alive) co_await c.close();
    } else {
      ++t.health_errors;
    }
    timer.expires_at(std::max(next, Clock::now()));
    co_await timer.async_wait(kTok);
  }
  co_await c.close();
}

net::awaitable<void> close_all(Lane& lane) {
  for (Agent* a : lane.agents) {
    if (a->conn) co_await a->conn->close();
    a->conn.reset();
  }
}

std::vector<std::unique_ptr<Agent>> load_agents(const RunOptions& o) {
  std::vector<std::unique_ptr<Agent>> out;
  for (auto& rec : read_fleet(o.fleet_dir, o.agents)) {
    auto a = std::make_unique<Agent>();
    a->index = out.size();
    a->hostname = rec.hostname;
    a->cert = load_cert(o.fleet_dir + "/" + rec.cert_file);
    a->key = load_key(o.fleet_dir + "/" + rec.key_file);
    out.push_back(std::move(a));
  }
  return out;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs the lanes (one thread each) and the probe (its own thread) to the end.
void drive(Shared& s, std::vector<Lane>& lanes, Tally& probe) {
  std::vector<std::thread> threads;
  const std::size_t per_lane = std::max<std::size_t>(1, s.o.connections / lanes.size());
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    threads.emplace_back([&s, &lane = lanes[l], per_lane] {
      net::io_context ioc(1);
      for (std::size_t w = 0; w < std::min(per_lane, lane.agents.size()); ++w)
        net::co_spawn(ioc, worker(s, lane), net::detached);
      ioc.run();
      // --keep-alive: the agents' open connections end while their io_context is alive.
      net::co_spawn(ioc, close_all(lane), net::detached);
      ioc.restart();
      ioc.run();
    });
  }
  net::io_context probe_ioc(1);
  net::co_spawn(probe_ioc, health_probe(s, probe), net::detached);
  std::thread probe_thread([&probe_ioc] { probe_ioc.run(); });
  for (auto& t : threads) t.join();
  s.stop_probe = true;
  probe_thread.join();
}

}  // namespace

int run_load(const RunOptions& o) {
  auto ctx = make_client_context(o.common.ca_file);
  Shared s{o, parse_target(o.common.url), *ctx, {}, {}, {}};
  s.shape = ReportShape{o.seed, o.findings_min, o.findings_max, o.shared_keys, o.shared_fraction, o.changing};
  auto agents = load_agents(o);
  std::vector<Lane> lanes(std::max<std::size_t>(1, std::min(o.threads, agents.size())));
  for (auto& a : agents) lanes[a->index % lanes.size()].agents.push_back(a.get());
  for (std::size_t l = 0; l < lanes.size(); ++l) lanes[l].rng.seed(o.seed * 1000003 + l);
  Tally probe;
  const double cpu0 = cpu_seconds();
  s.start = Clock::now();
  s.deadline = s.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  drive(s, lanes, probe);
  Tally all;
  Clock::time_point end = s.start;
  for (auto& lane : lanes) {
    end = std::max(end, lane.end);
    all.add(std::move(lane.tally));
  }
  all.add(std::move(probe));
  const double secs = std::chrono::duration<double>(end - s.start).count();
  print_run(o, all, secs, cpu_seconds() - cpu0);
  return all.ok > 0 && all.errors.empty() ? 0 : 1;
}

}  // namespace keyward::fleet_load
