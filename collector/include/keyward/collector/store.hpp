// SPDX-License-Identifier: Apache-2.0
// Store: the collector's inventory behind one interface: agents and their enrollment, API
// tokens, reports and the fleet's findings, keys, certificates, events, exceptions and the
// hash-chained audit log. SqlStore (src/store/sql_store.hpp) is the embedded default; a
// PostgreSQL store comes later behind the same interface.
// Used by: the collector's API handlers and its command line (init, token, agents, audit).
// Must never store key bytes, passwords or token secrets: tokens are kept as SHA-256 hashes,
// findings as their JSON facts. Every state change appends an audit entry in the same
// transaction.
#pragma once

#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>
#include <keyward/protocol/protocol.hpp>

#include <keyward/common/secret.hpp>

#include <boost/system/result.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keyward::collector {

// Roles of API tokens (not a ladder: separation of duties). Every role may read.
//   viewer: read; analyst: request exceptions; approver: approve exceptions (never their own);
//   admin: agents, tokens, enrollment tokens, host tags.
enum class Role { viewer, analyst, approver, admin };
std::string_view to_string(Role r) noexcept;
std::optional<Role> role_from_string(std::string_view s) noexcept;

// What an exception says of a key identity (issue 13): its risk is accepted for a while, or
// its findings are false positives (a test key, a fixture): either way its places stay listed
// and counted, with status excepted or false_positive, and out of the open findings' totals.
enum class ExceptionKind { accepted_risk, false_positive };
std::string_view to_string(ExceptionKind k) noexcept;  // "accepted_risk" | "false_positive"
std::optional<ExceptionKind> exception_kind_from_string(std::string_view s) noexcept;

// Who does something; written into the audit log and compared for separation of duties.
// A person or service holding API tokens is one principal whatever token they use (issue 12):
// two tokens of "alice" are one actor.
struct Actor {
  Actor() = default;
  Actor(std::string id_, std::optional<Role> role_, std::string via_ = {})
      : id(std::move(id_)), role(role_), via(std::move(via_)) {}
  // "principal:<name>" (an API token's holder), "agent:<id>", "enrollment:<enrollment token id>",
  // "cli:<unix user>", "collector"
  std::string id;
  std::optional<Role> role;
  std::string via;  // the credential used, "token:<token id>"; "" for the others
};
// The actor id of a token's principal: "principal:" + principal.
std::string principal_actor_id(std::string_view principal);
// The longest token name or principal, and exception reason, in bytes of UTF-8.
inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxReasonLength = 2000;

// A database or schema failure (not an expected per-request outcome).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why an action was refused; code is stable and maps to an HTTP status in the API.
struct Refusal {
  // not_found (404), conflict (409), forbidden (403), separation_of_duties (403), invalid (400),
  // expired (410); an enrollment's key_exposed and key_in_use (409: the key is a finding
  // already, or keyward's own already).
  std::string code;
  std::string message;  // one line a person reads; never a secret
};
template <class T>
using Outcome = boost::system::result<T, Refusal>;
// Lets Outcome<T>::value() throw when it holds a Refusal (found by argument-dependent lookup):
// a StoreError "code: message". Prefer checking the outcome; this is for tests and tools.
[[noreturn]] void throw_exception_from_error(const Refusal& r, const boost::source_location& loc);

struct TokenInfo {
  std::string id;  // 16 hex digits; public, names the token in the audit log
  Role role = Role::viewer;
  std::string name;       // what the token is for (e.g. "grafana", "alice laptop")
  std::string principal;  // who holds it (default: the name); separation of duties compares it
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;  // 0: never
  bool revoked = false;
};
// A new token: the secret is shown once and never stored (only its SHA-256).
struct NewToken {
  TokenInfo info;
  std::string secret;  // "kwt_" + 43 base64url characters (256 bits)
};
// A new one-time enrollment token ("kwe_" + 43 base64url characters).
struct NewEnrollmentToken {
  std::string id;
  std::int64_t expires_at = 0;
  std::string secret;
};

enum class AgentStatus { pending, approved, revoked };
std::string_view to_string(AgentStatus s) noexcept;

