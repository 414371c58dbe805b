// SPDX-License-Identifier: Apache-2.0
// The migration plan through API v1 (docs/fleet.md, docs/migration.md): the fleet plan in three
// formats, request by an analyst and approval by another principal, the agent's own items over
// its certificate, results only for its own host and only done with verification, and nothing
// a client sends beyond the result's fields stored.
#include "collector/api_fixture.hpp"
#include "collector/store_fixture.hpp"

#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <ctime>

using namespace keyward::collector;
using keyward::test::code_of;
using keyward::test::Collector;
using keyward::test::make_token;
using json = nlohmann::json;

namespace {

struct Agent {
  std::string id, cert;
};

// An approved agent on `host` whose report holds key `key` at path.
Agent host_with_key(Collector& c, const std::string& host, int key, const std::string& path) {
  auto [id, cert] = c.enroll(host);
  REQUIRE(c.call("POST", "/api/v1/agents/" + id + "/approve", c.admin).status == 200);
  auto f = keyward::test::key_finding("f" + std::to_string(key), path, key);
  f.file.size = 241;
  f.file.mtime = std::time(nullptr) - 600;
  c.store->ingest(*c.store->agent(id), keyward::test::report({f}), std::time(nullptr));
  return {id, cert};
}

std::string item_of(int key) { return keyward::migrate::item_id_for("spki:" + keyward::test::fp(key)); }

// The result body of a verified run of item on host (what the agent posts).
json done_result(const std::string& item, const std::string& host) {
  keyward::migrate::ItemResult r;
  r.item_id = item;
  r.host = host;
  r.outcome = keyward::migrate::Outcome::done;
  r.verification.signature_ok = true;
  r.verification.public_key_matches = true;
  r.verification.sensitive = true;
  r.verification.extractable = false;
  r.verification.private_value_refused = true;
  r.started_at = "2026-01-01T00:00:00Z";
  r.finished_at = "2026-01-01T00:00:03Z";
  return keyward::migrate::result_to_json(r);
}

std::vector<std::string> item_ids(const json& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i["id"]);
  return out;
}

}  // namespace

TEST_CASE("the fleet plan through the API: JSON, Markdown or text, filtered by host and state") {
  Collector c;
  host_with_key(c, "web-1", 1, "/srv/a.pem");
  host_with_key(c, "web-2", 2, "/srv/b.pem");
  auto r = c.call("GET", "/api/v1/plan", c.viewer);
  REQUIRE(r.status == 200);
  const json plan = json::parse(r.body);
  CHECK(plan["schema"] == keyward::migrate::kPlanSchema);
  CHECK(plan["items"].size() == 2);
  const json one = json::parse(c.call("GET", "/api/v1/plan?host=web-2", c.viewer).body);
  CHECK(item_ids(one["items"]) == std::vector<std::string>{item_of(2)});
  CHECK(json::parse(c.call("GET", "/api/v1/plan?state=approved", c.viewer).body)["items"].empty());
  auto md = c.call("GET", "/api/v1/plan?format=markdown", c.viewer);
  CHECK(md.status == 200);
  CHECK(md.content_type.rfind("text/markdown", 0) == 0);
  auto text = c.call("GET", "/api/v1/plan?format=text", c.viewer);
  CHECK(text.status == 200);
  CHECK(text.content_type.rfind("text/plain", 0) == 0);
  CHECK(c.call("GET", "/api/v1/plan?format=xml", c.viewer).status == 400);
  CHECK(c.call("GET", "/api/v1/plan?state=pending", c.viewer).status == 400);
  CHECK(c.call("GET", "/api/v1/plan").status == 401);
}

