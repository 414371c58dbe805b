// SPDX-License-Identifier: Apache-2.0
// The fleet's migration plan in the store (docs/migration.md, "The collector's part"): one item
// per key across hosts, request and approval by different principals, the approval bound to the
// places it was given for, results only from the key's own host and only done with proof, every
// step in the audit chain.
#include "collector/store_fixture.hpp"

#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>

#include <doctest/doctest.h>

#include <algorithm>

using namespace keyward;
using collector::Actor;
using collector::Role;
using migrate::ItemState;
using test::kNow;

namespace {

const Actor kAlice{"principal:alice", Role::analyst, "token:a1"};
const Actor kAliceApprover{"principal:alice", Role::approver, "token:a2"};  // alice's other token
const Actor kBob{"principal:bob", Role::approver, "token:b1"};

// An unencrypted key at path, its file facts set (what an approval binds to).
scanner::Finding key_file(const std::string& id, const std::string& path, int key, std::int64_t mtime = kNow - 500) {
  auto f = test::key_finding(id, path, key);
  f.file.size = 241;
  f.file.mtime = mtime;
  return f;
}

std::string item_of(int key) { return migrate::item_id_for("spki:" + test::fp(key)); }

const migrate::PlanItem* find_item(const migrate::Plan& plan, const std::string& id) {
  for (const auto& item : plan.items)
    if (item.id == id) return &item;
  return nullptr;
}

// A result of a run as the agent (or keyward migrate) sends it.
migrate::ItemResult result_of(const migrate::PlanItem& item, migrate::Outcome outcome, bool finished = true) {
  migrate::ItemResult r;
  r.item_id = item.id;
  r.identity = item.identity;
  r.host = item.migrate_on.host;
  r.strategy = item.strategy;
  r.outcome = outcome;
  r.message = "ok";
  r.key_id = "ab12";
  r.label = "key-1";
  r.verification.signature_ok = true;
  r.verification.public_key_matches = true;
  r.verification.sensitive = true;
  r.verification.extractable = false;
  r.verification.private_value_refused = true;
  r.verification.mechanism = "CKM_ECDSA";
  r.started_at = "2025-10-09T08:00:00Z";
  if (finished) r.finished_at = "2025-10-09T08:00:05Z";
  return r;
}

// Requests (alice) and approves (bob) an item.
migrate::PlanItem approved(test::StoreFixture& fx, const std::string& id) {
  REQUIRE(fx.store->request_migration(id, "move the key into the HSM", kAlice, kNow).has_value());
  auto ok = fx.store->approve_migration(id, kBob, kNow);
  REQUIRE_MESSAGE(ok.has_value(), (ok ? "" : ok.error().message));
  return *ok;
}

std::vector<std::string> migration_actions(collector::Store& store) {
  std::vector<std::string> out;
  for (const auto& e : store.audit_entries(0, 10000))
    if (e.action.rfind("migration.", 0) == 0) out.push_back(e.action);
  return out;
}

}  // namespace

TEST_CASE("one key on three hosts is one plan item with three clean-ups, and the item id is stable") {
  test::StoreFixture fx;
  for (const char* host : {"web-1", "web-2", "web-3"})
    fx.store->ingest(fx.agent(host), test::report({key_file("f1", "/srv/tls/key.pem", 1)}), kNow);
  const auto plan = fx.store->fleet_plan(kNow);
  REQUIRE(plan.items.size() == 1);
  const auto& item = plan.items.front();
  CHECK(item.id == item_of(1));
  CHECK(item.places.size() == 3);
  const auto cleanups = std::count_if(item.steps.begin(), item.steps.end(),
                                      [](const migrate::Step& s) { return s.kind == migrate::StepKind::cleanup; });
  CHECK(cleanups == 3);
  std::vector<std::string> hosts;
  for (const auto& p : item.places) hosts.push_back(p.host);
  std::sort(hosts.begin(), hosts.end());
  CHECK(hosts == std::vector<std::string>{"web-1", "web-2", "web-3"});
  CHECK(item.state == ItemState::proposed);
  CHECK(plan.scope == "fleet");
}