// What a host is (docs/fleet.md, "Remote scans"): an enrolled agent, or a remote target the
// collector scans over SSH on a schedule. Both report and are stored alike.
enum class HostSource { agent, remote };
std::string_view to_string(HostSource s) noexcept;  // "agent" | "remote"
// The agent id of a remote target: "ssh:" + its inventory name (an agent's id is 16 hex digits).
std::string remote_host_id(std::string_view name);

// How a remote target's last scan ended: a host status of docs/remote.md (ok, unreachable,
// host_key_unknown, ...) and its one-line message ("" when ok). Empty for agents.
struct RemoteScanStatus {
  std::string status;
  std::string message;
  std::int64_t scanned_at = 0;
};

struct AgentInfo {
  std::string id;  // 16 hex digits; also the CN of its certificate
  std::string hostname;
  std::string os;
  AgentStatus status = AgentStatus::pending;
  std::string cert_sha256;  // of its DER certificate: how a TLS peer is looked up
  std::string cert_serial;
  std::string spki_sha256;  // of its key: a keyward-managed identity
  std::int64_t enrolled_at = 0;
  std::int64_t approved_at = 0;
  std::int64_t revoked_at = 0;
  std::int64_t last_seen_at = 0;
  std::int64_t last_report_at = 0;
  std::vector<std::string> tags;  // e.g. "build" (a fleet risk factor)
  HostSource source = HostSource::agent;
  RemoteScanStatus remote;  // remote targets only
};

// An agent's tag, one rule for the API, the CLI and the store: 1 to 64 characters of letters,
// digits, '-', '_', '.' or ':' (docs/fleet.md, "API v1").
bool valid_agent_tag(std::string_view tag);
inline constexpr std::string_view kAgentTagRule =
    "a tag is 1 to 64 characters of letters, digits, '-', '_', '.' or ':'";

// What the collector learned from an enrollment request (after signing the CSR).
struct Enrollment {
  std::string agent_id;
  std::string hostname;
  std::string os;
  std::string cert_sha256;
  std::string cert_serial;
  std::string spki_sha256;
};

// What happened to a report.
struct IngestOutcome {
  enum class Status { stored, duplicate, held } status = Status::stored;  // held: agent not approved yet
  std::uint64_t findings = 0;                                             // places in the report
  std::uint64_t new_places = 0;  // places first seen (each raised a "new" event)
  std::uint64_t resolved = 0;    // places gone from a complete snapshot
};

// A page of results: items plus the total that matched.
template <class T>
struct Page {
  std::vector<T> items;
  std::uint64_t total = 0;
};

struct HostRow {
  std::string agent_id;
  std::string hostname;
  std::string os;
  std::string agent_status;
  std::vector<std::string> tags;
  std::int64_t last_report_at = 0;
  std::uint64_t open_findings = 0;
  std::string max_severity;  // of open findings; "" when none
  HostSource source = HostSource::agent;
  RemoteScanStatus remote;  // remote targets only
};

struct FindingQuery {
  std::string host;             // agent id or hostname; "" any
  std::string severity;         // exact band; "" any
  std::string min_severity;     // at or above; "" any
  std::string kind;             // private_key | certificate | keystore | public_key; "" any
  std::string identity;         // one key identity ("spki:<hex>", ...); "" any
  std::string status = "open";  // open | resolved | excepted | false_positive | managed | all
  std::uint64_t limit = 100;    // 1..1000
  std::uint64_t offset = 0;
};

// One place of one finding on one host, with its fleet state.
struct FindingRow {
  std::string place_id;  // hash of (agent id, finding id)
  std::string agent_id;
  std::string hostname;
  std::string identity;  // key identity: "spki:<hex>", else "cert:<sha256>", else "finding:<id>"
  std::string status;    // open | resolved | excepted | false_positive | managed
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::int64_t resolved_at = 0;  // 0 unless resolved
  std::string exception_id;      // set when an approved exception covers it
  nlohmann::json finding;        // the keyward finding, risk = fleet risk (rules + fleet factors)
};

