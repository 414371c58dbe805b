// SPDX-License-Identifier: Apache-2.0
// The collector's HTTP and TLS layer as a client on the network sees it: request framing
// (smuggling through Transfer-Encoding, folded headers), credentials before a large body,
// connection limits per client and the handshake deadline, /health beside a busy store, read
// rates per token, and AEAD-only TLS 1.2 suites. A real server on 127.0.0.1 (live_server.hpp).
#include "server/http_framing.hpp"

#include "collector/api_fixture.hpp"
#include "collector/live_server.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <chrono>
#include <string>
#include <vector>

using namespace keyward::collector;
using keyward::test::closed_within;
using keyward::test::code_of;
using keyward::test::HttpAnswer;
using keyward::test::LiveCollector;
using keyward::test::tcp_connect;
using keyward::test::TlsClient;
using json = nlohmann::json;
using namespace std::chrono_literals;
using Stage = RequestFramer::Stage;

namespace {

// How many answers (status lines) a stream of bytes holds.
int answers_in(const std::string& bytes) {
  int n = 0;
  for (auto at = bytes.find("HTTP/1.1 "); at != std::string::npos; at = bytes.find("HTTP/1.1 ", at + 1)) ++n;
  return n;
}

int status_of(const std::string& bytes) { return bytes.size() > 12 ? std::stoi(bytes.substr(9, 3)) : 0; }

std::string error_code_in(const std::string& bytes) {
  const auto brace = bytes.find('{');
  if (brace == std::string::npos) return {};
  const auto j = json::parse(bytes.substr(brace, bytes.find('\n', brace) - brace), nullptr, false);
  return j.is_discarded() ? std::string() : j["error"]["code"].get<std::string>();
}

const std::string kSmuggled = "GET /health HTTP/1.1\r\nHost: c\r\n\r\n";

}  // namespace

TEST_CASE("framing: Content-Length and chunked bodies end where they say, and the rest is the next request") {
  auto r = frame_request("POST /x HTTP/1.1\r\nHost: c\r\nContent-Length: 5\r\n\r\nhello" + kSmuggled, 1 << 20);
  CHECK(r.stage == Stage::done);
  CHECK(r.body == "hello");
  CHECK(r.head.content_length == 5u);
  auto chunked = frame_request(
      "POST /x HTTP/1.1\r\nHost: c\r\nTransfer-Encoding:  Chunked \r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: "
      "1\r\n\r\n" +
          kSmuggled,
      1 << 20);
  CHECK(chunked.stage == Stage::done);
  CHECK(chunked.head.chunked);
  CHECK(chunked.body == "abcde");
  const std::string whole = "POST /x HTTP/1.1\r\nHost: c\r\nContent-Length: 5\r\n\r\nhello" + kSmuggled;
  CHECK(whole.substr(frame_request(whole, 1 << 20).used) == kSmuggled);
  // Incomplete: the header or the body waits for more bytes.
  CHECK(frame_request("GET /health HTTP/1.1\r\nHost: c\r\n", 1 << 20).stage == Stage::header);
  CHECK(frame_request("POST /x HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", 1 << 20).stage == Stage::body);
}

