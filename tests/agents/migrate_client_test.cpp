// SPDX-License-Identifier: Apache-2.0
// The agent's migration client against a scripted HTTPS collector on loopback (the test PKI of
// tls_fixture.hpp): results the collector cannot take wait in the local file and go first on the
// next round, before anything is fetched or run; a refused result is kept aside; a token that
// cannot be opened posts nothing. The end to end run with a real collector and a real SoftHSM2
// token is tests/integration/check_migration.py.
#include "migrate_client.hpp"

#include "support/temp_tree.hpp"
#include "tls_fixture.hpp"

#include <doctest/doctest.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>

#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace t = keyward::test;
using namespace keyward::agent;
namespace mg = keyward::migrate;

namespace {

// One HTTPS request at a time; answers from a table of "METHOD /path" -> (status, body).
class FakeCollector {
 public:
  explicit FakeCollector(const t::TestPki& pki) : ctx_(SSL_CTX_new(TLS_server_method())) {
    SSL_CTX_use_certificate_chain_file(ctx_, pki.path("server.pem").c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, pki.path("server.key").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_load_verify_locations(ctx_, pki.path("ca.pem").c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    listen_ = t::listen_loopback(port_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeCollector() {
    ::shutdown(listen_, SHUT_RDWR);
    ::close(listen_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  void answer(const std::string& route, int status, std::string body) {
    std::lock_guard lock(mu_);
    answers_[route] = {status, std::move(body)};
  }
  // "METHOD /path" of each request, in order, and the bodies posted.
  std::vector<std::string> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  void serve() {
    for (;;) {
      const int c = ::accept(listen_, nullptr, nullptr);
      if (c < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) one(ssl);
      SSL_shutdown(ssl);
      SSL_free(ssl);
      ::close(c);
    }
  }
  void one(SSL* ssl) {
    std::string in;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (need == std::string::npos || in.size() < need) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      const auto end = in.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        std::size_t length = 0;
        const auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(in.substr(cl + 16));
        need = end + 4 + length;
      }
    }
    const std::string route = in.substr(0, in.find(" HTTP/"));
    std::pair<int, std::string> a{404, R"({"error": {"code": "not_found", "message": "no route"}})"};
    {
      std::lock_guard lock(mu_);
      seen_.push_back(route);
      bodies_.push_back(in.substr(in.find("\r\n\r\n") + 4));
      if (answers_.count(route)) a = answers_[route];
    }
    const std::string out = "HTTP/1.1 " + std::to_string(a.first) +
                            " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                            std::to_string(a.second.size()) + "\r\n\r\n" + a.second;
    SSL_write(ssl, out.data(), static_cast<int>(out.size()));
  }

  SSL_CTX* ctx_;
  int listen_ = -1, port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<int, std::string>> answers_;
  std::vector<std::string> seen_, bodies_;
};

TlsClientOptions mutual(const t::TestPki& pki) {
  TlsClientOptions o;
  o.ca_file = pki.path("ca.pem");
  o.cert_file = pki.path("client.pem");
  o.key_file = pki.path("client.key");
  o.timeout = std::chrono::seconds(10);
  return o;
}

mg::PlanItem approved_item(const std::string& id) {
  mg::PlanItem item;
  item.id = id;
  item.identity = "spki:" + std::string(64, 'a');
  item.algorithm = "ec-p256";
  item.state = mg::ItemState::approved;
  item.target = {"softhsm2", "codesign", "kw-" + id, "policy rule any"};
  item.migrate_on.host = "build-1";
  item.migrate_on.path = "/srv/app/deploy.pem";
  item.places = {item.migrate_on};
  return item;
}

mg::ItemResult result_of(const mg::PlanItem& item, mg::Outcome outcome) {
  mg::ItemResult r;
  r.item_id = item.id;
  r.identity = item.identity;
  r.host = "build-1";
  r.outcome = outcome;
  r.message = "test";
  return r;
}

std::size_t lines_in(const std::string& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) n += l.empty() ? 0 : 1;
  return n;
}

std::string items_body(const std::vector<mg::PlanItem>& items) {
  nlohmann::json j = {{"items", nlohmann::json::array()}};
  for (const auto& i : items) j["items"].push_back(mg::item_to_json(i));
  return j.dump();
}

}  // namespace

TEST_CASE("a result the collector cannot take waits in the local file and goes first, before anything new runs") {
  const auto& pki = t::TestPki::get();
  t::TempTree state;
  const std::string queue = state.path("migration-results.jsonl");
  const auto first = approved_item("00000000000000a1"), second = approved_item("00000000000000b2");
  int runs = 0;
  const RunItem run = [&](const mg::PlanItem& item) {
    ++runs;
    return result_of(item, mg::Outcome::done);
  };

  // The collector is down: the result is queued; a round then runs nothing.
  MigrationClient offline(mutual(pki), "https://127.0.0.1:" + std::to_string(t::free_port()), queue, [](auto) {});
  MigrationRound r0;
  offline.post(result_of(first, mg::Outcome::done), r0);
  CHECK(r0.queued == 1);
  CHECK(lines_in(queue) == 1);
  const MigrationRound r1 = offline.round(run);
  CHECK(runs == 0);
  CHECK_FALSE(r1.reached);
  CHECK(r1.queued == 1);
  CHECK(lines_in(queue) == 1);

  // Up again: the queued result is posted first, then the list is fetched and the new item run.
  FakeCollector fake(pki);
  fake.answer("POST /api/v1/agent/migrations/00000000000000a1/result", 200, "{}");
  fake.answer("POST /api/v1/agent/migrations/00000000000000b2/result", 200, "{}");
  fake.answer("GET /api/v1/agent/migrations", 200, items_body({second}));
  MigrationClient online(mutual(pki), fake.url(), queue, [](auto) {});
  const MigrationRound r2 = online.round(run);
  CHECK(r2.reached);
  CHECK(runs == 1);
  CHECK(r2.done == 1);
  CHECK(r2.sent == 2);
  CHECK(r2.queued == 0);
  CHECK(lines_in(queue) == 0);
  const std::string b2 = "POST /api/v1/agent/migrations/00000000000000b2/result";
  CHECK(fake.seen() == std::vector<std::string>{"POST /api/v1/agent/migrations/00000000000000a1/result",
                                                "GET /api/v1/agent/migrations", b2, b2});
  // The start (no finished_at: the collector marks the item running), then the result.
  const auto start = mg::result_from_json(nlohmann::json::parse(fake.bodies()[2]));
  CHECK(start.item_id == second.id);
  CHECK(start.finished_at.empty());
  const auto posted = mg::result_from_json(nlohmann::json::parse(fake.bodies()[3]));
  CHECK(posted.item_id == second.id);
  CHECK(posted.outcome == mg::Outcome::done);
}

TEST_CASE(
    "a result the collector refuses is kept aside, an item it will not start is not run, a dry run posts nothing") {
  const auto& pki = t::TestPki::get();
  t::TempTree state;
  const std::string queue = state.path("migration-results.jsonl");
  const auto item = approved_item("00000000000000c3");
  MigrationClient offline(mutual(pki), "https://127.0.0.1:" + std::to_string(t::free_port()), queue, [](auto) {});
  MigrationRound r0;
  offline.post(result_of(item, mg::Outcome::failed), r0);
  REQUIRE(lines_in(queue) == 1);

  FakeCollector fake(pki);
  fake.answer("GET /api/v1/agent/migrations", 200, items_body({item}));
  fake.answer("POST /api/v1/agent/migrations/00000000000000c3/result", 409,
              R"({"error": {"code": "conflict", "message": "plan item is running already"}})");
  MigrationClient client(mutual(pki), fake.url(), queue, [](auto) {});
  int runs = 0;
  const MigrationRound r = client.round([&](const mg::PlanItem& i) {
    ++runs;
    return result_of(i, mg::Outcome::done);
  });
  CHECK(r.reached);
  CHECK(runs == 0);        // the collector refused its start
  CHECK(r.rejected == 2);  // the queued result, and the start
  CHECK(lines_in(queue) == 0);
  CHECK(lines_in(queue + ".rejected") == 1);

  const std::size_t before = fake.seen().size();
  const MigrationRound dry = client.round(
      [&](const mg::PlanItem& i) {
        ++runs;
        return result_of(i, mg::Outcome::dry_run);
      },
      true);
  CHECK(runs == 1);
  CHECK(dry.dry_run == 1);
  CHECK(fake.seen().size() == before + 1);  // the GET only
  CHECK(fake.seen().back() == "GET /api/v1/agent/migrations");
}

TEST_CASE("a token that cannot be opened ends the round: nothing is announced or posted, the item stays approved") {
  const auto& pki = t::TestPki::get();
  t::TempTree state;
  FakeCollector fake(pki);
  fake.answer("GET /api/v1/agent/migrations", 200, items_body({approved_item("00000000000000d4")}));
  MigrationClient client(mutual(pki), fake.url(), state.path("migration-results.jsonl"), [](auto) {});
  MigrateSection m;
  m.module = state.path("no-such-module.so");
  m.token = "codesign";
  m.pin_source = "env:KEYWARD_TEST_UNSET_PIN_VARIABLE";
  const MigrationRound r = run_migrations(client, m, TokenRunOptions{});
  CHECK(r.reached);
  CHECK(r.items == 1);
  CHECK(r.sent + r.queued + r.rejected == 0);
  CHECK(r.error.find("KEYWARD_TEST_UNSET_PIN_VARIABLE") != std::string::npos);
  CHECK(fake.seen() == std::vector<std::string>{"GET /api/v1/agent/migrations"});
}

TEST_CASE("a done item's copies on this host are cleaned without the token, and only its result is posted") {
  const auto& pki = t::TestPki::get();
  t::TempTree state;
  auto item = approved_item("00000000000000d4");
  item.state = mg::ItemState::done;
  FakeCollector fake(pki);
  fake.answer("GET /api/v1/agent/migrations", 200, items_body({item}));
  fake.answer("POST /api/v1/agent/migrations/00000000000000d4/result", 200, "{}");
  MigrationClient client(mutual(pki), fake.url(), state.path("migration-results.jsonl"), [](auto) {});
  int runs = 0, opens = 0, cleans = 0;
  const RunItem run = [&](const mg::PlanItem& i) {
    ++runs;
    return result_of(i, mg::Outcome::done);
  };
  const RunItem clean = [&](const mg::PlanItem& i) {
    ++cleans;
    auto r = result_of(i, mg::Outcome::done);
    r.cleanups.push_back({i.migrate_on.path, true, {}});
    return r;
  };
  const MigrationRound r = client.round(
      run, false, [&] { ++opens; }, clean);
  CHECK(cleans == 1);
  CHECK(runs == 0);
  CHECK(opens == 0);  // no token for a clean-up
  CHECK(r.cleaned == 1);
  CHECK(r.sent == 1);
  REQUIRE(fake.seen().size() == 2);
  CHECK(fake.seen()[1] == "POST /api/v1/agent/migrations/00000000000000d4/result");
  CHECK(mg::result_from_json(nlohmann::json::parse(fake.bodies()[1])).cleanups.size() == 1);

  // Without a clean-up to report (remove_source off), nothing is posted.
  const std::size_t before = fake.seen().size();
  const MigrationRound off =
      client.round(run, false, {}, [&](const mg::PlanItem& i) { return result_of(i, mg::Outcome::refused); });
  CHECK(off.cleaned == 0);
  CHECK(fake.seen().size() == before + 1);  // the GET only
}