struct KeyPlace {
  std::string agent_id;
  std::string hostname;
  std::string path;
  std::string member;
  std::string finding_id;
  std::string status;
};
// One key identity across the fleet.
struct KeyRow {
  std::string identity;
  std::string kind;  // of the most telling place (private_key > keystore > certificate > public_key)
  std::string algorithm;
  std::optional<std::uint32_t> bits;
  std::uint64_t hosts = 0;  // distinct hosts with an open place
  int max_score = 0;
  int raw = 0;  // of its riskiest place (the total order: band, raw, positive factors, last seen)
  std::string max_severity;
  bool managed = false;  // keyward's own (collector CA/server key, an agent's key)
  std::string exception_id;
  bool false_positive = false;     // the exception covering it says false positive
  std::vector<KeyPlace> places;    // present places first, at most kKeyPlaces of them
  std::uint64_t places_total = 0;  // present (unresolved) places in all
};
// The most places a KeyRow lists (a key on thousands of hosts would make a page of keys
// megabytes): the rest are counted in places_total and listed by findings(identity=).
inline constexpr std::size_t kKeyPlaces = 20;

// A page of keys: in the total order of their riskiest place, or most spread first (hosts, then
// top score, raw, identity); only keys present on at least min_hosts hosts (total counts those).
struct KeyQuery {
  enum class Order { risk, spread } order = Order::risk;
  std::uint64_t min_hosts = 1;
  std::uint64_t limit = 100;  // 1..1000
  std::uint64_t offset = 0;
};

struct Event {
  std::uint64_t seq = 0;  // increasing, gap-free
  std::int64_t time = 0;
  std::string type;  // new | resolved | agent_enrolled | agent_approved | agent_revoked | exception_requested |
                     // exception_approved | migration_requested | migration_approved | migration_refused |
                     // migration_started | migration_done | migration_failed | migration_cleaned |
                     // migration_invalidated
  std::string agent_id;
  std::string hostname;
  std::string identity;
  std::string finding_id;
  nlohmann::json detail;  // small facts (path, rule, severity, reason...), never secrets
};

struct ExceptionInfo {
  std::string id;
  ExceptionKind kind = ExceptionKind::accepted_risk;
  std::string identity;  // the key identity it allows
  std::string reason;
  std::int64_t expires_at = 0;
  std::string requested_by;  // actor id ("principal:<name>" for API tokens)
  std::string approved_by;   // actor id; "" until approved
  std::int64_t requested_at = 0;
  std::int64_t approved_at = 0;
  std::string status;  // pending | approved | expired
};

struct AuditEntry {
  std::uint64_t seq = 0;
  int chain = 2;  // the hashing rule of the entry (store/audit_chain.hpp): 1 before issue 12, 2 since
  std::int64_t time = 0;
  std::string actor;
  std::string via;      // the credential the actor used ("token:<id>"); "" when none
  std::string action;   // e.g. agent.approve, token.create, report.ingest
  std::string subject;  // e.g. the agent or token id
  nlohmann::json detail;
  std::string detail_text;  // the detail exactly as stored (JSON text): what the chain hashes
  std::string prev_hash;    // hex; 64 zeros for the first entry
  std::string hash;         // SHA-256 over prev_hash and the entry's fields
};
// The last entry's number and hash, exported to detect a cut-off tail later.
struct AuditHead {
  std::uint64_t seq = 0;
  std::string hash;
};
// The head of the log at a time, signed with the collector's audit key (audit_key.hpp) and
// written to the events file (and syslog) after each change, so that a copy exists outside the
// database: a log rewritten with a recomputed chain no longer matches it.
struct AuditCheckpoint {
  std::uint64_t seq = 0;  // the entry it signs
  std::string hash;       // that entry's hash
  std::int64_t time = 0;  // when it was signed
  std::string key_id;     // 16 hex digits of the SHA-256 of the raw Ed25519 public key
  std::string signature;  // base64 Ed25519 signature (audit_key.hpp names the signed text)
};
struct AuditVerdict {
  bool ok = true;
  std::uint64_t entries = 0;
  std::uint64_t checkpoints = 0;    // signed checkpoints checked against the log
  std::uint64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;  // "entry 12 was changed", "entry 7 is missing", "the log ends at 40, before the head 52"
};
class AuditSigningKey;

// Numbers for /metrics.
struct StoreCounts {
  std::uint64_t agents_pending = 0, agents_approved = 0, agents_revoked = 0;
  std::uint64_t hosts = 0, open_findings = 0, resolved_findings = 0, keys = 0;
  std::uint64_t excepted_findings = 0, false_positive_findings = 0;  // listed and counted, not open
  std::uint64_t reports = 0, held_reports = 0, events = 0, audit_entries = 0;
};

