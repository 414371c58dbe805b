// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load enroll: makes the fleet's agent identities once. Per agent an EC P-256
// key and a CSR, then with the admin token: an enrollment token, the enrollment (the CSR, the
// enrollment token as bearer) and the agent's approval. Writes DIR/agents.json and per agent
// DIR/agents/<n>.key (0600) and DIR/agents/<n>.pem; C enrollments at once over keep-alive.
// Must never print a token (the admin's or an enrollment token) or a key: errors name the
// request, its status and the collector's error code, never a body that may hold a secret.
#include "fleet_load.hpp"
#include "http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace keyward::fleet_load {
namespace {

using json = nlohmann::json;

struct EnrollJob {
  const EnrollOptions& o;
  Target target;
  ssl::context& ctx;
  std::string admin;  // the admin token (wiped at the end)
  std::vector<AgentRecord> agents;
  std::size_t next = 0;
  std::size_t done = 0;
  std::string failure;  // the first failure; set: every worker stops
};

// The collector's error code of a refusal (never the body: it may echo nothing secret, but a
// 201 body holds a token).
std::string error_code(const Answer& a) {
  if (!a.failed.empty()) return a.failed;
  const auto j = json::parse(a.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("code"))
    return fmt::format("{} {}", a.status, j["error"]["code"].dump());
  return std::to_string(a.status);
}

// One request over the worker's keep-alive connection; a broken connection is opened again
// (at most three attempts in all).
net::awaitable<Answer> call(Connection& c, EnrollJob& j, http::verb verb, const std::string& path, std::string body,
                            const std::string& bearer) {
  Answer a;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!c.is_open()) {
      a.failed = co_await c.open(j.target, Credentials{});
      if (!a.failed.empty()) continue;
    }
    auto req = make_request(verb, path, j.target, body, bearer, true);
    a = co_await c.exchange(req);
    if (a.failed.empty()) {
      if (!a.keep_alive) co_await c.close();
      co_return a;
    }
  }
  co_return a;
}

// A field of a 201 answer's JSON body; throws naming the request when it is missing.
std::string field_of(const std::string& body, const char* name, const char* what) {
  const auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains(name) || !j[name].is_string())
    throw std::runtime_error(std::string(what) + ": the answer has no " + name);
  return j[name].get<std::string>();
}

net::awaitable<void> enroll_one(Connection& c, EnrollJob& j, std::size_t i) {
  PkeyPtr key = new_agent_key();
  AgentRecord rec;
  rec.hostname = fmt::format("load-{:05}.bench.invalid", i);
  const std::string csr = make_csr_pem(key.get(), rec.hostname);
  Answer tok = co_await call(c, j, http::verb::post, "/api/v1/enrollment-tokens", R"({"ttl_seconds":3600})", j.admin);
  if (tok.status != 201) throw std::runtime_error("POST /api/v1/enrollment-tokens: " + error_code(tok));
  std::string secret = field_of(tok.body, "secret", "POST /api/v1/enrollment-tokens");
  wipe(tok.body);
  const json body{{"csr", csr}, {"hostname", rec.hostname}, {"os", "Debian GNU/Linux 12 (bookworm)"}};
  Answer en = co_await call(c, j, http::verb::post, "/api/v1/enroll", body.dump(), secret);
  wipe(secret);
  if (en.status != 201) throw std::runtime_error("POST /api/v1/enroll: " + error_code(en));
  rec.id = field_of(en.body, "agent_id", "POST /api/v1/enroll");
  const std::string cert = field_of(en.body, "certificate", "POST /api/v1/enroll");
  Answer ap = co_await call(c, j, http::verb::post, "/api/v1/agents/" + rec.id + "/approve", "{}", j.admin);
  if (ap.status < 200 || ap.status > 299)
    throw std::runtime_error("POST /api/v1/agents/{id}/approve: " + error_code(ap));
  rec.key_file = fmt::format("agents/{}.key", i);
  rec.cert_file = fmt::format("agents/{}.pem", i);
  write_key_file(key.get(), j.o.out_dir + "/" + rec.key_file);
  write_text_file(j.o.out_dir + "/" + rec.cert_file, cert);
  j.agents[i] = std::move(rec);
}

net::awaitable<void> enroll_worker(EnrollJob& j) {
  Connection c(co_await net::this_coro::executor, j.ctx, std::chrono::seconds(60));
  while (j.failure.empty() && j.next < j.agents.size()) {
    const std::size_t i = j.next++;
    try {
      co_await enroll_one(c, j, i);
    } catch (const std::exception& e) {
      if (j.failure.empty()) j.failure = fmt::format("agent {}: {}", i, e.what());
      co_return;
    }
    if (++j.done % 1000 == 0) std::fprintf(stderr, "enroll: %zu of %zu agents\n", j.done, j.agents.size());
  }
  co_await c.close();
}

}  // namespace

int run_enroll(const EnrollOptions& o) {
  const Target target = parse_target(o.common.url);
  auto ctx = make_client_context(o.common.ca_file);
  ::mkdir(o.out_dir.c_str(), 0700);
  if (::mkdir((o.out_dir + "/agents").c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create " + o.out_dir + "/agents");
  EnrollJob j{o, target, *ctx, read_token_file(o.admin_token_file), std::vector<AgentRecord>(o.agents), 0, 0, {}};
  const auto t0 = std::chrono::steady_clock::now();
  net::io_context ioc(1);
  for (std::size_t w = 0; w < std::max<std::size_t>(1, std::min(o.connections, o.agents)); ++w)
    net::co_spawn(ioc, enroll_worker(j), net::detached);
  ioc.run();
  wipe(j.admin);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!j.failure.empty()) {
    std::fprintf(stderr, "enroll failed after %zu agents: %s\n", j.done, j.failure.c_str());
    return 1;
  }
  write_fleet(o.out_dir, j.agents);
  std::printf("enrolled and approved %zu agents in %.1f s (%.0f/s, %zu connections); fleet in %s\n", j.done, s,
              static_cast<double>(j.done) / s, o.connections, o.out_dir.c_str());
  return 0;
}

}  // namespace keyward::fleet_load