TEST_CASE("through the API an item approved by its requester's other token is 403 separation_of_duties") {
  Collector c;
  host_with_key(c, "web-1", 1, "/srv/a.pem");
  const json analyst = make_token(c, {{"role", "analyst"}, {"name", "alice"}});
  const json alice_approver = make_token(c, {{"role", "approver"}, {"name", "alice laptop"}, {"principal", "alice"}});
  const json bob = make_token(c, {{"role", "approver"}, {"name", "bob"}});
  const std::string base = "/api/v1/plan/items/" + item_of(1);
  const std::string reason = R"({"reason": "move it into the HSM"})";
  CHECK(c.call("POST", base + "/request", c.viewer, reason).status == 403);
  CHECK(c.call("POST", base + "/request", analyst["secret"], "{}").status == 400);
  CHECK(c.call("POST", "/api/v1/plan/items/0123456789abcdef/request", analyst["secret"], reason).status == 404);
  CHECK(code_of(c.call("POST", base + "/approve", bob["secret"])) == "conflict");  // not requested yet
  auto req = c.call("POST", base + "/request", analyst["secret"], reason);
  REQUIRE_MESSAGE(req.status == 200, req.body);
  CHECK(json::parse(req.body)["requested_by"] == "principal:alice");
  CHECK(c.call("POST", base + "/request", analyst["secret"], reason).status == 409);
  CHECK(c.call("POST", base + "/approve", analyst["secret"]).status == 403);  // an analyst does not approve
  auto own = c.call("POST", base + "/approve", alice_approver["secret"]);
  CHECK(own.status == 403);
  CHECK(code_of(own) == "separation_of_duties");
  auto ok = c.call("POST", base + "/approve", bob["secret"]);
  REQUIRE(ok.status == 200);
  CHECK(json::parse(ok.body)["state"] == "approved");
  CHECK(json::parse(ok.body)["approved_by"] == "principal:bob");
}

TEST_CASE("an agent fetches its own host's approved items and reports only those, done only with verification") {
  Collector c;
  const Agent a = host_with_key(c, "web-1", 1, "/srv/a.pem");
  const Agent b = host_with_key(c, "web-2", 2, "/srv/b.pem");
  const json analyst = make_token(c, {{"role", "analyst"}, {"name", "alice"}});
  const json bob = make_token(c, {{"role", "approver"}, {"name", "bob"}});
  for (int key : {1, 2}) {
    const std::string base = "/api/v1/plan/items/" + item_of(key);
    REQUIRE(c.call("POST", base + "/request", analyst["secret"], R"({"reason": "r"})").status == 200);
    REQUIRE(c.call("POST", base + "/approve", bob["secret"]).status == 200);
  }
  auto mine = c.call("GET", "/api/v1/agent/migrations", "", "", a.cert);
  REQUIRE_MESSAGE(mine.status == 200, mine.body);
  CHECK(item_ids(json::parse(mine.body)["items"]) == std::vector<std::string>{item_of(1)});
  CHECK(item_ids(json::parse(c.call("GET", "/api/v1/agent/migrations", "", "", b.cert).body)["items"]) ==
        std::vector<std::string>{item_of(2)});
  CHECK(c.call("GET", "/api/v1/agent/migrations", c.admin).status == 401);  // a token is no agent
  CHECK(c.call("GET", "/api/v1/plan", "", "", a.cert).status == 403);       // an agent reads no plan
  const std::string result = "/api/v1/agent/migrations/" + item_of(1) + "/result";
  auto foreign = c.call("POST", result, "", done_result(item_of(1), "web-1").dump(), b.cert);
  CHECK(foreign.status == 403);
  json unverified = done_result(item_of(1), "web-1");
  unverified["verification"]["signature_ok"] = false;
  CHECK(c.call("POST", result, "", unverified.dump(), a.cert).status == 400);
  CHECK(c.call("POST", result, "", "{not json", a.cert).status == 400);

  // A PIN a client pasted into the body by mistake: only the result's fields are stored.
  const std::string pin = "pin-7b1e5d90c4a2";
  json body = done_result(item_of(1), "web-1");
  body["pin"] = pin;
  auto done = c.call("POST", result, "", body.dump(), a.cert);
  REQUIRE_MESSAGE(done.status == 200, done.body);
  CHECK(json::parse(done.body)["state"] == "done");
  CHECK(c.call("POST", result, "", body.dump(), a.cert).status == 409);  // nothing left to do there

  std::vector<std::string> actions;
  std::string done_actor;
  const json audit = json::parse(c.call("GET", "/api/v1/audit?limit=1000", c.admin).body)["items"];
  for (const auto& e : audit) {
    const std::string action = e["action"];
    if (action.rfind("migration.", 0) != 0 || e["subject"] != item_of(1)) continue;
    actions.push_back(action);
    if (action == "migration.done") done_actor = e["actor"];
  }
  CHECK(actions == std::vector<std::string>{"migration.request", "migration.approve", "migration.done"});
  CHECK(done_actor == "agent:" + a.id);
  c.api.reset();
  c.store.reset();  // closes the database: its bytes are all in the file
  const std::string db =
      keyward::test::file_bytes(c.dir.path("k.db")) + keyward::test::file_bytes(c.dir.path("k.db-wal"));
  CHECK(db.find(pin) == std::string::npos);
  CHECK(db.find("PRIVATE KEY") == std::string::npos);
  CHECK(db.find("migration_done") != std::string::npos);
}
