// SPDX-License-Identifier: Apache-2.0
// The audit log's hash chain: every state change is recorded; a changed, deleted or cut-off
// entry is named by verify, also one whose detail repeats a key, and a log rewritten with a
// recomputed chain is caught by the signed checkpoints in the events file.
#include "store_fixture.hpp"

#include <keyward/collector/audit_key.hpp>
#include <keyward/collector/store.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include <sys/stat.h>

using namespace keyward;
using test::kNow;

namespace {

using test::tamper;

// A store with ten audit entries.
struct AuditFixture : test::StoreFixture {
  AuditFixture() {
    const auto a = agent("web-1");  // enrollment token, enroll, approve: 3 entries
    store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
    for (int i = 0; i < 6; ++i) store->audit(admin, "collector.start", "collector", {{"n", i}});
    REQUIRE(store->audit_head().seq == 10);
  }
};

std::string sha256_hex(const std::string& text) {
  unsigned char md[32];
  EVP_Digest(text.data(), text.size(), md, nullptr, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned char c : md) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    hex += buf;
  }
  return hex;
}

// The hash of an entry of chain version 1, as an attacker who knows the scheme computes it
// (canonical JSON of the entry; docs/fleet.md).
std::string v1_hash(const collector::AuditEntry& e, const nlohmann::json& detail) {
  const nlohmann::json canon = {
      {"seq", e.seq},         {"time", e.time},   {"actor", e.actor},        {"action", e.action},
      {"subject", e.subject}, {"detail", detail}, {"prev_hash", e.prev_hash}};
  return sha256_hex(canon.dump());
}

// The hash of an entry of chain version 2: the stored bytes of each field, length-prefixed.
std::string v2_hash(const collector::AuditEntry& e, const std::string& detail_text, const std::string& prev_hash) {
  std::string text = "keyward.audit/v2\n";
  for (const std::string& f :
       {std::to_string(e.seq), std::to_string(e.time), e.actor, e.via, e.action, e.subject, detail_text, prev_hash})
    text += std::to_string(f.size()) + ":" + f + "\n";
  return sha256_hex(text);
}

// SQL string literal.
std::string sql_text(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// SQL that rewrites the detail of entry `seq` and recomputes the chain from there on (v2 rule),
// as someone with write access to the database and this code could.
std::string rewrite_and_rechain(const std::vector<collector::AuditEntry>& entries, std::uint64_t seq,
                                const std::string& detail_text) {
  std::string sql;
  std::string prev = entries[seq - 1].prev_hash;
  for (std::size_t i = seq - 1; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string text = e.seq == seq ? detail_text : e.detail_text;
    const std::string hash = v2_hash(e, text, prev);
    sql += "UPDATE audit SET detail = " + sql_text(text) + ", prev_hash = " + sql_text(prev) +
           ", hash = " + sql_text(hash) + " WHERE seq = " + std::to_string(e.seq) + ";";
    prev = hash;
  }
  return sql;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::istringstream in(test::file_bytes(path));
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("every state change appends a chained audit entry and the chain verifies") {
  AuditFixture fx;
  const auto entries = fx.store->audit_entries(0, 100);
  REQUIRE(entries.size() == 10);
  CHECK(entries[0].seq == 1);
  CHECK(entries[0].prev_hash == std::string(64, '0'));
  CHECK(entries[0].action == "enrollment_token.create");
  CHECK(entries[1].action == "agent.enroll");
  CHECK(entries[2].action == "agent.approve");
  CHECK(entries[2].actor == fx.admin.id);
  CHECK(entries[3].action == "report.ingest");
  CHECK(entries[3].actor == "agent:00000000000000a1");
  CHECK(entries[3].detail.at("new") == 1);
  for (std::size_t i = 1; i < entries.size(); ++i) CHECK(entries[i].prev_hash == entries[i - 1].hash);
  CHECK(fx.store->audit_entries(8, 100).size() == 2);

  const auto v = fx.store->verify_audit(fx.store->audit_head());
  CHECK(v.ok);
  CHECK(v.entries == 10);
  CHECK(v.problem.empty());
}

TEST_CASE("an audit entry changed in the database file is named by verify") {
  AuditFixture fx;
  fx.store.reset();
  fx.tamper("UPDATE audit SET actor = 'token:someoneelse' WHERE seq = 3");
  fx.reopen();
  const auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 3);
  CHECK(v.problem == "entry 3 was changed");
}

TEST_CASE("an audit entry changed with its hash recomputed breaks the link and is named") {
  AuditFixture fx;
  const auto entries = fx.store->audit_entries(0, 100);
  const auto& e = entries[4];  // seq 5
  REQUIRE(e.chain == 2);
  CHECK(v2_hash(e, e.detail_text, e.prev_hash) == e.hash);  // the rule as docs/fleet.md gives it
  // Recompute the hash as an attacker who knows the scheme would.
  const std::string hex = v2_hash(e, "{\"n\":999}", e.prev_hash);
  fx.store.reset();
  fx.tamper("UPDATE audit SET detail = '{\"n\":999}', hash = '" + hex + "' WHERE seq = 5");
  fx.reopen();
  const auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 5);
  CHECK(v.problem == "entry 5 was changed");
}

