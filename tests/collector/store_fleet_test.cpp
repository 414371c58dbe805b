// SPDX-License-Identifier: Apache-2.0
// Fleet risk and exceptions: the same key on several hosts, build hosts, keyward's own keys,
// exceptions with separation of duties, keys and expiring certificates across the fleet.
#include "store_fixture.hpp"

#include <algorithm>

using namespace keyward;
using test::kNow;

namespace {

nlohmann::json only_finding(test::StoreFixture& fx, const std::string& host) {
  collector::FindingQuery q;
  q.host = host;
  q.status = "all";
  const auto rows = fx.store->findings(q);
  REQUIRE(rows.total == 1);
  return rows.items[0].finding;
}

}  // namespace

TEST_CASE("the same key on two hosts is one key with two hosts and fleet-spread on both places") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  CHECK_FALSE(test::has_factor(only_finding(fx, "web-1"), "fleet-spread"));
  const int alone = only_finding(fx, "web-1").at("risk").at("score").get<int>();

  fx.store->ingest(b, test::report({test::key_finding("g1", "/opt/b.pem", 1)}), kNow);
  // The first host's place was rescored too, by the second host's report.
  const auto on_a = only_finding(fx, "web-1");
  const auto on_b = only_finding(fx, "web-2");
  CHECK(test::has_factor(on_a, "fleet-spread"));
  CHECK(test::has_factor(on_b, "fleet-spread"));
  CHECK(on_a.at("risk").at("score").get<int>() > alone);
  for (const auto& f : on_a.at("risk").at("factors"))
    if (f.at("id") == "fleet-spread") CHECK(f.at("why").get<std::string>().find("2 hosts") != std::string::npos);

  const auto keys = fx.store->keys(100, 0);
  REQUIRE(keys.total == 1);
  REQUIRE(keys.items.size() == 1);
  const auto& k = keys.items[0];
  CHECK(k.identity == "spki:" + test::fp(1));
  CHECK(k.hosts == 2);
  CHECK(k.kind == "private_key");
  CHECK(k.algorithm == "ec");
  CHECK(k.places.size() == 2);
  CHECK_FALSE(k.managed);

  // The key leaves web-2: the spread is gone from web-1 as well.
  fx.store->ingest(b, test::report({}), kNow + 60);
  CHECK_FALSE(test::has_factor(only_finding(fx, "web-1"), "fleet-spread"));
  CHECK(fx.store->keys(100, 0).items.at(0).hosts == 1);
}

TEST_CASE("one host more with a shared key rewrites no other host's place, and every place reads the new count" *
          doctest::test_suite("sqlite")) {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  const auto c = fx.agent("web-3");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  // Counted from here on: each write of a place's risk (a trigger of the test's own).
  test::tamper(fx.db_path,
               "CREATE TABLE test_risk_writes(place_id TEXT); CREATE TRIGGER test_count AFTER UPDATE OF risk ON places "
               "BEGIN INSERT INTO test_risk_writes VALUES (NEW.place_id); END");
  const auto writes_on = [&](const collector::AgentInfo& agent) {
    return test::db_integer(fx.db_path,
                            "SELECT COUNT(*) FROM test_risk_writes w JOIN places p ON "
                            "p.place_id = w.place_id WHERE p.agent_id = '" +
                                agent.id + "'");
  };
  // The second host makes the key spread: a factor more, on the first host's place too.
  fx.store->ingest(b, test::report({test::key_finding("g1", "/opt/b.pem", 1)}), kNow);
  CHECK(writes_on(a) == 1);
  CHECK(writes_on(b) == 1);  // its own first scoring
  // The third only changes the count, which the stored risk names by a mark: nothing of the
  // first two hosts is written, yet each reads three hosts.
  fx.store->ingest(c, test::report({test::key_finding("h1", "/opt/c.pem", 1)}), kNow);
  CHECK(writes_on(a) == 1);
  CHECK(writes_on(b) == 1);
  CHECK(writes_on(c) == 1);
  for (const auto* host : {"web-1", "web-2", "web-3"}) {
    const auto finding = only_finding(fx, host);  // kept: the loop reads into it
    for (const auto& f : finding.at("risk").at("factors"))
      if (f.at("id") == "fleet-spread") CHECK(f.at("why").get<std::string>().find("on 3 hosts") != std::string::npos);
  }
  // Down to one host: the spread goes, so the last place is rescored.
  fx.store->ingest(b, test::report({}), kNow + 60);
  fx.store->ingest(c, test::report({}), kNow + 60);
  CHECK(writes_on(a) == 2);
  CHECK_FALSE(test::has_factor(only_finding(fx, "web-1"), "fleet-spread"));
}

