// SPDX-License-Identifier: Apache-2.0
// SqlStore: the Store on SQLite or PostgreSQL (db.hpp), one logic for both. Changes go through
// one writer connection guarded by one lock: every changing call holds it for its whole
// duration, so the server's threads share the store safely and each multi-statement change is
// one write transaction (one writer in the whole database, across replicas) that also appends
// its audit entry; a large report's ingest is the exception, one transaction per chunk of places
// (sql_ingest.cpp). Reads take a connection of their own (ReaderPool). Events go to the events
// file after the commit.
// Its members live in one file per concern, all sharing this header:
//   sql_store.cpp       opening (SQLite's file and pragmas, migrations), schema version, counts
//   sql_tokens.cpp      API tokens and one-time enrollment tokens
//   sql_agents.cpp      enrollment, agents, approval (ingests held reports), revocation, tags
//   sql_ingest.cpp      a report's ingest, in named steps and bounded chunks
//   sql_scoring.cpp     fleet risk of an identity's places; keyward's own (managed) keys
//   sql_queries.cpp     hosts, findings, keys, expiring certificates
//   sql_exceptions.cpp  exceptions: request, approve, list; the live one of an identity
//   sql_audit.cpp       the hash-chained audit log and its signed checkpoints
//   sql_events.cpp      events in the database and their copy in the events file
//   sql_migrations.cpp  the fleet's HSM migration plan: request, approval, binding, results
// A new concern is a new file here plus its members below.
// Used by: open_sqlite_store and open_postgres_store only. Must never store a token secret or key bytes, and must never
// change a table without the audit entry in the same transaction.
#pragma once

#include "store/db.hpp"
#include "store/event_file.hpp"
#include "store/fair_mutex.hpp"
#include "store/fleet_risk.hpp"
#include "store/placed_report.hpp"