TEST_CASE("a deleted middle audit entry is reported missing") {
  AuditFixture fx;
  fx.store.reset();
  fx.tamper("DELETE FROM audit WHERE seq = 6");
  fx.reopen();
  const auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 6);
  CHECK(v.problem == "entry 6 is missing");
}

TEST_CASE("a cut-off tail verifies alone but not against a head exported before the cut") {
  AuditFixture fx;
  const auto head = fx.store->audit_head();
  CHECK(head.seq == 10);
  CHECK(head.hash.size() == 64);
  fx.store.reset();
  fx.tamper("DELETE FROM audit WHERE seq > 7");
  fx.reopen();
  CHECK(fx.store->verify_audit(std::nullopt).ok);  // a prefix of a chain is a chain
  const auto v = fx.store->verify_audit(head);
  CHECK_FALSE(v.ok);
  CHECK(v.problem == "the log ends at 7, before the exported head 10");
}

TEST_CASE("a log rewritten from the exported head on is caught by the head's hash") {
  AuditFixture fx;
  const auto head = fx.store->audit_head();
  fx.store.reset();
  fx.tamper("DELETE FROM audit WHERE seq = 10");
  fx.reopen();
  fx.store->audit(fx.admin, "collector.start", "collector", {{"n", "replacement"}});
  const auto v = fx.store->verify_audit(head);
  CHECK(fx.store->verify_audit(std::nullopt).ok);
  CHECK_FALSE(v.ok);
  CHECK(v.problem == "entry 10 was changed");
}

TEST_CASE("a detail forged with a repeated key is refused by verify, though it parses to the same value") {
  AuditFixture fx;
  const auto e = fx.store->audit_entries(0, 100).at(5);  // seq 6: {"n":1}
  REQUIRE(e.detail_text == "{\"n\":1}");
  fx.store.reset();
  // json_extract reads the first "n" (99); a parser that keeps the last one still sees 1.
  fx.tamper("UPDATE audit SET detail = '{\"n\":99,\"n\":1}' WHERE seq = 6");
  CHECK(nlohmann::json::parse(R"({"n":99,"n":1})") == nlohmann::json::parse(e.detail_text));
  fx.reopen();
  const auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 6);
  CHECK(v.problem == "entry 6 was changed: its detail has the key \"n\" twice");
}

TEST_CASE("entries of the first chain version still verify, and a repeated key in one is caught too") {
  AuditFixture fx;
  // What a log written before chain version 2 holds: chain 1, no via, hashes by the v1 rule.
  std::string sql;
  std::string prev = std::string(64, '0');
  for (auto e : fx.store->audit_entries(0, 100)) {
    e.prev_hash = prev;
    prev = v1_hash(e, e.detail);
    sql += "UPDATE audit SET chain = 1, via = '', prev_hash = " + sql_text(e.prev_hash) + ", hash = " + sql_text(prev) +
           " WHERE seq = " + std::to_string(e.seq) + ";";
  }
  fx.store.reset();
  fx.tamper(sql);
  fx.reopen();
  CHECK(fx.store->verify_audit(fx.store->audit_head()).ok);
  // New entries continue the chain with version 2.
  fx.store->audit(fx.admin, "collector.start", "collector", {{"n", "after"}});
  const auto all = fx.store->audit_entries(0, 100);
  CHECK(all.at(9).chain == 1);
  CHECK(all.at(10).chain == 2);
  CHECK(fx.store->verify_audit(std::nullopt).ok);

  // The v1 hash covers the parsed detail: verify also wants the text keyward wrote.
  fx.store.reset();
  fx.tamper("UPDATE audit SET detail = '{\"n\": 1}' WHERE seq = 6");
  fx.reopen();
  auto v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 6);
  fx.store.reset();
  fx.tamper("UPDATE audit SET detail = '{\"n\":99,\"n\":1}' WHERE seq = 6");
  fx.reopen();
  v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.problem == "entry 6 was changed: its detail has the key \"n\" twice");
  // A version-1 entry after a version-2 one is a rewrite.
  fx.store.reset();
  fx.tamper("UPDATE audit SET detail = '{\"n\":1}' WHERE seq = 6; UPDATE audit SET chain = 1 WHERE seq = 11");
  fx.reopen();
  v = fx.store->verify_audit(std::nullopt);
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 11);
}

namespace {

// An audit fixture whose store signs checkpoints with a key made for the test.
struct SignedFixture : test::StoreFixture {
  std::string key_path = dir.path("pki/audit.key");
  std::string pub_path = dir.path("pki/audit.pub");
  std::vector<std::string> copies;  // what the syslog copy would get