TEST_CASE("framing: any Transfer-Encoding but exactly chunked is refused with 400 or 501, as are folded lines") {
  struct Case {
    const char* fields;
    unsigned status;
  };
  const Case cases[] = {
      {"Transfer-Encoding: chunked, identity\r\n", 400},
      {"Transfer-Encoding: gzip, chunked\r\n", 400},
      {"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", 400},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
      {"Transfer-Encoding: chunked,\r\n", 400},
      {"Transfer-Encoding: xchunked\r\n", 501},
      {"Transfer-Encoding: identity\r\n", 501},
      {"Transfer-Encoding: gzip\r\nContent-Length: 3\r\n", 400},
      {"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400},
      {"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400},
      {"X-A: a\r\n b\r\n", 400},
      {"X-A: a\r\n\tb\r\n", 400},
      {"X-A: a\nX-B: b\r\n", 400},
  };
  for (const auto& c : cases) {
    INFO(c.fields);
    const auto r =
        frame_request(std::string("POST /x HTTP/1.1\r\nHost: c\r\n") + c.fields + "\r\n3\r\nabc\r\n0\r\n\r\n", 1 << 20);
    CHECK(r.stage == Stage::refused);
    CHECK(r.refusal.status == c.status);
    CHECK(r.refusal.code == (c.status == 501 ? "not_implemented" : "bad_request"));
  }
  // A bare LF is refused before the header is complete; a header over 16 KiB too.
  CHECK(frame_request("GET / HTTP/1.1\nHost: c", 1 << 20).stage == Stage::refused);
  CHECK(frame_request("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), 1 << 20).stage == Stage::refused);
  // Bodies over the limit: declared, or chunked past it.
  CHECK(frame_request("POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 100).refusal.status == 413);
  CHECK(frame_request("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", 100).refusal.status == 413);
  // A chunk line that never ends is refused at 16 KiB, not buffered on.
  auto endless =
      frame_request("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(20000, 'a'), 1 << 20);
  CHECK(endless.stage == Stage::refused);
  CHECK(endless.refusal.status == 400);
}

TEST_CASE("framing: a header fed a byte at a time frames as when fed at once") {
  const std::string req =
      "POST /x HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + kSmuggled;
  RequestFramer f(1 << 20);
  std::string buffer;
  std::size_t offered = 0;
  while (offered < req.size() && (f.stage() == Stage::header || f.stage() == Stage::body)) {
    buffer += req[offered++];
    buffer.erase(0, f.feed(buffer));
  }
  CHECK(f.stage() == Stage::done);
  CHECK(f.take_body() == "abc");
  CHECK(req.substr(offered - buffer.size()) == kSmuggled);
  // A folded line split over two reads is still seen.
  RequestFramer g(1 << 20);
  std::string in = "GET / HTTP/1.1\r\nX: a\r\n";
  CHECK(g.feed(in) == 0);
  in += " b\r\n\r\n";
  g.feed(in);
  CHECK(g.stage() == Stage::refused);
}

TEST_CASE("a request smuggled behind a Transfer-Encoding that is not exactly chunked is never answered") {
  LiveCollector c;
  struct Case {
    const char* coding;
    int status;
    const char* code;
  };
  const Case cases[] = {{"chunked, identity", 400, "bad_request"},
                        {"xchunked", 501, "not_implemented"},
                        {"identity", 501, "not_implemented"}};
  for (const auto& k : cases) {
    INFO(k.coding);
    TlsClient t(c.port());
    REQUIRE(t.connected());
    // Read as no body, "0\r\n\r\n" would be garbage and the GET a second request on the connection.
    REQUIRE(t.send(std::string("POST /api/v1/hosts HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: ") + k.coding +
                   "\r\n\r\n0\r\n\r\n" + kSmuggled));
    const std::string answer = t.read_all(3000ms);
    CHECK(answers_in(answer) == 1);
    CHECK(status_of(answer) == k.status);
    CHECK(error_code_in(answer) == k.code);
  }
  // A folded header line: 400, and the connection closes.
  TlsClient t(c.port());
  REQUIRE(t.send("GET /health HTTP/1.1\r\nHost: c\r\nX-Folded: a\r\n b\r\n\r\n" + kSmuggled));
  const std::string answer = t.read_all(3000ms);
  CHECK(answers_in(answer) == 1);
  CHECK(status_of(answer) == 400);
  // Pipelined requests with proper framing are both answered.
  TlsClient ok(c.port());
  REQUIRE(ok.send("POST /api/v1/enrollment-tokens HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer " + c.admin +
                  "\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + kSmuggled));
  CHECK(ok.read_answer().status == 201);
  CHECK(ok.read_answer().status == 200);
}

TEST_CASE("a large body is not read before the header's credentials are accepted") {
  LiveCollector c;
  const std::string thirty_mib = std::to_string(30u << 20);
  auto refused_at_once = [&](const std::string& header, int status, const std::string& code,
                             const keyward::test::ClientIdentity* identity = nullptr) {
    INFO(header.substr(0, header.find('\r')));
    TlsClient::Options o;
    o.identity = identity;
    TlsClient t(c.port(), o);
    REQUIRE(t.connected());
    const auto t0 = std::chrono::steady_clock::now();
    // The header and a few bytes of the body: the answer comes without the rest.
    REQUIRE(t.send(header + std::string(100, '{')));
    const HttpAnswer a = t.read_answer(3000ms);
    CHECK(a.status == status);
    if (a.status != 0) CHECK(json::parse(a.body)["error"]["code"] == code);
    CHECK(std::chrono::steady_clock::now() - t0 < 3000ms);
    CHECK(t.closed_by_peer(2000ms));
  };
  refused_at_once("POST /api/v1/reports HTTP/1.1\r\nHost: c\r\nContent-Length: " + thirty_mib + "\r\n\r\n", 401,
                  "unauthenticated");
  refused_at_once("POST /api/v1/tokens HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer " + c.viewer +
                      "\r\nTransfer-Encoding: chunked\r\n\r\n",
                  403, "forbidden");
  refused_at_once("POST /api/v1/enroll HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer kwe_unknown\r\nContent-Length: " +
                      thirty_mib + "\r\n\r\n",
                  401, "unauthenticated");
  refused_at_once("GET /health HTTP/1.1\r\nHost: c\r\nContent-Length: " + thirty_mib + "\r\n\r\n", 413, "too_large");
  auto [revoked, revoked_id] = keyward::test::enrolled_agent(c);
  REQUIRE(c.store->revoke_agent(revoked_id, Actor{"cli:test", std::nullopt}, std::time(nullptr)).has_value());
  refused_at_once("POST /api/v1/reports HTTP/1.1\r\nHost: c\r\nContent-Length: " + thirty_mib + "\r\n\r\n", 403,
                  "revoked", &revoked);

  // With credentials, the large body is read: "100 Continue" first when asked, then the answer.
  auto [agent, agent_id] = keyward::test::enrolled_agent(c);
  TlsClient::Options o;
  o.identity = &agent;
  TlsClient t(c.port(), o);
  const std::string body(100 * 1024, ' ');
  REQUIRE(t.send("POST /api/v1/reports HTTP/1.1\r\nHost: c\r\nExpect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  CHECK(t.read_answer().status == 100);
  const HttpAnswer a = t.request(body);
  CHECK(a.status == 400);  // read and parsed: not a report
  TlsClient admin(c.port());
  const std::string create = R"({"role": "viewer", "name": "padded"})" + body;
  CHECK(admin
            .request("POST /api/v1/tokens HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer " + c.admin +
                     "\r\nContent-Length: " + std::to_string(create.size()) + "\r\n\r\n" + create)
            .status == 201);
}

TEST_CASE("preauthorize answers from the header alone: who may send a body to which route") {
  keyward::test::Collector c;
  CHECK(c.api->preauthorize("POST", "/api/v1/reports", "", std::nullopt)->status == 401);
  CHECK(c.api->preauthorize("POST", "/api/v1/tokens", "Bearer " + c.viewer, std::nullopt)->status == 403);
  CHECK_FALSE(c.api->preauthorize("POST", "/api/v1/tokens", "Bearer " + c.admin, std::nullopt));
  CHECK(c.api->preauthorize("POST", "/api/v1/nothing", "Bearer " + c.admin, std::nullopt)->status == 404);
  CHECK(c.api->preauthorize("DELETE", "/api/v1/tokens", "Bearer " + c.admin, std::nullopt)->status == 405);
  CHECK(c.api->preauthorize("GET", "/health", "", std::nullopt)->status == 413);
  CHECK(c.api->preauthorize("POST", "/api/v1/enroll", "Bearer kwe_nope", std::nullopt)->status == 401);
  const auto tok = json::parse(c.call("POST", "/api/v1/enrollment-tokens", c.admin).body);
  CHECK_FALSE(
      c.api->preauthorize("POST", "/api/v1/enroll", "Bearer " + tok["secret"].get<std::string>(), std::nullopt));
  auto [id, cert] = c.enroll();
  CHECK_FALSE(c.api->preauthorize("POST", "/api/v1/reports", "", cert));
  CHECK(c.api->preauthorize("POST", "/api/v1/tokens", "Bearer " + c.admin, cert)->status == 403);
  CHECK(Api::store_free("GET", "/health"));
  CHECK_FALSE(Api::store_free("GET", "/api/v1/hosts"));
  CHECK_FALSE(Api::store_free("GET", "/ready"));  // it asks the store
}

TEST_CASE("one client cannot hold every connection: its extra connections close, another client is served") {
  LiveCollector c([](Limits& l) {
    l.max_connections = 8;
    l.max_connections_per_client = 3;
  });
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(tcp_connect(c.port()));
  int closed = 0;
  for (int fd : idle) closed += closed_within(fd, 500ms) ? 1 : 0;
  CHECK(closed == 5);  // 3 idle connections held by 127.0.0.1, the others refused
  // 127.0.0.2 is another client: the idle ones did not take its connections.
  TlsClient::Options other;
  other.source = "127.0.0.2";
  TlsClient t(c.port(), other);
  REQUIRE(t.connected());
  CHECK(t.request("GET /health HTTP/1.1\r\nHost: c\r\n\r\n").status == 200);
  for (int fd : idle) ::close(fd);
}

TEST_CASE("a connection that does not finish its first request's header within the handshake deadline is closed") {
  LiveCollector c([](Limits& l) {
    l.handshake_timeout_seconds = 1;
    l.request_timeout_seconds = 30;
  });
  // Not even a TLS hello.
  const int fd = tcp_connect(c.port());
  CHECK(closed_within(fd, 3000ms));
  ::close(fd);
  // A handshake and half a header.
  TlsClient half(c.port());
  REQUIRE(half.connected());
  REQUIRE(half.send("GET /health HTTP/1.1\r\n"));
  CHECK(closed_within(half.fd(), 3000ms));
  // After a first request, an idle keep-alive connection has request_timeout_seconds.
  TlsClient kept(c.port());
  CHECK(kept.request("GET /health HTTP/1.1\r\nHost: c\r\n\r\n").status == 200);
  std::this_thread::sleep_for(1500ms);
  CHECK(kept.request("GET /health HTTP/1.1\r\nHost: c\r\n\r\n").status == 200);
}

TEST_CASE("/health answers within 200 ms while store work fills the work pool") {
  LiveCollector c;
  // Another connection holds SQLite's write lock: writes wait in the store (busy timeout 5 s).
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(c.config.database.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string create = R"({"role": "viewer", "name": "w"})";
  const std::string post = "POST /api/v1/tokens HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer " + c.admin +
                           "\r\nContent-Length: " + std::to_string(create.size()) + "\r\n\r\n" + create;
  TlsClient w1(c.port()), w2(c.port()), h(c.port());
  REQUIRE(w1.send(post));
  REQUIRE(w2.send(post));
  std::this_thread::sleep_for(300ms);  // both pool threads now wait on the store
  const auto t0 = std::chrono::steady_clock::now();
  const HttpAnswer health = h.request("GET /health HTTP/1.1\r\nHost: c\r\n\r\n");
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(health.status == 200);
  CHECK(took < 200ms);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  CHECK(w1.read_answer().status == 201);
  CHECK(w2.read_answer().status == 201);
}

TEST_CASE("reads are limited per API token: 429 with Retry-After past limits.reads_per_minute") {
  keyward::test::Collector c;
  c.config.limits.reads_per_minute = 3;
  c.api = std::make_unique<Api>(*c.store, *c.ca, c.config, c.metrics);
  for (int i = 0; i < 3; ++i) CHECK(c.call("GET", "/api/v1/hosts", c.viewer).status == 200);
  const auto r = c.call("GET", "/api/v1/findings", c.viewer);
  CHECK(r.status == 429);
  CHECK(code_of(r) == "rate_limited");
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after = retry_after || (k == "Retry-After" && std::stoi(v) >= 1);
  CHECK(retry_after);
  CHECK(c.metrics.reads_rate_limited == 1);
  // Per token: the admin's reads are not counted with the viewer's; changes are not reads.
  CHECK(c.call("GET", "/api/v1/hosts", c.admin).status == 200);
  CHECK(c.call("POST", "/api/v1/enrollment-tokens", c.admin).status == 201);
  CHECK(c.call("GET", "/health").status == 200);
}

TEST_CASE("TLS 1.2 offers AEAD suites only: a CBC-only client fails the handshake, GCM and ChaCha20 succeed") {
  LiveCollector c;
  for (const char* cbc : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256"}) {
    INFO(cbc);
    TlsClient::Options o;
    o.tls12_ciphers = cbc;
    CHECK_FALSE(TlsClient(c.port(), o).connected());
  }
  for (const char* aead : {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"}) {
    INFO(aead);
    TlsClient::Options o;
    o.tls12_ciphers = aead;
    TlsClient t(c.port(), o);
    REQUIRE(t.connected());
    CHECK(t.cipher() == aead);
    CHECK(t.request("GET /health HTTP/1.1\r\nHost: c\r\n\r\n").status == 200);
  }
}

TEST_CASE("the new limits load from collector.yaml, have their defaults, and init writes them") {
  keyward::test::TempTree dir;
  const std::string path = dir.write("c.yaml",
                                     "limits:\n  reads_per_minute: 7\n  handshake_timeout_seconds: 3\n"
                                     "  max_connections_per_client: 5\n");
  const Config c = load_config(path);
  CHECK(c.limits.reads_per_minute == 7);
  CHECK(c.limits.handshake_timeout_seconds == 3);
  CHECK(c.limits.max_connections_per_client == 5);
  const Config d = load_config(dir.write("d.yaml", "listen: 127.0.0.1:1\n"));
  CHECK(d.limits.handshake_timeout_seconds < d.limits.request_timeout_seconds);
  CHECK(d.limits.max_connections_per_client < d.limits.max_connections);
  CHECK(d.limits.reads_per_minute >= 60);
  const Config back = load_config(dir.write("e.yaml", config_to_yaml(c)));
  CHECK(back.limits.reads_per_minute == 7);
  CHECK(back.limits.handshake_timeout_seconds == 3);
  CHECK(back.limits.max_connections_per_client == 5);
  CHECK_THROWS_WITH_AS(load_config(dir.write("f.yaml", "limits:\n  max_connections_per_client: 0\n")),
                       doctest::Contains("limits.max_connections_per_client"), std::runtime_error);
}