TEST_CASE("a host tagged build adds build-host to its keys and removing the tag takes it away") {
  test::StoreFixture fx;
  const auto a = fx.agent("ci-1");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  CHECK_FALSE(test::has_factor(only_finding(fx, "ci-1"), "build-host"));

  auto tagged = fx.store->set_agent_tags(a.id, {"build", "linux"}, fx.admin);
  REQUIRE(tagged.has_value());
  CHECK(tagged->tags == std::vector<std::string>{"build", "linux"});
  CHECK(test::has_factor(only_finding(fx, "ci-1"), "build-host"));

  // Also on places first seen after the tag.
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 10);
  CHECK(test::has_factor(only_finding(fx, "ci-1"), "build-host"));

  REQUIRE(fx.store->set_agent_tags(a.id, {}, fx.admin).has_value());
  CHECK_FALSE(test::has_factor(only_finding(fx, "ci-1"), "build-host"));
  CHECK(fx.store->set_agent_tags(a.id, {"bad tag!"}, fx.admin).error().code == "invalid");
}

TEST_CASE("keyward's own key is managed with severity info and not counted as an open finding") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->add_managed_identity(test::fp(77), "collector CA");
  fx.store->ingest(a,
                   test::report({test::key_finding("ca", "/var/lib/keyward-collector/pki/ca.key", 77),
                                 test::key_finding("other", "/srv/x.pem", 1)}),
                   kNow);
  collector::FindingQuery q;
  q.status = "managed";
  const auto managed = fx.store->findings(q);
  REQUIRE(managed.total == 1);
  CHECK(managed.items[0].finding.at("id") == "ca");
  CHECK(managed.items[0].finding.at("risk").at("severity") == "info");
  CHECK(test::has_factor(managed.items[0].finding, "keyward-managed"));
  CHECK(fx.store->findings({}).total == 1);  // only "other" is open
  const auto hosts = fx.store->hosts();
  REQUIRE(hosts.size() == 1);
  CHECK(hosts[0].open_findings == 1);

  // An agent's own key is managed from its enrollment on.
  fx.store->ingest(a, test::report({test::key_finding("agent-key", "/var/lib/keyward-agent/agent.key", 6001)}),
                   kNow + 10);
  q.host = "web-1";
  const auto own = fx.store->findings(q);
  REQUIRE(own.total == 1);
  CHECK(own.items[0].finding.at("id") == "agent-key");
  bool found = false;
  for (const auto& k : fx.store->keys(100, 0).items)
    if (k.identity == "spki:" + test::fp(6001)) found = k.managed;
  CHECK(found);
}