// Fleet scoring settings (collector config).
struct FleetOptions {
  std::vector<std::string> rules_dirs;  // extra rule/factor files, as `keyward --rules`
  std::vector<std::string> hsm_dirs;    // extra HSM target profiles and policy (rules/hsm/*.yaml shape)
};

class Store {
 public:
  virtual ~Store() = default;

  // The schema version after migrations.
  virtual int schema_version() = 0;
  // "" when the store answers a read and its schema is the one this build migrates to (GET
  // /ready); otherwise one line saying what is wrong (no path or credential in it).
  virtual std::string readiness_problem() = 0;

  // Tokens. principal "" is the name; name and principal are 1-200 characters without control
  // characters (else invalid).
  virtual Outcome<NewToken> create_token(Role role, const std::string& name, const std::string& principal,
                                         std::int64_t expires_at, const Actor& by) = 0;
  // The live token whose secret this is (hash lookup); nullopt if unknown, revoked or expired.
  virtual std::optional<TokenInfo> find_token(std::string_view secret, std::int64_t now) = 0;
  virtual std::vector<TokenInfo> list_tokens() = 0;
  virtual Outcome<TokenInfo> revoke_token(const std::string& id, const Actor& by) = 0;

  // Enrollment: a one-time token, consumed atomically with the agent's creation (pending).
  virtual NewEnrollmentToken create_enrollment_token(std::int64_t expires_at, const Actor& by) = 0;
  // Checks the token without consuming it (to refuse before signing a CSR).
  virtual Outcome<std::string> check_enrollment_token(std::string_view secret, std::int64_t now) = 0;
  // A key already seen as a finding (key_exposed) or already keyward's own (key_in_use) is
  // refused: the token is consumed and the attempt audited; otherwise the agent's key becomes
  // a managed identity on its own host.
  virtual Outcome<AgentInfo> enroll_agent(std::string_view enrollment_secret, const Enrollment& e,
                                          std::int64_t now) = 0;

  // Agents.
  virtual std::optional<AgentInfo> agent(const std::string& id) = 0;
  virtual std::optional<AgentInfo> agent_by_cert(const std::string& cert_sha256) = 0;
  virtual std::vector<AgentInfo> list_agents() = 0;
  // Approving ingests the reports held while the agent was pending (its newest snapshot), in
  // steps as a live report; the agent is approved in the last one.
  virtual Outcome<AgentInfo> approve_agent(const std::string& id, const Actor& by, std::int64_t now) = 0;
  // Revoking drops the agent's held reports, and its key is no longer managed (its places are
  // rescored as exposures).
  virtual Outcome<AgentInfo> revoke_agent(const std::string& id, const Actor& by, std::int64_t now) = 0;
  virtual Outcome<AgentInfo> set_agent_tags(const std::string& id, const std::vector<std::string>& tags,
                                            const Actor& by) = 0;
  virtual void touch_agent(const std::string& id, std::int64_t now) = 0;

  // Keyward's own keys (collector CA and server key; agents' keys are added by enroll_agent):
  // places of these identities are "managed", not exposures. A key already seen as a finding
  // is not made managed (audited): false then.
  virtual bool add_managed_identity(const std::string& spki_sha256, const std::string& what) = 0;

  // Ingests one report of an agent: a duplicate report_id is stored once; a pending agent's
  // report is held (a complete snapshot replaces the ones held before it); a complete snapshot
  // replaces the host's state (what is gone is resolved, what is new raises a "new" event); an
  // incomplete one adds and resolves nothing. Fleet risk of every touched identity is
  // recomputed. One transaction per chunk of places: a report cut short has recorded nothing but
  // places, and its resend (same report_id) ends the same as one whole ingest.
  // `by` is who brought it, in the audit log: the agent itself, or the collector's remote scans.
  virtual IngestOutcome ingest(const AgentInfo& agent, const protocol::Report& report, std::int64_t now,
                               const Actor& by) = 0;
  // An agent's own report (actor "agent:<id>").
  IngestOutcome ingest(const AgentInfo& agent, const protocol::Report& report, std::int64_t now) {
    return ingest(agent, report, now, Actor{"agent:" + agent.id, std::nullopt});
  }