#include <keyward/collector/store.hpp>
#include <keyward/migrate/plan.hpp>
#include <keyward/rules/rule_set.hpp>

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::collector::detail {

// The current Unix time (for changes whose caller passes no time).
std::int64_t wall_clock();
// A refusal of an action.
Refusal refuse(std::string code, std::string message);
// An invalid refusal naming `what` when text is blank, longer than max bytes, not UTF-8 or holds
// a control character (common::has_control_characters); nullopt when it is fine.
std::optional<Refusal> check_text(std::string_view what, std::string_view text, std::size_t max);
// JSON text stored by the store; an empty object when it no longer parses.
nlohmann::json parse_json(const std::string& text);
// "info".."critical" of a severity rank 0..4; "" otherwise.
std::string severity_name(std::int64_t rank);
// "spki:<hex>" of an SPKI SHA-256 (given with or without the prefix).
std::string identity_of_spki(const std::string& spki);

// Places one transaction of a report's ingest upserts, and gone places it resolves (issue 12: a
// maximal report holds the lock in short turns, and readers interleave).
inline constexpr std::size_t kIngestChunk = 1000;

// A report held for a pending agent (its held_reports row), made into places for approval.
struct HeldReport {
  std::int64_t row = 0;
  PlacedReport placed;
};

// A plan item's stored life (its migration_items row; sql_migrations.cpp).
struct MigrationRow {
  std::string item_id, identity, state, strategy, item_json, binding_json, requested_by, approved_by, refused_by,
      decision_reason, result_json;
  std::int64_t requested_at = 0, decided_at = 0;
};

class SqlStore final : public Store {
 public:
  // writer: the connection every change goes through; open_reader: makes a read-only one.
  SqlStore(std::unique_ptr<Db> writer, std::function<std::unique_ptr<Db>()> open_reader, const std::string& events_file,
           const FleetOptions& fleet);

  int schema_version() override;
  std::string readiness_problem() override;

  Outcome<NewToken> create_token(Role role, const std::string& name, const std::string& principal,
                                 std::int64_t expires_at, const Actor& by) override;
  std::optional<TokenInfo> find_token(std::string_view secret, std::int64_t now) override;
  std::vector<TokenInfo> list_tokens() override;
  Outcome<TokenInfo> revoke_token(const std::string& id, const Actor& by) override;

  NewEnrollmentToken create_enrollment_token(std::int64_t expires_at, const Actor& by) override;
  Outcome<std::string> check_enrollment_token(std::string_view secret, std::int64_t now) override;
  Outcome<AgentInfo> enroll_agent(std::string_view enrollment_secret, const Enrollment& e, std::int64_t now) override;

  std::optional<AgentInfo> agent(const std::string& id) override;
  std::optional<AgentInfo> agent_by_cert(const std::string& cert_sha256) override;
  std::vector<AgentInfo> list_agents() override;
  Outcome<AgentInfo> approve_agent(const std::string& id, const Actor& by, std::int64_t now) override;
  Outcome<AgentInfo> revoke_agent(const std::string& id, const Actor& by, std::int64_t now) override;
  Outcome<AgentInfo> set_agent_tags(const std::string& id, const std::vector<std::string>& tags,
                                    const Actor& by) override;
  void touch_agent(const std::string& id, std::int64_t now) override;

  bool add_managed_identity(const std::string& spki_sha256, const std::string& what) override;

  using Store::ingest;
  IngestOutcome ingest(const AgentInfo& agent, const protocol::Report& report, std::int64_t now,
                       const Actor& by) override;
  Outcome<AgentInfo> remote_host(const std::string& name, const Actor& by, std::int64_t now) override;
  Outcome<AgentInfo> record_remote_scan(const std::string& id, const RemoteScanStatus& status,
                                        const Actor& by) override;

  std::vector<HostRow> hosts() override;
  Page<FindingRow> findings(const FindingQuery& q) override;
  void visit_places(const std::string& status, const std::function<void(const FindingRow&)>& visit) override;
  using Store::keys;
  Page<KeyRow> keys(const KeyQuery& q) override;
  Page<FindingRow> expiring_certificates(std::int64_t within_seconds, std::int64_t now, std::uint64_t limit,
                                         std::uint64_t offset) override;
  std::vector<Event> events(std::uint64_t since, std::uint64_t limit) override;
  std::vector<Event> identity_events(const std::string& identity, std::uint64_t since, std::uint64_t limit) override;

  using Store::request_exception;
  Outcome<ExceptionInfo> request_exception(const std::string& identity, ExceptionKind kind, const std::string& reason,
                                           std::int64_t expires_at, const Actor& by, std::int64_t now) override;
  Outcome<ExceptionInfo> approve_exception(const std::string& id, const Actor& by, std::int64_t now) override;
  std::vector<ExceptionInfo> list_exceptions(std::int64_t now) override;

  migrate::Plan fleet_plan(std::int64_t now) override;
  Outcome<migrate::PlanItem> request_migration(const std::string& item_id, const std::string& reason, const Actor& by,
                                               std::int64_t now) override;
  Outcome<migrate::PlanItem> approve_migration(const std::string& item_id, const Actor& by, std::int64_t now) override;
  Outcome<migrate::PlanItem> refuse_migration(const std::string& item_id, const std::string& reason, const Actor& by,
                                              std::int64_t now) override;
  std::vector<migrate::PlanItem> migrations_for_agent(const std::string& agent_id, std::int64_t now) override;
  Outcome<migrate::PlanItem> record_migration_result(const std::string& item_id, const migrate::ItemResult& result,
                                                     const Actor& by, std::int64_t now) override;

  std::vector<AuditEntry> audit_entries(std::uint64_t since, std::uint64_t limit) override;
  AuditHead audit_head() override;
  using Store::verify_audit;
  AuditVerdict verify_audit(const std::optional<AuditHead>& head,
                            const std::vector<AuditCheckpoint>& checkpoints) override;
  void sign_checkpoints(std::shared_ptr<const AuditSigningKey> key,
                        std::function<void(const std::string& line)> also_to) override;
  void audit(const Actor& by, const std::string& action, const std::string& subject,
             const nlohmann::json& detail) override;

  StoreCounts counts() override;

 private:
  // The helpers below run with mu_ held, inside the caller's transaction when they write; the
  // static ones read from the connection they are given (the writer's, or a reader's lease).

  // sql_tokens.cpp: the unused, unexpired enrollment token of a secret (its id).
  Outcome<std::string> check_enrollment(std::string_view secret, std::int64_t now);

  // sql_agents.cpp
  static std::vector<std::string> load_tags(Db& db, const std::string& id);
  static std::optional<AgentInfo> load_agent_where(Db& db, const char* column, const std::string& value);
  std::optional<AgentInfo> load_agent(const std::string& id);
  std::optional<AgentInfo> load_agent_by_cert(const std::string& sha);
  // The identities present (unresolved) on an agent's host.
  std::vector<std::string> agent_identities(const std::string& agent_id);
  // Refuses an enrollment whose key keyward may not manage: consumes the token, audits.
  Refusal refuse_enrollment(const Refusal& why, const Enrollment& e, const std::string& token_id, std::int64_t now);
  // The reports held while an agent was pending (id, body), oldest first.
  std::vector<std::pair<std::int64_t, std::string>> held_reports(const std::string& agent_id);

  // sql_ingest.cpp: a report's ingest, one function per step; ingest_step runs inside the
  // caller's transaction. One ingest (or approval, or revocation) per agent at a time: in this
  // process, and on PostgreSQL in every replica (an advisory lock per agent).
  class AgentTurn {
   public:
    AgentTurn(SqlStore& store, const std::string& agent_id);
    ~AgentTurn();
    AgentTurn(const AgentTurn&) = delete;
    AgentTurn& operator=(const AgentTurn&) = delete;

   private:
    void release();
    SqlStore& store_;
    std::string agent_id_;
  };
  struct IngestRun;
  static IngestOutcome duplicate_outcome(const protocol::Report& report);
  // One step of an ingest, bounded by kIngestChunk places upserted and as many resolved; the
  // step that leaves nothing to do records the report (true). Audited either way.
  bool ingest_step(IngestRun& run);
  // Approval: the held reports in steps as a live report's (the agent stays pending meanwhile,
  // and its turn keeps its other reports out), each dropped from the held ones in its last
  // step; `finish` (the approval itself) runs in the very last transaction, and its refusal
  // rolls that one back. A crash midway leaves the agent pending, to be approved again.
  std::optional<Refusal> ingest_held(const std::string& agent_id, const std::vector<HeldReport>& held, std::int64_t now,
                                     const std::function<std::optional<Refusal>()>& finish);
  bool is_duplicate_report(const std::string& agent_id, const std::string& report_id);
  // The host's last complete snapshot digest ("" when its places may differ from it).
  std::string snapshot_digest(const std::string& agent_id);
  std::optional<IngestOutcome> record_unchanged(const std::string& agent_id, const ScoredReport& placed,
                                                std::int64_t now, const Actor& by);
  // Identities with places still excepted by an exception that has expired.
  std::vector<std::string> expired_exception_identities(std::int64_t now);
  IngestOutcome hold_report(const AgentInfo& agent, const protocol::Report& report, std::int64_t now);
  void upsert_places(IngestRun& run, std::size_t begin, std::size_t end);
  bool resolve_gone_places(IngestRun& run, std::size_t limit);
  void touch_expired_exceptions(IngestRun& run);
  void add_new_place_events(IngestRun& run);
  void record_report(IngestRun& run);

  // sql_scoring.cpp
  // Rescores every present place of an identity with the fleet factors and sets its status
  // (managed on its owner's host > excepted or false_positive > open); writes only the places
  // that changed.
  // With `changed` (an ingest's places of it), and fleet facts that score as they did
  // (IdentityFacts::signature), only those places are scored: an ingest's cost grows with what
  // it changed, not with the number of hosts that have the key.
  void recompute_identity(const std::string& identity, std::int64_t now,
                          const std::set<std::string>* changed = nullptr);
  struct IdentityFacts;
  IdentityFacts identity_facts(const std::string& identity, std::int64_t now);
  void rank_identity(const std::string& identity);
  // One present place of an identity as rescoring reads it.
  struct ScoredPlace {
    std::string place_id, agent_id, base_risk, risk, status, exception_id;
    bool holds_key = false;
  };
  bool is_build_host(const std::string& agent_id);
  void write_place_risk(const ScoredPlace& place, const FleetFacts& facts,
                        const std::optional<ExceptionInfo>& exception);
  // Why keyward may not make an identity its own: already managed (key_in_use) or already seen
  // as a finding (key_exposed); nullopt when it may.
  std::optional<Refusal> unmanageable(const std::string& identity);
  // Marks an identity as keyward's own (agent_id: an agent's key, managed on that host only) and
  // rescores its places; false when nothing changed, a Refusal when it may not be.
  Outcome<bool> set_managed(const std::string& identity, const std::string& what, const std::string& agent_id,
                            std::int64_t now);
  // A revoked agent's key is no longer managed: rescored as open. Its identity, or "".
  std::string unmanage_agent_key(const std::string& agent_id, std::int64_t now);
  // At open: rescores the places still shown managed whose key no longer is (schema 3).
  void rescore_stale_managed();

  // sql_exceptions.cpp
  std::optional<ExceptionInfo> load_exception(const std::string& id, std::int64_t now);
  // The approved, unexpired exception covering an identity (the newest approved); nullopt if none.
  std::optional<ExceptionInfo> live_exception(const std::string& identity, std::int64_t now);

  // sql_migrations.cpp
  std::map<std::string, MigrationRow> load_migration_rows();
  // The plan from the inventory with each stored row laid over its item (stored items gone from
  // the inventory that ran are kept at the end); approved items whose binding changed go back
  // to proposed first (audited, evented, inside the caller's transaction).
  migrate::Plan current_plan(std::int64_t now);
  migrate::Plan inventory_plan(std::int64_t now);
  void invalidate_changed(const migrate::Plan& plan, std::map<std::string, MigrationRow>& rows, std::int64_t now);
  // The item of current_plan with that id, or not_found.
  Outcome<migrate::PlanItem> plan_item(const std::string& item_id, std::int64_t now);
  void write_migration_row(const MigrationRow& row, std::int64_t now);
  // Records a result's clean-ups for the host of `agent_id` ("" a person: any host); the paths done.
  std::vector<std::string> record_cleanups(const migrate::PlanItem& item, const migrate::ItemResult& result,
                                           const std::string& agent_id, std::int64_t now);
  bool cleanup_pending(const std::string& item_id, const std::string& agent_id);
  void audit_cleanups(const migrate::PlanItem& item, const std::vector<std::string>& cleaned, const Actor& by,
                      std::int64_t now);
  // A run's result on an approved or running item: its new state, event and audit entry; the
  // refusal when a done result lacks its verification (nothing written then).
  std::optional<Refusal> apply_result(const migrate::PlanItem& item, MigrationRow& row,
                                      const migrate::ItemResult& result, const Actor& by, std::int64_t now);

  // sql_audit.cpp: appends one audit entry, chained to the last one.
  void append_audit(const Actor& by, const std::string& action, const std::string& subject,
                    const nlohmann::json& detail, std::int64_t now);
  static std::vector<AuditEntry> load_audit(Db& db, std::uint64_t since, std::uint64_t limit);
  static AuditHead load_audit_head(Db& db);
  // After a commit: signs the head when it moved since the last checkpoint (with a key).
  void write_checkpoint();

  // sql_events.cpp: adds one event; seq = max + 1, so gap-free.
  void add_event(std::int64_t now, const std::string& type, const std::string& agent_id, const std::string& identity,
                 const std::string& finding_id, const nlohmann::json& detail);
  // identity "" : every identity's.
  static std::vector<Event> load_events(Db& db, std::uint64_t since, std::uint64_t limit,
                                        const std::string& identity = {});
  // Writes the committed events the events file lacks (after each commit, and at open): every
  // replica's, in the database's one order.
  void flush_events();

  FairMutex mu_;         // in arrival order: readers interleave with a large ingest
  std::mutex turns_mu_;  // guards busy_agents_ (never held with mu_)
  std::condition_variable turns_cv_;
  std::set<std::string> busy_agents_;    // agents with an ingest, approval or revocation running
  std::unique_ptr<Db> db_;               // the writer: behind mu_
  std::unique_ptr<ReaderPool> readers_;  // reads: never behind mu_
  rules::RuleSet rules_;
  migrate::Targets targets_;  // HSM target profiles and policy (builtin + FleetOptions::hsm_dirs)
  std::unique_ptr<EventFile> events_;
  std::shared_ptr<const AuditSigningKey> signer_;  // null: no checkpoints
  std::function<void(const std::string&)> checkpoint_copy_;
  std::uint64_t checkpointed_seq_ = 0;
};

}  // namespace keyward::collector::detail