TEST_CASE("an exception cannot be approved by its requester and another approver's approval excepts every place") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
  fx.store->ingest(b, test::report({test::key_finding("g1", "/srv/a.pem", 1)}), kNow);
  const std::string identity = "spki:" + test::fp(1);
  const collector::Actor analyst{"principal:alice", collector::Role::analyst, "token:analyst000000001"};
  const collector::Actor approver{"principal:bob", collector::Role::approver, "token:approver00000001"};

  CHECK(fx.store->request_exception("spki:" + test::fp(2), "x", kNow + 100, analyst, kNow).error().code == "not_found");
  CHECK(fx.store->request_exception(identity, "", kNow + 100, analyst, kNow).error().code == "invalid");
  CHECK(fx.store->request_exception(identity, "ok", kNow - 1, analyst, kNow).error().code == "invalid");
  // A reason is text a person reads in a listing: no control characters, bounded.
  CHECK(fx.store->request_exception(identity, "lab\nkey", kNow + 100, analyst, kNow).error().code == "invalid");
  CHECK(fx.store->request_exception(identity, "lab \x1b[2Jkey", kNow + 100, analyst, kNow).error().code == "invalid");
  CHECK(fx.store->request_exception(identity, std::string(2001, 'r'), kNow + 100, analyst, kNow).error().code ==
        "invalid");

  auto x = fx.store->request_exception(identity, "HSM migration in progress", kNow + 86400, analyst, kNow);
  REQUIRE(x.has_value());
  CHECK(x->status == "pending");
  CHECK(fx.store->findings({}).total == 2);

  CHECK(x->requested_by == "principal:alice");
  // The requester holding another role, through another token, still cannot approve their own request.
  const collector::Actor same_person{analyst.id, collector::Role::approver, "token:approver00000002"};
  auto own = fx.store->approve_exception(x->id, same_person, kNow + 1);
  REQUIRE(own.has_error());
  CHECK(own.error().code == "separation_of_duties");
  CHECK(fx.store->findings({}).total == 2);

  auto ok = fx.store->approve_exception(x->id, approver, kNow + 2);
  REQUIRE(ok.has_value());
  CHECK(ok->status == "approved");
  CHECK(ok->approved_by == approver.id);
  CHECK(fx.store->findings({}).total == 0);
  collector::FindingQuery q;
  q.status = "excepted";
  const auto excepted = fx.store->findings(q);
  REQUIRE(excepted.total == 2);
  for (const auto& r : excepted.items) CHECK(r.exception_id == x->id);
  CHECK(fx.store->keys(10, 0).items.at(0).exception_id == x->id);

  CHECK(fx.store->approve_exception(x->id, approver, kNow + 3).error().code == "conflict");
  CHECK(fx.store->approve_exception("0000000000000000", approver, kNow + 3).error().code == "not_found");
  CHECK(fx.events_of("exception_requested").size() == 1);
  CHECK(fx.events_of("exception_approved").size() == 1);

  // Once it expires, the next report opens the places again.
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 90000);
  CHECK(fx.store->findings({}).total == 2);
  const auto list = fx.store->list_exceptions(kNow + 90000);
  REQUIRE(list.size() == 1);
  CHECK(list[0].status == "expired");
}

TEST_CASE("expiring certificates lists open certificate places that expire within the window") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a,
                   test::report({test::cert_finding("soon", "/etc/ssl/soon.pem", 1, kNow + 5 * 86400),
                                 test::cert_finding("later", "/etc/ssl/later.pem", 2, kNow + 300 * 86400),
                                 test::cert_finding("gone", "/etc/ssl/gone.pem", 3, kNow - 86400),
                                 test::key_finding("k", "/srv/k.pem", 4)}),
                   kNow);
  const auto within30 = fx.store->expiring_certificates(30 * 86400, kNow, 100, 0);
  REQUIRE(within30.total == 2);
  CHECK(within30.items[0].finding.at("id") == "gone");  // expired first
  CHECK(within30.items[1].finding.at("id") == "soon");
  CHECK(fx.store->expiring_certificates(365 * 86400, kNow, 100, 0).total == 3);
  CHECK(fx.store->expiring_certificates(0, kNow, 100, 0).total == 1);
}

TEST_CASE("counts add up agents places reports and events") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.enroll("pending-1");
  fx.store->ingest(
      a, test::report({test::key_finding("f1", "/srv/a.pem", 1), test::key_finding("f2", "/srv/b.pem", 2)}), kNow);
  fx.store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow + 1);
  const auto c = fx.store->counts();
  CHECK(c.agents_approved == 1);
  CHECK(c.agents_pending == 1);
  CHECK(c.hosts == 1);
  CHECK(c.open_findings == 1);
  CHECK(c.resolved_findings == 1);
  CHECK(c.keys == 1);
  CHECK(c.reports == 2);
  // 2 enrolled + 1 approved + 2 new + 1 resolved
  CHECK(c.events == 6);
  CHECK(c.audit_entries >= 6);
  CHECK(fx.store->schema_version() >= 1);
}

namespace {

collector::Outcome<collector::AgentInfo> enroll_with_key(test::StoreFixture& fx, const std::string& agent_id,
                                                         const std::string& spki, std::string* token_secret = nullptr) {
  const auto token = fx.store->create_enrollment_token(kNow + 3600, fx.admin);
  if (token_secret != nullptr) *token_secret = token.secret;
  collector::Enrollment e{agent_id, "intruder", "linux", test::fp(7000 + static_cast<int>(agent_id.back())), "7", spki};
  return fx.store->enroll_agent(token.secret, e, kNow + 100);
}

}  // namespace