TEST_CASE("an item approved by its own requester, with another of their tokens, is refused") {
  test::StoreFixture fx;
  fx.store->ingest(fx.agent("web-1"), test::report({key_file("f1", "/srv/a.pem", 1)}), kNow);
  const std::string id = item_of(1);
  // Approval needs a request first.
  auto early = fx.store->approve_migration(id, kBob, kNow);
  REQUIRE_FALSE(early.has_value());
  CHECK(early.error().code == "conflict");
  REQUIRE(fx.store->request_migration(id, "move it", kAlice, kNow).has_value());
  auto own = fx.store->approve_migration(id, kAliceApprover, kNow);
  REQUIRE_FALSE(own.has_value());
  CHECK(own.error().code == "separation_of_duties");
  auto ok = fx.store->approve_migration(id, kBob, kNow);
  REQUIRE(ok.has_value());
  CHECK(ok->state == ItemState::approved);
  CHECK(ok->requested_by == "principal:alice");
  CHECK(ok->approved_by == "principal:bob");
  auto unknown = fx.store->request_migration("0123456789abcdef", "x", kAlice, kNow);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == "not_found");
}

TEST_CASE("request, approval, the agent's fetch, start and done: audited in order, evented, the chain verifies") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  fx.store->ingest(a, test::report({key_file("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(b, test::report({key_file("g1", "/srv/copy.pem", 1)}), kNow);
  const auto item = approved(fx, item_of(1));
  const std::string runner = item.migrate_on.agent_id;
  const std::string other = runner == a.id ? b.id : a.id;
  const auto mine = fx.store->migrations_for_agent(runner, kNow);
  REQUIRE(mine.size() == 1);
  CHECK(mine.front().state == ItemState::approved);
  CHECK(fx.store->migrations_for_agent(other, kNow).empty());  // its copy is cleaned once the move is done

  const Actor agent{"agent:" + runner, std::nullopt};
  auto started =
      fx.store->record_migration_result(item.id, result_of(item, migrate::Outcome::done, false), agent, kNow);
  REQUIRE(started.has_value());
  CHECK(started->state == ItemState::running);
  auto r = result_of(item, migrate::Outcome::done);
  r.cleanups.push_back({item.migrate_on.path, true, ""});
  auto done = fx.store->record_migration_result(item.id, r, agent, kNow + 5);
  REQUIRE(done.has_value());
  CHECK(done->state == ItemState::done);
  CHECK(fx.store->fleet_plan(kNow + 6).items.front().state == ItemState::done);

  // The other host now has its clean-up to do, and reports it for its own host only.
  const auto theirs = fx.store->migrations_for_agent(other, kNow + 7);
  REQUIRE(theirs.size() == 1);
  CHECK(theirs.front().state == ItemState::done);
  CHECK(fx.store->migrations_for_agent(runner, kNow + 7).empty());
  migrate::ItemResult cleaned = r;
  cleaned.cleanups = {{"/srv/copy.pem", true, ""}};
  REQUIRE(
      fx.store->record_migration_result(item.id, cleaned, Actor{"agent:" + other, std::nullopt}, kNow + 8).has_value());
  CHECK(fx.store->migrations_for_agent(other, kNow + 9).empty());

  CHECK(migration_actions(*fx.store) == std::vector<std::string>{"migration.request", "migration.approve",
                                                                 "migration.start", "migration.done",
                                                                 "migration.cleanup", "migration.cleanup"});
  CHECK(fx.store->verify_audit(fx.store->audit_head()).ok);
  for (const char* type :
       {"migration_requested", "migration_approved", "migration_started", "migration_done", "migration_cleaned"})
    CHECK_MESSAGE(fx.events_of(type).size() >= 1, type);
  // The events file has them too (a SIEM tails it).
  CHECK(test::file_bytes(fx.events_path).find("\"migration_done\"") != std::string::npos);
}

TEST_CASE("a changed file or another set of places puts an approved item back to proposed, audited") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({key_file("f1", "/srv/a.pem", 1)}), kNow);
  const std::string id = item_of(1);

  SUBCASE("the file at the place changed (mtime and size)") {
    approved(fx, id);
    auto changed = key_file("f1", "/srv/a.pem", 1, kNow - 10);
    changed.file.size = 300;
    fx.store->ingest(a, test::report({changed}), kNow + 60);
  }
  SUBCASE("a new copy on another host") {
    approved(fx, id);
    fx.store->ingest(fx.agent("web-2"), test::report({key_file("g1", "/tmp/k.pem", 1)}), kNow + 60);
  }
  SUBCASE("an unchanged rescan keeps the approval") {
    approved(fx, id);
    fx.store->ingest(a, test::report({key_file("f1", "/srv/a.pem", 1)}), kNow + 60);
    CHECK(fx.store->fleet_plan(kNow + 61).items.front().state == ItemState::approved);
    CHECK(fx.events_of("migration_invalidated").empty());
    return;
  }
  CHECK(fx.store->migrations_for_agent(a.id, kNow + 61).empty());
  const auto plan = fx.store->fleet_plan(kNow + 62);
  const auto* item = find_item(plan, id);
  REQUIRE(item != nullptr);
  CHECK(item->state == ItemState::proposed);
  CHECK(item->approved_by.empty());
  CHECK(fx.events_of("migration_invalidated").size() == 1);  // once, not on every read
  const auto actions = migration_actions(*fx.store);
  CHECK(actions.back() == "migration.invalidated");
  CHECK(fx.store->verify_audit(fx.store->audit_head()).ok);
  // Approvable again, by another principal, for the places as they are now.
  CHECK(fx.store->approve_migration(id, kBob, kNow + 63).has_value());
}

TEST_CASE("an agent sees only its own host's approved items and cannot post a result for another host's item") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  fx.store->ingest(a, test::report({key_file("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(b, test::report({key_file("g1", "/srv/b.pem", 2)}), kNow);
  const auto on_a = approved(fx, item_of(1));
  const auto on_b = approved(fx, item_of(2));
  for (const auto& [agent, want] : {std::pair{a, on_a.id}, std::pair{b, on_b.id}}) {
    const auto items = fx.store->migrations_for_agent(agent.id, kNow);
    REQUIRE(items.size() == 1);
    CHECK(items.front().id == want);
  }
  auto foreign = fx.store->record_migration_result(on_a.id, result_of(on_a, migrate::Outcome::done),
                                                   Actor{"agent:" + b.id, std::nullopt}, kNow);
  REQUIRE_FALSE(foreign.has_value());
  CHECK(foreign.error().code == "forbidden");
  // A result naming another item than the one it is posted to is refused too.
  auto crossed = fx.store->record_migration_result(on_b.id, result_of(on_a, migrate::Outcome::done),
                                                   Actor{"agent:" + b.id, std::nullopt}, kNow);
  REQUIRE_FALSE(crossed.has_value());
  CHECK(crossed.error().code == "invalid");
  CHECK(find_item(fx.store->fleet_plan(kNow), on_a.id)->state == ItemState::approved);
}

TEST_CASE("a result claiming done without verification is refused, and a failure fails the item") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({key_file("f1", "/srv/a.pem", 1)}), kNow);
  const auto item = approved(fx, item_of(1));
  const Actor agent{"agent:" + a.id, std::nullopt};
  auto unsigned_result = result_of(item, migrate::Outcome::done);
  unsigned_result.verification.signature_ok = false;
  auto extractable = result_of(item, migrate::Outcome::done);
  extractable.verification.extractable = true;
  auto skipped = result_of(item, migrate::Outcome::skipped);
  skipped.verification = {};
  for (const auto& r : {unsigned_result, extractable, skipped}) {
    auto out = fx.store->record_migration_result(item.id, r, agent, kNow);
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == "invalid");
  }
  auto dry = fx.store->record_migration_result(item.id, result_of(item, migrate::Outcome::dry_run), agent, kNow);
  REQUIRE_FALSE(dry.has_value());
  CHECK(find_item(fx.store->fleet_plan(kNow), item.id)->state == ItemState::approved);
  CHECK(fx.events_of("migration_done").empty());

  auto failed = result_of(item, migrate::Outcome::failed);
  failed.failed_at = migrate::Stage::verify;
  failed.message = "the token refused the signature";
  auto out = fx.store->record_migration_result(item.id, failed, agent, kNow + 1);
  REQUIRE(out.has_value());
  CHECK(out->state == ItemState::failed);
  CHECK(migration_actions(*fx.store).back() == "migration.failed");
  // A failed item is requested again (recovery), and approved anew.
  CHECK(fx.store->request_migration(item.id, "retry after fixing the token", kAlice, kNow + 2).has_value());
  auto refused = fx.store->refuse_migration(item.id, "not this week", kBob, kNow + 3);
  REQUIRE(refused.has_value());
  CHECK(refused->state == ItemState::refused);
  CHECK(refused->refused_by == "principal:bob");
  CHECK(refused->decision_reason == "not this week");
}

TEST_CASE("an item with a blocker cannot be approved") {
  test::StoreFixture fx;
  auto weak = key_file("f1", "/srv/old.pem", 1);
  weak.key->algorithm = "rsa";
  weak.key->curve.clear();
  weak.key->bits = 1024;  // refused by the policy
  fx.store->ingest(fx.agent("web-1"), test::report({weak}), kNow);
  const std::string id = item_of(1);
  const auto plan = fx.store->fleet_plan(kNow);
  REQUIRE(find_item(plan, id) != nullptr);
  REQUIRE_FALSE(find_item(plan, id)->blockers.empty());
  REQUIRE(fx.store->request_migration(id, "move it", kAlice, kNow).has_value());
  auto out = fx.store->approve_migration(id, kBob, kNow);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == "invalid");
}
