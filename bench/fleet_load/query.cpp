// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load query: times the inventory reads a dashboard makes (keys, critical
// findings, hosts, overview, plan, and the CBOM when asked) R times each over one keep-alive
// connection with a bearer token; prints p50/p99/max per endpoint.
// Must never print the token: it is read from a file, sent in a header and wiped at the end.
#include "fleet_load.hpp"
#include "http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>

namespace keyward::fleet_load {
namespace {

using Clock = std::chrono::steady_clock;

struct Endpoint {
  std::string path;
  std::vector<double> us;
  std::map<std::string, std::uint64_t> errors;
  std::size_t bytes = 0;  // of the last answer
};

net::awaitable<void> query_all(const Target& target, ssl::context& ctx, const std::string& token, std::size_t rounds,
                               std::vector<Endpoint>& eps) {
  Connection c(co_await net::this_coro::executor, ctx, std::chrono::seconds(300));
  for (auto& ep : eps) {
    for (std::size_t r = 0; r < rounds; ++r) {
      if (!c.is_open()) {
        const std::string failed = co_await c.open(target, Credentials{});
        if (!failed.empty()) {
          ++ep.errors[failed];
          continue;
        }
      }
      auto req = make_request(http::verb::get, ep.path, target, "", token, true);
      const auto t0 = Clock::now();
      Answer a = co_await c.exchange(req);
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (!a.keep_alive) co_await c.close();
      if (a.status == 200) {
        ep.us.push_back(us);
        ep.bytes = a.body.size();
      } else {
        ++ep.errors[a.failed.empty() ? std::to_string(a.status) : a.failed];
      }
    }
  }
  co_await c.close();
}

}  // namespace

int run_query(const QueryOptions& o) {
  const Target target = parse_target(o.common.url);
  auto ctx = make_client_context(o.common.ca_file);
  std::vector<Endpoint> eps;
  for (const char* p :
       {"/api/v1/keys", "/api/v1/findings?severity=critical", "/api/v1/hosts", "/api/v1/overview", "/api/v1/plan"})
    eps.push_back({p, {}, {}, 0});
  if (o.cbom) eps.push_back({"/api/v1/cbom", {}, {}, 0});
  std::string token = read_token_file(o.token_file);
  net::io_context ioc(1);
  net::co_spawn(ioc, query_all(target, *ctx, token, o.rounds, eps), net::detached);
  ioc.run();
  wipe(token);
  bool errors = false;
  nlohmann::json out = nlohmann::json::object();
  if (!o.json)
    std::printf("%-36s %6s %9s %9s %9s %10s  %s\n", "endpoint", "ok", "p50 ms", "p99 ms", "max ms", "bytes", "errors");
  for (auto& ep : eps) {
    const Summary s = summarise(ep.us);
    errors = errors || !ep.errors.empty();
    std::string errs;
    for (const auto& [k, v] : ep.errors) errs += " " + k + " x" + std::to_string(v);
    if (o.json)
      out[ep.path] = {{"ok", s.count},      {"p50_ms", s.p50_ms}, {"p99_ms", s.p99_ms},
                      {"max_ms", s.max_ms}, {"bytes", ep.bytes},  {"errors", ep.errors}};
    else
      std::printf("%-36s %6zu %9.2f %9.2f %9.2f %10zu %s\n", ep.path.c_str(), s.count, s.p50_ms, s.p99_ms, s.max_ms,
                  ep.bytes, errs.c_str());
  }
  if (o.json) std::printf("%s\n", out.dump().c_str());
  return errors ? 1 : 0;
}

}  // namespace keyward::fleet_load