  // Remote targets (docs/fleet.md, "Remote scans"). The host of inventory name `name`: made on
  // first use, approved, source remote, id remote_host_id(name) (audited remote.add by `by`);
  // an existing one is returned as it is (a revoked one stays revoked: its scans are not
  // ingested). invalid for a name that is empty, over 253 bytes or holds a control character.
  virtual Outcome<AgentInfo> remote_host(const std::string& name, const Actor& by, std::int64_t now) = 0;
  // Records how a scan of a remote target ended (hosts() shows it); audited remote.scan.
  virtual Outcome<AgentInfo> record_remote_scan(const std::string& id, const RemoteScanStatus& status,
                                                const Actor& by) = 0;

  // Queries.
  virtual std::vector<HostRow> hosts() = 0;
  virtual Page<FindingRow> findings(const FindingQuery& q) = 0;
  // Every place of one status (open, resolved, excepted, false_positive, managed) in the total
  // order of findings(), in one pass over one committed state: the fleet-wide documents and the
  // overview read the whole inventory this way (pages with offsets re-read it for each page).
  virtual void visit_places(const std::string& status, const std::function<void(const FindingRow&)>& visit) = 0;
  virtual Page<KeyRow> keys(const KeyQuery& q) = 0;
  Page<KeyRow> keys(std::uint64_t limit, std::uint64_t offset) {
    KeyQuery q;
    q.limit = limit;
    q.offset = offset;
    return keys(q);
  }
  // Open certificate places whose not_after is before now + within_seconds (expired included).
  virtual Page<FindingRow> expiring_certificates(std::int64_t within_seconds, std::int64_t now, std::uint64_t limit,
                                                 std::uint64_t offset) = 0;
  // Events with seq > since, oldest first.
  virtual std::vector<Event> events(std::uint64_t since, std::uint64_t limit) = 0;
  // The same, of one key identity only (a key's history: its places' new and resolved events,
  // its exceptions and migrations).
  virtual std::vector<Event> identity_events(const std::string& identity, std::uint64_t since, std::uint64_t limit) = 0;

  // Exceptions: an analyst requests, an approver who is not the requesting principal approves
  // (else separation_of_duties). A reason is 1-2000 characters, not blank, without control characters.
  // A false_positive one, once approved, marks the places false_positive instead of excepted.
  virtual Outcome<ExceptionInfo> request_exception(const std::string& identity, ExceptionKind kind,
                                                   const std::string& reason, std::int64_t expires_at, const Actor& by,
                                                   std::int64_t now) = 0;
  // An accepted risk.
  Outcome<ExceptionInfo> request_exception(const std::string& identity, const std::string& reason,
                                           std::int64_t expires_at, const Actor& by, std::int64_t now) {
    return request_exception(identity, ExceptionKind::accepted_risk, reason, expires_at, by, now);
  }
  virtual Outcome<ExceptionInfo> approve_exception(const std::string& id, const Actor& by, std::int64_t now) = 0;
  virtual std::vector<ExceptionInfo> list_exceptions(std::int64_t now) = 0;

  // Migration into HSM storage (docs/migration.md, "The collector's part"). The fleet plan is
  // built from the open places of private keys and key stores (and their certificates) with the
  // targets of FleetOptions::hsm_dirs, then each item's stored life is laid over it. An approved
  // item whose binding (its places' finding ids, file sizes and mtimes, and the set of places) no
  // longer matches the inventory goes back to proposed (audited migration.invalidated, event
  // migration_invalidated) before anything is answered.
  virtual migrate::Plan fleet_plan(std::int64_t now) = 0;
  // An analyst asks for an item (proposed, refused or failed): it stays proposed, requested.
  virtual Outcome<migrate::PlanItem> request_migration(const std::string& item_id, const std::string& reason,
                                                       const Actor& by, std::int64_t now) = 0;
  // An approver who is not the requesting principal (else separation_of_duties) approves a
  // requested item without blockers (else invalid); the approval is bound to its places.
  virtual Outcome<migrate::PlanItem> approve_migration(const std::string& item_id, const Actor& by,
                                                       std::int64_t now) = 0;
  // An approver refuses a requested or approved item, with a reason.
  virtual Outcome<migrate::PlanItem> refuse_migration(const std::string& item_id, const std::string& reason,
                                                      const Actor& by, std::int64_t now) = 0;
  // What an agent may act on: approved items whose migrate_on is on its host, and done items
  // with clean-ups pending on its host.
  virtual std::vector<migrate::PlanItem> migrations_for_agent(const std::string& agent_id, std::int64_t now) = 0;
  // The result of a run, from the agent of migrate_on or a person (analyst): a result without
  // finished_at starts the item (running); done only with verification (a signature checked and
  // a key that cannot be extracted); failed or refused fail it; a dry run is not recorded. A
  // done item's clean-ups may also come from the agents of the other places, for their host.
  virtual Outcome<migrate::PlanItem> record_migration_result(const std::string& item_id,
                                                             const migrate::ItemResult& result, const Actor& by,
                                                             std::int64_t now) = 0;

