// SPDX-License-Identifier: Apache-2.0
// SqlStore, audit: the hash-chained log (audit_chain.hpp computes and verifies the chain);
// every change elsewhere in the store appends its entry through append_audit in its transaction.
// With an audit key, the head is signed after each commit that moved it (a checkpoint line in
// the events file, audit_key.hpp).
#include "store/sql_store.hpp"

#include "store/audit_chain.hpp"

#include <keyward/collector/audit_key.hpp>

#include <algorithm>

namespace keyward::collector::detail {

using nlohmann::json;

std::vector<AuditEntry> SqlStore::audit_entries(std::uint64_t since, std::uint64_t limit) {
  auto db = readers_->lease();
  return load_audit(*db, since, std::clamp<std::uint64_t>(limit, 1, 100000));
}

AuditHead SqlStore::audit_head() {
  auto db = readers_->lease();
  return load_audit_head(*db);
}

AuditHead SqlStore::load_audit_head(Db& db) {
  auto st = db.cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (!st->step()) return {};
  return {static_cast<std::uint64_t>(st->integer(0)), st->text(1)};
}

AuditVerdict SqlStore::verify_audit(const std::optional<AuditHead>& head,
                                    const std::vector<AuditCheckpoint>& checkpoints) {
  auto db = readers_->lease();
  return verify_chain(load_audit(*db, 0, static_cast<std::uint64_t>(INT64_MAX)), head, checkpoints);
}

void SqlStore::audit(const Actor& by, const std::string& action, const std::string& subject, const json& detail) {
  std::lock_guard lock(mu_);
  Transaction tx(*db_);
  append_audit(by, action, subject, detail, wall_clock());
  tx.commit();
}

void SqlStore::append_audit(const Actor& by, const std::string& action, const std::string& subject, const json& detail,
                            std::int64_t now) {
  AuditEntry e;
  const AuditHead last = load_audit_head(*db_);
  e.seq = last.seq + 1;
  e.prev_hash = last.seq == 0 ? kZeroHash : last.hash;
  e.chain = kAuditChainVersion;
  e.time = now;
  e.actor = by.id;
  e.via = by.via;
  e.action = action;
  e.subject = subject;
  e.detail = detail.is_null() ? json::object() : detail;
  // A json object cannot repeat a key, and dump() writes each once: what is stored is what
  // verify parses and json_extract reads.
  e.detail_text = e.detail.dump();
  e.hash = audit_hash(e);
  db_->prepare(
         "INSERT INTO audit(seq, chain, time, actor, via, action, subject, detail, prev_hash, hash) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(e.seq, e.chain, e.time, e.actor, e.via, e.action, e.subject, e.detail_text, e.prev_hash, e.hash)
      .run();
}

std::vector<AuditEntry> SqlStore::load_audit(Db& db, std::uint64_t since, std::uint64_t limit) {
  std::vector<AuditEntry> out;
  Stmt st = db.prepare(
      "SELECT seq, chain, time, actor, via, action, subject, detail, prev_hash, hash FROM audit WHERE seq > ? "
      "ORDER BY seq LIMIT ?");
  st.bind_all(static_cast<std::int64_t>(std::min<std::uint64_t>(since, INT64_MAX)),
              static_cast<std::int64_t>(std::min<std::uint64_t>(limit, INT64_MAX)));
  while (st.step()) {
    AuditEntry e;
    e.seq = static_cast<std::uint64_t>(st.integer(0));
    e.chain = static_cast<int>(st.integer(1));
    e.time = st.integer(2);
    e.actor = st.text(3);
    e.via = st.text(4);
    e.action = st.text(5);
    e.subject = st.text(6);
    e.detail_text = st.text(7);
    // A detail that no longer parses was changed: the API shows its text.
    json d = json::parse(e.detail_text, nullptr, false);
    e.detail = d.is_discarded() ? json(e.detail_text) : d;
    e.prev_hash = st.text(8);
    e.hash = st.text(9);
    out.push_back(std::move(e));
  }
  return out;
}

void SqlStore::sign_checkpoints(std::shared_ptr<const AuditSigningKey> key,
                                std::function<void(const std::string& line)> also_to) {
  std::lock_guard lock(mu_);
  signer_ = std::move(key);
  checkpoint_copy_ = std::move(also_to);
  // Signed from the next change on (serve's is collector.start): a reader signs nothing.
  checkpointed_seq_ = load_audit_head(*db_).seq;
}

void SqlStore::write_checkpoint() {
  if (!signer_) return;
  const AuditHead head = load_audit_head(*db_);
  if (head.seq == 0 || head.seq == checkpointed_seq_) return;
  const std::string line = to_json(signer_->sign(head, wall_clock())).dump();
  if (events_) events_->append_line(line);
  if (checkpoint_copy_) checkpoint_copy_(line);
  checkpointed_seq_ = head.seq;
}

}  // namespace keyward::collector::detail