TEST_CASE("enrolling with a key the fleet reports as exposed is refused, audited, and the key stays open") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  fx.store->ingest(a, test::report({test::key_finding("leak", "/home/alice/.ssh/id", 50)}), kNow);
  const auto before = only_finding(fx, "web-1");
  REQUIRE(before.at("risk").at("severity") == "high");

  std::string secret;
  auto refused = enroll_with_key(fx, "00000000000000f1", test::fp(50), &secret);
  REQUIRE(refused.has_error());
  CHECK(refused.error().code == "key_exposed");
  CHECK_FALSE(fx.store->agent("00000000000000f1").has_value());
  // The token is used up by the attempt, and the attempt is in the audit log.
  CHECK(fx.store->check_enrollment_token(secret, kNow + 101).error().code == "forbidden");
  const auto entries = fx.store->audit_entries(0, 1000);
  REQUIRE(!entries.empty());
  CHECK(entries.back().action == "agent.enroll_refused");
  CHECK(entries.back().subject == "spki:" + test::fp(50));
  CHECK(entries.back().detail.at("reason") == "key_exposed");
  CHECK(fx.store->verify_audit(std::nullopt).ok);

  // The place is as open and as risky as before, and its key is not keyward's.
  const auto after = only_finding(fx, "web-1");
  CHECK(after.at("risk") == before.at("risk"));
  CHECK(fx.store->findings({}).total == 1);
  CHECK_FALSE(fx.store->keys(10, 0).items.at(0).managed);

  // Gone from the host is not forgotten: a key once seen is refused too.
  fx.store->ingest(a, test::report({}), kNow + 200);
  CHECK(enroll_with_key(fx, "00000000000000f2", test::fp(50)).error().code == "key_exposed");
}

TEST_CASE("enrolling with a key keyward already manages is refused and a known finding is never made managed") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  CHECK(fx.store->add_managed_identity(test::fp(77), "collector CA"));
  CHECK(enroll_with_key(fx, "00000000000000f1", test::fp(77)).error().code == "key_in_use");
  CHECK(enroll_with_key(fx, "00000000000000f2", a.spki_sha256).error().code == "key_in_use");

  // A key the fleet reported first stays an exposure, whoever claims it later.
  fx.store->ingest(a, test::report({test::key_finding("leak", "/srv/x.pem", 78)}), kNow);
  CHECK_FALSE(fx.store->add_managed_identity(test::fp(78), "collector server key"));
  CHECK(fx.store->findings({}).total == 1);
  CHECK(fx.store->audit_entries(0, 1000).back().action == "identity.manage_refused");
}

TEST_CASE("an agent's key is managed on its own host only and no longer once the agent is revoked") {
  test::StoreFixture fx;
  const auto a = fx.agent("web-1");
  const auto b = fx.agent("web-2");
  const int own = 6001;  // the fixture's key of the first agent
  REQUIRE(a.spki_sha256 == test::fp(own));
  fx.store->ingest(a, test::report({test::key_finding("own", "/var/lib/keyward-agent/agent.key", own)}), kNow);
  CHECK(only_finding(fx, "web-1").at("risk").at("severity") == "info");
  CHECK(fx.store->findings({}).total == 0);

  // The same key on another host is a copy of it: an exposure there.
  fx.store->ingest(b, test::report({test::key_finding("copy", "/tmp/agent.key", own)}), kNow);
  const auto copy = only_finding(fx, "web-2");
  CHECK(copy.at("risk").at("severity") != "info");
  CHECK_FALSE(test::has_factor(copy, "keyward-managed"));
  CHECK(fx.store->findings({}).total == 1);

  REQUIRE(fx.store->revoke_agent(a.id, fx.admin, kNow + 10).has_value());
  const auto revoked = only_finding(fx, "web-1");
  CHECK_FALSE(test::has_factor(revoked, "keyward-managed"));
  CHECK(revoked.at("risk").at("score").get<int>() > 0);
  CHECK(fx.store->findings({}).total == 2);
  for (const auto& k : fx.store->keys(10, 0).items) CHECK_FALSE(k.managed);
}
