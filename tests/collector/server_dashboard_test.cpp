// SPDX-License-Identifier: Apache-2.0
// What the dashboard (docs/dashboard.md) needs from the collector: GET /api/v1/whoami and
// /api/v1/overview, one key's places and history (?identity=), the file server under /ui/ (types,
// security headers, 404 for unknown names and traversal, HEAD, 405), and the same over TLS from a
// real server on 127.0.0.1, where a HEAD answer must keep the connection's framing.
#include "server/security_headers.hpp"
#include "server/ui_files.hpp"

#include "collector/api_fixture.hpp"
#include "collector/live_server.hpp"
#include "collector/store_fixture.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <set>
#include <string>
#include <vector>

using namespace keyward::collector;
using keyward::test::Collector;
using keyward::test::LiveCollector;
using keyward::test::TempTree;
using keyward::test::TlsClient;
using json = nlohmann::json;

namespace {

constexpr std::int64_t kDay = 86400;

std::string header(const ApiResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

// An approved agent of hostname; its id.
std::string approved_agent(Collector& c, const std::string& hostname) {
  auto [id, cert] = c.enroll(hostname);
  REQUIRE(c.call("POST", "/api/v1/agents/" + id + "/approve", c.admin).status == 200);
  return id;
}

void ingest(Collector& c, const std::string& agent_id, std::vector<keyward::scanner::Finding> findings,
            std::int64_t at) {
  c.store->ingest(*c.store->agent(agent_id), keyward::test::report(std::move(findings)), at);
}

keyward::scanner::Finding with_algorithm(keyward::scanner::Finding f, const std::string& algorithm,
                                         std::optional<std::uint32_t> bits) {
  f.key->algorithm = algorithm;
  f.key->bits = bits;
  f.key->curve.clear();
  return f;
}

json get_json(Collector& c, const std::string& target, const std::string& token) {
  const ApiResponse r = c.call("GET", target, token);
  REQUIRE_MESSAGE(r.status == 200, target, " ", r.body);
  return json::parse(r.body);
}

// A dashboard directory: the three files, and files that must never be served.
struct UiDir {
  TempTree dir;
  UiDir() {
    dir.write("ui/index.html", "<!doctype html><title>k</title>");
    dir.write("ui/app.js", "export const x = 1;\n");
    dir.write("ui/app.css", "body { margin: 0 }\n");
    dir.write("ui/notes.key", "not a dashboard file");
    dir.write("ui/.hidden.js", "hidden");
    dir.write("ui/sub/inner.js", "inner");
    dir.write("collector.yaml", "outside the dashboard");
  }
  std::string path() const { return dir.path("ui"); }
};

}  // namespace

TEST_CASE("whoami names the calling token's role, name and principal, and never its secret") {
  Collector c;
  const json made = keyward::test::make_token(c, {{"role", "analyst"}, {"name", "laptop"}, {"principal", "alice"}});
  const std::string secret = made["secret"];
  const ApiResponse r = c.call("GET", "/api/v1/whoami", secret);
  REQUIRE(r.status == 200);
  const json me = json::parse(r.body);
  CHECK(me["role"] == "analyst");
  CHECK(me["name"] == "laptop");
  CHECK(me["principal"] == "alice");
  CHECK(me["token_id"] == made["id"]);
  CHECK(me["expires_at"].is_string());
  CHECK(r.body.find(secret) == std::string::npos);
  CHECK(r.body.find(secret.substr(4, 20)) == std::string::npos);
  CHECK(json::parse(c.call("GET", "/api/v1/whoami", c.viewer).body)["role"] == "viewer");
  CHECK(c.call("GET", "/api/v1/whoami").status == 401);
  CHECK(c.call("GET", "/api/v1/whoami", "kwt_unknown").status == 401);
  CHECK(c.call("POST", "/api/v1/whoami", c.viewer).status == 405);
}

TEST_CASE("the overview counts hosts, keys, new keys, expiring certificates and quantum-vulnerable keys") {
  Collector c;
  const std::int64_t now = std::time(nullptr);
  const std::string old_host = approved_agent(c, "old-host");
  const std::string new_host = approved_agent(c, "new-host");
  approved_agent(c, "quiet-host");
  using keyward::test::cert_finding;
  using keyward::test::key_finding;
  // Key 1 (ECDSA) sits on both hosts, first seen a month ago; key 2 (ECDSA) has a certificate
  // expiring in 20 days; key 3 is RSA, key 4 ML-DSA-65 (quantum-safe), both new this week.
  ingest(c, old_host, {key_finding("f1", "/srv/shared.pem", 1)}, now - 30 * kDay);
  ingest(c, new_host,
         {key_finding("f2", "/srv/shared.pem", 1), cert_finding("f3", "/srv/web.crt", 2, now + 20 * kDay),
          with_algorithm(key_finding("f4", "/srv/rsa.pem", 3), "rsa", 2048),
          with_algorithm(key_finding("f5", "/srv/pq.pem", 4), "ml-dsa-65", std::nullopt)},
         now);
  const json o = get_json(c, "/api/v1/overview", c.viewer);
  CHECK(o["hosts"] == 3);
  CHECK(o["hosts_reported"] == 2);
  CHECK(o["keys"] == 4);
  CHECK(o["new_keys_7d"] == 3);  // key 1 was first seen a month ago on one of its hosts
  CHECK(o["open_findings"] == 5);
  std::uint64_t by_band = 0;
  for (const auto& [band, n] : o["open_by_severity"].items()) by_band += n.get<std::uint64_t>();
  CHECK(by_band == 5);
  CHECK(o["certificates"]["expired"] == 0);
  CHECK(o["certificates"]["expiring_30d"] == 1);
  CHECK(o["certificates"]["expiring_60d"] == 1);
  CHECK(o["certificates"]["expiring_90d"] == 1);
  CHECK(o["quantum"]["vulnerable"] == 3);
  CHECK(o["quantum"]["safe"] == 1);
  const json& algorithms = o["quantum"]["by_algorithm"];
  REQUIRE(algorithms.size() == 3);
  CHECK(algorithms[0] == json{{"algorithm", "ECDSA"}, {"keys", 2}, {"quantum_vulnerable", true}});
  std::set<std::string> safe;
  for (const auto& a : algorithms)
    if (!a["quantum_vulnerable"].get<bool>()) safe.insert(a["algorithm"]);
  CHECK(safe == std::set<std::string>{"ML-DSA"});
  // A bar per host, riskiest first; the host without findings has an empty one.
  const json& bars = o["risk_by_host"];
  REQUIRE(bars.size() == 3);
  CHECK(bars[0]["hostname"] == "new-host");
  CHECK(bars[0]["open_findings"] == 4);
  CHECK(bars[2]["hostname"] == "quiet-host");
  CHECK(bars[2]["open_findings"] == 0);
  CHECK(bars[2]["max_severity"].is_null());
  for (const auto& b : bars) {
    std::uint64_t sum = 0;
    for (const auto& [band, n] : b["by_severity"].items()) sum += n.get<std::uint64_t>();
    CHECK(sum == b["open_findings"].get<std::uint64_t>());
  }
  CHECK(c.call("GET", "/api/v1/overview").status == 401);
}

TEST_CASE("a key's places and history: findings and events filtered by identity") {
  Collector c;
  const std::int64_t now = std::time(nullptr);
  const std::string a = approved_agent(c, "web-1");
  const std::string b = approved_agent(c, "web-2");
  using keyward::test::key_finding;
  ingest(c, a, {key_finding("f1", "/srv/a.pem", 1), key_finding("f2", "/srv/other.pem", 2)}, now);
  ingest(c, b, {key_finding("f3", "/home/ci/a.pem", 1)}, now);
  const std::string identity = "spki:" + keyward::test::fp(1);
  const json places = get_json(c, "/api/v1/findings?identity=" + identity + "&status=all", c.viewer);
  CHECK(places["total"] == 2);
  std::set<std::string> hosts;
  for (const auto& p : places["items"]) {
    CHECK(p["identity"] == identity);
    hosts.insert(p["hostname"]);
  }
  CHECK(hosts == std::set<std::string>{"web-1", "web-2"});
  // web-2 no longer holds it: the place is resolved, and the history says so.
  ingest(c, b, {}, now + 60);
  const json all = get_json(c, "/api/v1/findings?identity=" + identity + "&status=all", c.viewer);
  CHECK(all["total"] == 2);
  CHECK(get_json(c, "/api/v1/findings?identity=" + identity, c.viewer)["total"] == 1);
  const json history = get_json(c, "/api/v1/events?identity=" + identity, c.viewer);
  std::vector<std::string> types;
  for (const auto& e : history["items"]) {
    CHECK(e["identity"] == identity);
    types.push_back(e["type"]);
  }
  CHECK(types == std::vector<std::string>{"new", "new", "resolved"});
  CHECK(history["next_since"] == history["items"].back()["seq"]);
  // Read on from the last one: nothing newer.
  const std::string since = std::to_string(history["next_since"].get<std::uint64_t>());
  CHECK(get_json(c, "/api/v1/events?identity=" + identity + "&since=" + since, c.viewer)["items"].empty());
  // Without the filter every event is there, the other key's too.
  CHECK(get_json(c, "/api/v1/events", c.viewer)["items"].size() > types.size());
  CHECK(get_json(c, "/api/v1/events?identity=spki:none", c.viewer)["items"].empty());
  CHECK(c.call("GET", "/api/v1/events?identity=" + std::string(201, 'a'), c.viewer).status == 400);
  CHECK(c.call("GET", "/api/v1/findings?identity=" + std::string(201, 'a'), c.viewer).status == 400);
}

TEST_CASE("dashboard files are answered from memory with their type and the dashboard's security headers") {
  UiDir d;
  const UiFiles ui(d.path());
  CHECK(ui.size() == 3);  // index.html, app.js, app.css: not the key, the hidden file or the subdirectory
  const ApiResponse index = ui.answer("GET", "/ui/");
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  CHECK(index.body == "<!doctype html><title>k</title>");
  CHECK(header(index, "Content-Security-Policy") ==
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  CHECK(header(index, "X-Content-Type-Options") == "nosniff");
  CHECK(header(index, "X-Frame-Options") == "DENY");
  CHECK(header(index, "Referrer-Policy") == "no-referrer");
  CHECK(header(index, "Cache-Control") == "private, max-age=60");
  CHECK(ui.answer("GET", "/ui/index.html?x=1").body == index.body);
  CHECK(ui.answer("GET", "/ui/app.js").content_type == "text/javascript; charset=utf-8");
  CHECK(ui.answer("GET", "/ui/app.css").content_type == "text/css; charset=utf-8");
  const ApiResponse head = ui.answer("HEAD", "/ui/app.js");
  CHECK(head.status == 200);
  CHECK(head.body.size() == std::string("export const x = 1;\n").size());  // the server sends the header only
  const ApiResponse bare = ui.answer("GET", "/ui");
  CHECK(bare.status == 301);
  CHECK(header(bare, "Location") == "/ui/");
  const ApiResponse post = ui.answer("POST", "/ui/");
  CHECK(post.status == 405);
  CHECK(header(post, "Allow") == "GET, HEAD");
  CHECK(header(post, "Content-Security-Policy") == std::string(kDashboardCsp));
}

TEST_CASE("unknown dashboard names and traversal are 404, whatever they decode or normalise to") {
  UiDir d;
  const UiFiles ui(d.path());
  for (const char* target :
       {"/ui/nothing.js", "/ui/notes.key", "/ui/.hidden.js", "/ui/sub/inner.js", "/ui/sub%2Finner.js",
        "/ui/../collector.yaml", "/ui/%2e%2e/collector.yaml", "/ui/%2E%2E%2Fcollector.yaml", "/ui/..%2fcollector.yaml",
        "/ui/./index.html", "/ui//index.html", "/ui/index.html/", "/ui/../api/v1/hosts", "/ui/%69ndex.html",
        "/ui/..", "/ui/.", "/ui/index.html%00.js"}) {
    INFO(target);
    const ApiResponse r = ui.answer("GET", target);
    CHECK(r.status == 404);
    CHECK(r.body.find("outside the dashboard") == std::string::npos);
    CHECK(header(r, "Cache-Control") == "no-store");
    CHECK(header(r, "X-Content-Type-Options") == "nosniff");
  }
  CHECK(UiFiles::serves("/ui"));
  CHECK(UiFiles::serves("/ui/"));
  CHECK(UiFiles::serves("/ui?x=1"));
  CHECK(UiFiles::serves("/ui/../api/v1/hosts"));
  CHECK_FALSE(UiFiles::serves("/uix"));
  CHECK_FALSE(UiFiles::serves("/UI/"));
  CHECK_FALSE(UiFiles::serves("/api/v1/hosts"));
}

TEST_CASE("a dashboard directory that cannot be served is refused at start, and ui false serves none") {
  TempTree dir;
  CHECK_THROWS_WITH_AS(UiFiles(dir.path("missing")), doctest::Contains("cannot read the dashboard directory"),
                       std::runtime_error);
  dir.write("noindex/app.js", "x");
  CHECK_THROWS_WITH_AS(UiFiles(dir.path("noindex")), doctest::Contains("no index.html"), std::runtime_error);
  dir.write("big/index.html", "x");
  dir.write("big/huge.js", std::string(UiFiles::kMaxFileBytes + 1, 'x'));
  CHECK_THROWS_WITH_AS(UiFiles(dir.path("big")), doctest::Contains("huge.js"), std::runtime_error);
  CHECK_FALSE(load_dashboard(UiSettings{false, dir.path("big")}).has_value());
  CHECK_THROWS_AS(load_dashboard(UiSettings{true, dir.path("missing")}), std::runtime_error);
  dir.write("ok/index.html", "x");
  const auto ok = load_dashboard(UiSettings{true, dir.path("ok")});
  REQUIRE(ok.has_value());
  CHECK(ok->dir() == dir.path("ok"));
}

TEST_CASE("the config's ui and ui_dir keys: on by default, off with ui false, ui_dir resolved in data_dir") {
  TempTree dir;
  const Config plain = load_config(dir.write("a.yaml", "listen: 127.0.0.1:0\n"));
  CHECK(plain.ui.enabled);
  CHECK(plain.ui.dir.empty());
  const Config off = load_config(dir.write("b.yaml", "listen: 127.0.0.1:0\nui: false\nui_dir: web\n"));
  CHECK_FALSE(off.ui.enabled);
  CHECK(off.ui.dir == dir.path("web"));
  CHECK_THROWS_WITH_AS(load_config(dir.write("c.yaml", "ui: maybe\n")), doctest::Contains("ui: must be true or false"),
                       std::runtime_error);
  const Config back = load_config(dir.write("d.yaml", config_to_yaml(off)));
  CHECK_FALSE(back.ui.enabled);
  CHECK(back.ui.dir == off.ui.dir);
}

TEST_CASE("over TLS: /ui/ carries the policy, HEAD keeps the connection's framing, the API its own headers") {
  UiDir d;
  LiveCollector live({}, [&](Config& c) { c.ui.dir = d.path(); });
  TlsClient client(live.port());
  REQUIRE(client.connected());
  const auto index = client.request("GET /ui/ HTTP/1.1\r\nHost: c\r\n\r\n");
  CHECK(index.status == 200);
  CHECK(index.field("Content-Type") == "text/html; charset=utf-8");
  CHECK(index.field("Content-Security-Policy") == std::string(kDashboardCsp));
  CHECK(index.field("X-Content-Type-Options") == "nosniff");
  CHECK(index.field("X-Frame-Options") == "DENY");
  CHECK(index.body == "<!doctype html><title>k</title>");
  // HEAD: the GET's length and no body: the next answer on the connection starts right after
  // the HEAD answer's header.
  REQUIRE(client.send("HEAD /ui/app.js HTTP/1.1\r\nHost: c\r\n\r\nGET /ui/app.css HTTP/1.1\r\nHost: c\r\n\r\n"));
  const std::string both = client.read_all(std::chrono::milliseconds(1500));
  const auto end = both.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  const std::string head = both.substr(0, end + 2);
  CHECK(head.substr(0, 12) == "HTTP/1.1 200");
  CHECK(head.find("\r\nContent-Length: " + std::to_string(std::string("export const x = 1;\n").size()) + "\r\n") !=
        std::string::npos);
  const std::string next = both.substr(end + 4);
  CHECK(next.substr(0, 12) == "HTTP/1.1 200");
  CHECK(next.size() > 19);
  CHECK(next.substr(next.size() - 19) == "body { margin: 0 }\n");
  CHECK(client.request("GET /ui HTTP/1.1\r\nHost: c\r\n\r\n").field("Location") == "/ui/");
  // Traversal never reaches the API or a file: 404 from the dashboard, with a viewer's token too.
  const auto up = client.request("GET /ui/../api/v1/hosts HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer " +
                                 live.viewer + "\r\n\r\n");
  CHECK(up.status == 404);
  CHECK(up.field("Content-Security-Policy") == std::string(kDashboardCsp));
  CHECK(client.request("GET /ui/%2e%2e/k.db HTTP/1.1\r\nHost: c\r\n\r\n").status == 404);
  const auto api = client.request("GET /health HTTP/1.1\r\nHost: c\r\n\r\n");
  CHECK(api.status == 200);
  CHECK(api.field("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'");
  CHECK(api.field("X-Content-Type-Options") == "nosniff");
  CHECK(api.field("Cache-Control") == "no-store");
  CHECK(api.field("Referrer-Policy") == "no-referrer");
}

TEST_CASE("over TLS with ui false: /ui/ is the API's 404") {
  UiDir d;
  LiveCollector live({}, [&](Config& c) {
    c.ui.enabled = false;
    c.ui.dir = d.path();
  });
  TlsClient client(live.port());
  REQUIRE(client.connected());
  const auto r = client.request("GET /ui/ HTTP/1.1\r\nHost: c\r\n\r\n");
  CHECK(r.status == 404);
  CHECK(r.body.find("no such endpoint") != std::string::npos);
}