  SignedFixture() {
    std::filesystem::create_directories(dir.path("pki"));
    collector::AuditSigningKey::create(key_path, pub_path);
    sign();
    const auto a = agent("web-1");
    store->ingest(a, test::report({test::key_finding("f1", "/srv/a.pem", 1)}), kNow);
    for (int i = 0; i < 6; ++i) store->audit(admin, "collector.start", "collector", {{"n", i}});
    REQUIRE(store->audit_head().seq == 10);
  }
  void sign() {
    store->sign_checkpoints(collector::AuditSigningKey::load(key_path),
                            [this](const std::string& line) { copies.push_back(line); });
  }
  // The signed checkpoints of the events file, each checked with the public key.
  std::vector<collector::AuditCheckpoint> checkpoints() {
    const auto lines = collector::read_checkpoint_lines(events_path);
    REQUIRE(lines.malformed_line == 0);
    const collector::AuditVerifyKey key(pub_path);
    for (const auto& c : lines.checkpoints) REQUIRE(key.verify(c));
    return lines.checkpoints;
  }
};

}  // namespace

TEST_CASE("every change is followed by a signed checkpoint of the head in the events file") {
  SignedFixture fx;
  const auto cps = fx.checkpoints();
  REQUIRE(cps.size() == 10);  // one per entry: each change committed on its own
  for (std::size_t i = 0; i < cps.size(); ++i) CHECK(cps[i].seq == i + 1);
  CHECK(cps.back().hash == fx.store->audit_head().hash);
  CHECK(fx.copies.size() == cps.size());
  CHECK(collector::checkpoint_from_json(nlohmann::json::parse(fx.copies.back()))->signature == cps.back().signature);
  const auto v = fx.store->verify_audit(std::nullopt, cps);
  CHECK(v.ok);
  CHECK(v.checkpoints == 10);

  // A checkpoint whose hash was edited no longer carries a valid signature; one by another key is refused.
  auto forged = cps.back();
  forged.hash = std::string(64, 'a');
  CHECK_FALSE(collector::AuditVerifyKey(fx.pub_path).verify(forged));
  collector::AuditSigningKey::create(fx.dir.path("other.key"), fx.dir.path("other.pub"));
  const auto other = collector::AuditSigningKey::load(fx.dir.path("other.key"))->sign(fx.store->audit_head(), kNow);
  CHECK_FALSE(collector::AuditVerifyKey(fx.pub_path).verify(other));

  // Reopening with checkpoint lines last: events are neither lost nor written twice.
  const auto events_before = fx.store->events(0, 1000).size();
  fx.reopen();
  std::size_t event_lines = 0;
  for (const auto& l : lines_of(fx.events_path)) event_lines += l.find("\"audit_checkpoint\"") == std::string::npos;
  CHECK(event_lines == events_before);
}

TEST_CASE("a log rewritten with a recomputed chain verifies alone but fails against its signed checkpoints") {
  SignedFixture fx;
  const auto entries = fx.store->audit_entries(0, 100);
  fx.store.reset();
  fx.tamper(rewrite_and_rechain(entries, 5, "{\"n\":999}"));
  fx.reopen();
  CHECK(fx.store->audit_entries(4, 1).at(0).detail == nlohmann::json{{"n", 999}});
  CHECK(fx.store->verify_audit(std::nullopt).ok);  // the chain alone cannot tell
  const auto v = fx.store->verify_audit(std::nullopt, fx.checkpoints());
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_seq == 5);
  CHECK(v.problem == "entry 5 does not match its signed checkpoint: the log was rewritten at or before entry 5");
}

TEST_CASE("a tail cut after its checkpoints were signed fails against them") {
  SignedFixture fx;
  fx.store.reset();
  fx.tamper("DELETE FROM audit WHERE seq > 8");
  fx.reopen();
  CHECK(fx.store->verify_audit(std::nullopt).ok);
  const auto cut = fx.store->verify_audit(std::nullopt, fx.checkpoints());
  CHECK_FALSE(cut.ok);
  CHECK(cut.first_bad_seq == 9);
  CHECK(cut.problem == "the log ends at 8, before the signed checkpoint of entry 9");
}

TEST_CASE("the audit signing key is 0600 and never reaches the database, the events file or a checkpoint") {
  SignedFixture fx;
  struct stat st {};
  REQUIRE(::stat(fx.key_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The key's PEM body lines and its raw 32 bytes.
  std::vector<std::string> secrets;
  for (const auto& l : lines_of(fx.key_path))
    if (l.rfind("-----", 0) != 0 && !l.empty()) secrets.push_back(l);
  const std::string pem = test::file_bytes(fx.key_path);
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  REQUIRE(key != nullptr);
  std::string raw(32, '\0');
  std::size_t n = raw.size();
  REQUIRE(EVP_PKEY_get_raw_private_key(key, reinterpret_cast<unsigned char*>(raw.data()), &n) == 1);
  EVP_PKEY_free(key);
  secrets.push_back(raw);
  REQUIRE_FALSE(secrets.empty());
  std::string copies;
  for (const auto& c : fx.copies) copies += c;
  fx.store.reset();
  for (const auto& bytes : {fx.database_bytes(), test::file_bytes(fx.events_path)}) {
    for (const auto& s : secrets) CHECK(bytes.find(s) == std::string::npos);
  }
  for (const auto& s : secrets) CHECK(copies.find(s) == std::string::npos);
  CHECK(test::file_bytes(fx.events_path).find("audit_checkpoint") != std::string::npos);  // really read
}