  // Audit log.
  virtual std::vector<AuditEntry> audit_entries(std::uint64_t since, std::uint64_t limit) = 0;
  virtual AuditHead audit_head() = 0;
  // Recomputes the chain; with a head exported earlier also detects a cut-off tail.
  AuditVerdict verify_audit(const std::optional<AuditHead>& head) { return verify_audit(head, {}); }
  // The same, and then every signed checkpoint (signatures checked by the caller, audit_key.hpp)
  // must name an entry of the log with its hash: a rewritten or cut log fails here.
  virtual AuditVerdict verify_audit(const std::optional<AuditHead>& head,
                                    const std::vector<AuditCheckpoint>& checkpoints) = 0;
  // From now on, after every commit that moved the head, signs it with key and appends the
  // checkpoint as one line to the events file; also_to (e.g. syslog) gets the same line.
  virtual void sign_checkpoints(std::shared_ptr<const AuditSigningKey> key,
                                std::function<void(const std::string& line)> also_to) = 0;
  // Appends an entry for an action that changes no table here (e.g. "collector.start").
  virtual void audit(const Actor& by, const std::string& action, const std::string& subject,
                     const nlohmann::json& detail) = 0;

  virtual StoreCounts counts() = 0;
};

// Opens (creating and migrating) the SQLite store at path (WAL, mode 0600). Thread-safe: one
// writer connection behind a mutex and read-only ones beside it, each call atomic. events_file, when
// not empty, receives every event as one JSON line (appended after commit; on open, lines
// missing after a crash are appended from the database, so a SIEM tailing it loses none).
std::unique_ptr<Store> open_sqlite_store(const std::string& path, const std::string& events_file,
                                         const FleetOptions& fleet);

// A PostgreSQL database: a libpq connection string (postgres://user@host:port/db or key=value
// words) without a password, and the password apart (from a file or the environment, wiped when
// the store closes; null: libpq's own PGPASSWORD or ~/.pgpass, or none).
struct PostgresTarget {
  std::string conninfo;
  std::shared_ptr<const common::SecretBytes> password;
};
// Opens (creating and migrating) the store in a PostgreSQL database. Several collectors
// (replicas) may open the same database: writes are serialized across them by one advisory lock
// and each agent's ingests by one of its own (docs/deployment.md, "Replicas"). events_file as
// above: each replica's file receives every replica's events, in one order.
std::unique_ptr<Store> open_postgres_store(const PostgresTarget& target, const std::string& events_file,
                                           const FleetOptions& fleet);
// True for a database setting that names PostgreSQL (postgres:// or postgresql://).
bool is_postgres_url(std::string_view database);
// "" when conninfo parses and holds no password; else what is wrong, in one line without the
// conninfo's values.
std::string postgres_conninfo_problem(const std::string& conninfo);

// Copies the SQLite store at db_path into the new file `to` (mode 0600; StoreError if it exists)
// through SQLite's online backup API: one committed state, while a collector keeps writing.
// Returns the copy's audit head (docs/deployment.md, "Backup and restore").
AuditHead backup_sqlite_store(const std::string& db_path, const std::string& to);
// "" when SQLite's integrity check passes on the database file at path; else what failed.
std::string check_sqlite_backup(const std::string& path);

}  // namespace keyward::collector
