// SPDX-License-Identifier: Apache-2.0
// Schema versions of the collector's database: SQLite's in PRAGMA user_version, PostgreSQL's in
// the table keyward_schema.
#include "store/migrations.hpp"

#include <fmt/format.h>

#include <array>

namespace keyward::collector::detail {
namespace {

// Version i+1 is kMigrations[i]. Append only: never edit a migration that has shipped.
constexpr std::array<const char*, 8> kMigrations = {
    // 1: the first schema.
    R"sql(
CREATE TABLE tokens(
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,          -- SHA-256 hex of the secret; the secret is never stored
  role TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,        -- 0: never
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE enrollment_tokens(
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL DEFAULT 0,
  agent_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE agents(
  id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL,
  os TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'revoked')),
  cert_sha256 TEXT NOT NULL UNIQUE,
  cert_serial TEXT NOT NULL,
  spki_sha256 TEXT NOT NULL,
  enrolled_at INTEGER NOT NULL,
  approved_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  last_seen_at INTEGER NOT NULL DEFAULT 0,
  last_report_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE agent_tags(
  agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (agent_id, tag)
);
CREATE TABLE identities(
  identity TEXT PRIMARY KEY,
  managed INTEGER NOT NULL DEFAULT 0,
  managed_what TEXT NOT NULL DEFAULT ''
);
CREATE TABLE reports(
  id INTEGER PRIMARY KEY,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  report_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  complete INTEGER NOT NULL,
  findings INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('stored', 'held')),
  UNIQUE (agent_id, report_id)
);
CREATE TABLE held_reports(
  id INTEGER PRIMARY KEY,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  report_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  body TEXT NOT NULL,                 -- the report document (facts and fingerprints only)
  UNIQUE (agent_id, report_id)
);
CREATE TABLE places(
  place_id TEXT PRIMARY KEY,          -- sha256(agent_id NUL finding_id)
  agent_id TEXT NOT NULL REFERENCES agents(id),
  finding_id TEXT NOT NULL,
  identity TEXT NOT NULL REFERENCES identities(identity),
  kind TEXT NOT NULL,
  rule TEXT NOT NULL,
  path TEXT NOT NULL,
  member TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  bits INTEGER,                       -- NULL when unknown
  holds_key INTEGER NOT NULL,         -- a private key is in it (fleet factors apply)
  not_after INTEGER NOT NULL DEFAULT 0,  -- earliest certificate expiry in it; 0: none
  base_risk TEXT NOT NULL,            -- the rules engine's risk (JSON), before fleet factors
  score INTEGER NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,     -- 0 info .. 4 critical
  status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'excepted', 'managed')),
  exception_id TEXT NOT NULL DEFAULT '',
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  resolved_at INTEGER NOT NULL DEFAULT 0,
  finding_json TEXT NOT NULL          -- the finding with risk = fleet risk
);
CREATE INDEX places_identity ON places(identity);
CREATE INDEX places_agent ON places(agent_id, resolved_at);
CREATE INDEX places_status ON places(status, severity_rank);
CREATE INDEX places_not_after ON places(not_after) WHERE not_after != 0;
CREATE TABLE events(
  seq INTEGER PRIMARY KEY,            -- max+1 in the writing transaction: gap-free
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  agent_id TEXT NOT NULL DEFAULT '',
  identity TEXT NOT NULL DEFAULT '',
  finding_id TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE exceptions(
  id TEXT PRIMARY KEY,
  identity TEXT NOT NULL REFERENCES identities(identity),
  reason TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  approved_by TEXT NOT NULL DEFAULT '',
  approved_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX exceptions_identity ON exceptions(identity);
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,               -- JSON
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql",
    // 2: principals and the audit chain's version 2 (issue 12). A token belongs to a principal
    // (existing tokens: their name); exceptions name the requesting and approving principal, not
    // the token (so an existing request cannot be approved by another token of its requester).
    // Audit entries carry their chain version (1 for those written before: verified by the rule
    // they were written with, store/audit_chain.hpp) and the credential the actor used.
    R"sql(
ALTER TABLE tokens ADD COLUMN principal TEXT NOT NULL DEFAULT '';
UPDATE tokens SET principal = name;
UPDATE exceptions SET requested_by = 'principal:' ||
  (SELECT t.principal FROM tokens t WHERE 'token:' || t.id = exceptions.requested_by)
  WHERE requested_by IN (SELECT 'token:' || id FROM tokens);
UPDATE exceptions SET approved_by = 'principal:' ||
  (SELECT t.principal FROM tokens t WHERE 'token:' || t.id = exceptions.approved_by)
  WHERE approved_by IN (SELECT 'token:' || id FROM tokens);
ALTER TABLE audit ADD COLUMN chain INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit ADD COLUMN via TEXT NOT NULL DEFAULT '';
)sql",
    // 3: issue 12, the store. An agent's key is managed on that agent's host only, and only while it was
    // never seen as a finding before the enrollment; the fleet risk of a place is a column of
    // its own (rescoring rewrites it, not the whole finding); the hosts list reads a covering
    // index per agent, and the findings list reads its places in (severity, score) order.
    R"sql(
ALTER TABLE identities ADD COLUMN managed_agent TEXT NOT NULL DEFAULT '';  -- '' or the agent whose key it is
ALTER TABLE places ADD COLUMN risk TEXT NOT NULL DEFAULT '';  -- fleet risk JSON; '' until rescored
CREATE INDEX places_agent_status ON places(agent_id, status, severity_rank);
DROP INDEX places_status;
CREATE INDEX places_status_score ON places(status, severity_rank, score);
UPDATE identities SET managed_agent = (
  SELECT a.id FROM agents a WHERE 'spki:' || a.spki_sha256 = identities.identity ORDER BY a.enrolled_at LIMIT 1)
WHERE managed = 1 AND EXISTS (SELECT 1 FROM agents a WHERE 'spki:' || a.spki_sha256 = identities.identity);
UPDATE identities SET managed = 0 WHERE managed_agent != '' AND (
  managed_agent IN (SELECT id FROM agents WHERE status = 'revoked') OR
  EXISTS (SELECT 1 FROM places p JOIN agents a ON a.id = identities.managed_agent
          WHERE p.identity = identities.identity AND p.first_seen < a.enrolled_at));
)sql",
    // 4: issue 13. An exception has a kind: an accepted risk (as before) or a false positive (its
    // places are 'false_positive', a status the places table's CHECK must allow, so the table is
    // made anew with its rows and indexes). A place keeps the unclipped sum of its fleet risk's
    // points (raw) and its count of factors with positive points, the total order's keys after
    // the severity band (docs/fleet.md, "Fleet risk"), and whether its engine risk says the file
    // belongs to an installed package (package-owned: the key is public fleet-wide). The findings
    // list reads its places in that order from places_status_rank.
    R"sql(
ALTER TABLE exceptions ADD COLUMN kind TEXT NOT NULL DEFAULT 'accepted_risk'
  CHECK (kind IN ('accepted_risk', 'false_positive'));
CREATE TABLE places_v4(
  place_id TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  finding_id TEXT NOT NULL,
  identity TEXT NOT NULL REFERENCES identities(identity),
  kind TEXT NOT NULL,
  rule TEXT NOT NULL,
  path TEXT NOT NULL,
  member TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  bits INTEGER,
  holds_key INTEGER NOT NULL,
  not_after INTEGER NOT NULL DEFAULT 0,
  base_risk TEXT NOT NULL,
  score INTEGER NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'excepted', 'false_positive', 'managed')),
  exception_id TEXT NOT NULL DEFAULT '',
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  resolved_at INTEGER NOT NULL DEFAULT 0,
  finding_json TEXT NOT NULL,
  risk TEXT NOT NULL DEFAULT '',
  raw INTEGER NOT NULL DEFAULT 0,               -- the fleet risk's points, unclipped
  positive_factors INTEGER NOT NULL DEFAULT 0,  -- its factors with points > 0
  package_owned INTEGER NOT NULL DEFAULT 0      -- the engine's risk has package-owned
);
INSERT INTO places_v4(rowid, place_id, agent_id, finding_id, identity, kind, rule, path, member, algorithm, bits,
  holds_key, not_after, base_risk, score, severity, severity_rank, status, exception_id, first_seen, last_seen,
  resolved_at, finding_json, risk)
SELECT rowid, place_id, agent_id, finding_id, identity, kind, rule, path, member, algorithm, bits,
  holds_key, not_after, base_risk, score, severity, severity_rank, status, exception_id, first_seen, last_seen,
  resolved_at, finding_json, risk FROM places;
DROP TABLE places;
ALTER TABLE places_v4 RENAME TO places;
UPDATE places SET
  raw = COALESCE((SELECT SUM(json_extract(f.value, '$.points')) FROM json_each(CASE WHEN risk != '' AND json_valid(risk) THEN risk
    WHEN json_valid(finding_json) THEN json_extract(finding_json, '$.risk') ELSE '{}' END, '$.factors') f), 0),
  positive_factors = (SELECT COUNT(*) FROM json_each(CASE WHEN risk != '' AND json_valid(risk) THEN risk
    WHEN json_valid(finding_json) THEN json_extract(finding_json, '$.risk') ELSE '{}' END, '$.factors') f
    WHERE json_extract(f.value, '$.points') > 0),
  package_owned = json_valid(base_risk) AND EXISTS (SELECT 1 FROM json_each(base_risk, '$.factors') f
    WHERE json_extract(f.value, '$.id') = 'package-owned');
CREATE INDEX places_identity ON places(identity);
CREATE INDEX places_agent ON places(agent_id, resolved_at);
CREATE INDEX places_not_after ON places(not_after) WHERE not_after != 0;
CREATE INDEX places_agent_status ON places(agent_id, status, severity_rank);
CREATE INDEX places_status_rank
  ON places(status, severity_rank DESC, raw DESC, positive_factors DESC, last_seen DESC, place_id);
)sql",
    // 5: issue 14, migration into HSM storage. The fleet plan is built from the inventory on each
    // read; what is stored is each item's life: the request, the decision (by another principal),
    // the item and the binding (its places' finding ids, file sizes and mtimes) it was approved
    // for, and the result of its run (facts only: never a PIN, password or key byte). One row
    // per clean-up (host and path) of an approved item, pending until a result says it is done.
    R"sql(
CREATE TABLE migration_items(
  item_id TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'running', 'done', 'failed', 'refused')),
  strategy TEXT NOT NULL,
  item_json TEXT NOT NULL,            -- the plan item as last requested or approved (keyward.plan/v1 item)
  binding_json TEXT NOT NULL DEFAULT '',  -- what the approval is bound to; '' unless approved
  requested_by TEXT NOT NULL DEFAULT '',
  requested_at INTEGER NOT NULL DEFAULT 0,
  approved_by TEXT NOT NULL DEFAULT '',
  refused_by TEXT NOT NULL DEFAULT '',
  decided_at INTEGER NOT NULL DEFAULT 0,
  decision_reason TEXT NOT NULL DEFAULT '',
  result_json TEXT NOT NULL DEFAULT '',   -- the last result (keyward.migration-result/v1)
  updated_at INTEGER NOT NULL
);
CREATE INDEX migration_items_state ON migration_items(state);
CREATE TABLE migration_cleanups(
  item_id TEXT NOT NULL REFERENCES migration_items(item_id),
  agent_id TEXT NOT NULL,
  path TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (item_id, agent_id, path)
);
CREATE INDEX migration_cleanups_agent ON migration_cleanups(agent_id, state);
)sql",
    // 6: issue 16, remote targets. A host the collector scans over SSH is a row of agents with
    // source 'remote' (id "ssh:<name>", no certificate: cert_sha256 holds "remote:" + the id,
    // which no TLS peer's digest can equal), and how its last scan ended.
    R"sql(
ALTER TABLE agents ADD COLUMN source TEXT NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'remote'));
ALTER TABLE agents ADD COLUMN remote_status TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN remote_message TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN remote_scanned_at INTEGER NOT NULL DEFAULT 0;
)sql",
    // 7: issue 17, the dashboard's key page reads one key identity's history
    // (GET /api/v1/events?identity=) without reading every event. IF NOT EXISTS: a database put
    // back to an older version by hand (the migration tests) may still have it.
    R"sql(
CREATE INDEX IF NOT EXISTS events_identity ON events(identity, seq);
)sql",
    // 8: issue 19. A snapshot identical to the host's last one is recorded without touching its
    // places: the digest of the last complete snapshot stored (its places as scored, '' when
    // the host's places may differ from it) and when it was stored. Every present place of the
    // host was seen then, so a place's last sighting is MAX(last_seen, snapshot_at).
    R"sql(
ALTER TABLE agents ADD COLUMN snapshot_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN snapshot_at INTEGER NOT NULL DEFAULT 0;
-- And an identity's places are rescored only when its fleet facts change what a score can be
-- (fleet_signature); its host counts live here, and the stored risks' texts name them by a mark
-- that reads fill in (fleet_risk.hpp), so a host more does not rewrite every place of a key.
ALTER TABLE identities ADD COLUMN key_hosts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN package_hosts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN fleet_signature TEXT NOT NULL DEFAULT '';
-- And each identity's standing among the keys (GET /api/v1/keys) is kept with it, by its
-- riskiest present place in the total order, so that a page of keys is read from an index
-- instead of ranking every open place of the fleet.
INSERT INTO identities(identity) SELECT DISTINCT identity FROM places WHERE true ON CONFLICT(identity) DO NOTHING;
ALTER TABLE identities ADD COLUMN present INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN hosts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN max_score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN exception_id TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN false_positive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN rank_severity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN rank_raw INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN rank_positive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN rank_last_seen INTEGER NOT NULL DEFAULT 0;
UPDATE identities SET
  present = EXISTS (SELECT 1 FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0),
  hosts = (SELECT COUNT(DISTINCT p.agent_id) FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0),
  max_score = COALESCE((SELECT MAX(p.score) FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0), 0),
  exception_id = COALESCE((SELECT MAX(p.exception_id) FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0), ''),
  false_positive = COALESCE((SELECT MAX(p.status = 'false_positive') FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0), 0),
  rank_severity = COALESCE((SELECT p.severity_rank FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0
    ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0),
  rank_raw = COALESCE((SELECT p.raw FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0
    ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0),
  rank_positive = COALESCE((SELECT p.positive_factors FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0
    ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0),
  rank_last_seen = COALESCE((SELECT p.last_seen FROM places p WHERE p.identity = identities.identity AND p.resolved_at = 0
    ORDER BY p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id LIMIT 1), 0);
CREATE INDEX identities_rank
  ON identities(present, rank_severity DESC, rank_raw DESC, rank_positive DESC, rank_last_seen DESC, identity);
CREATE INDEX identities_spread ON identities(present, hosts DESC, max_score DESC, rank_raw DESC, identity);
-- What rescoring and ranking an identity read of its places, from the index alone: a key on
-- many hosts is not read row by row from the table on every report that touches it.
CREATE INDEX places_identity_facts
  ON places(identity, resolved_at, agent_id, holds_key, package_owned, score, status, exception_id);
CREATE INDEX places_identity_rank
  ON places(identity, resolved_at, severity_rank DESC, raw DESC, positive_factors DESC, last_seen DESC, place_id);
)sql",
};

// PostgreSQL starts at version 8: the schema SQLite reaches after kMigrations[0..7], in
// PostgreSQL's types (BIGINT for every integer, text compared byte by byte as SQLite does, ids of
// reports from an identity column, and BYTEA for a file's path and member: a name on disk need
// not be UTF-8, and PostgreSQL's text must be). A migration after 8 is written for both engines.
constexpr int kPostgresBase = 8;
constexpr const char* kPostgresSchema = R"sql(
CREATE TABLE tokens(
  id TEXT COLLATE "C" PRIMARY KEY,
  hash TEXT COLLATE "C" NOT NULL UNIQUE,          -- SHA-256 hex of the secret; the secret is never stored
  role TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,        -- 0: never
  revoked_at BIGINT NOT NULL DEFAULT 0,
  principal TEXT COLLATE "C" NOT NULL DEFAULT '');
CREATE TABLE enrollment_tokens(
  id TEXT COLLATE "C" PRIMARY KEY,
  hash TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  created_by TEXT COLLATE "C" NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT NOT NULL DEFAULT 0,
  agent_id TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE TABLE agents(
  id TEXT COLLATE "C" PRIMARY KEY,
  hostname TEXT COLLATE "C" NOT NULL,
  os TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'approved', 'revoked')),
  cert_sha256 TEXT COLLATE "C" NOT NULL UNIQUE,
  cert_serial TEXT COLLATE "C" NOT NULL,
  spki_sha256 TEXT COLLATE "C" NOT NULL,
  enrolled_at BIGINT NOT NULL,
  approved_at BIGINT NOT NULL DEFAULT 0,
  revoked_at BIGINT NOT NULL DEFAULT 0,
  last_seen_at BIGINT NOT NULL DEFAULT 0,
  last_report_at BIGINT NOT NULL DEFAULT 0,
  source TEXT COLLATE "C" NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'remote')),
  remote_status TEXT COLLATE "C" NOT NULL DEFAULT '',
  remote_message TEXT COLLATE "C" NOT NULL DEFAULT '',
  remote_scanned_at BIGINT NOT NULL DEFAULT 0,
  snapshot_digest TEXT COLLATE "C" NOT NULL DEFAULT '',
  snapshot_at BIGINT NOT NULL DEFAULT 0);
CREATE TABLE agent_tags(
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  tag TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (agent_id, tag)
);
CREATE TABLE identities(
  identity TEXT COLLATE "C" PRIMARY KEY,
  managed BIGINT NOT NULL DEFAULT 0,
  managed_what TEXT COLLATE "C" NOT NULL DEFAULT '',
  managed_agent TEXT COLLATE "C" NOT NULL DEFAULT '',
  key_hosts BIGINT NOT NULL DEFAULT 0,
  package_hosts BIGINT NOT NULL DEFAULT 0,
  fleet_signature TEXT COLLATE "C" NOT NULL DEFAULT '',
  present BIGINT NOT NULL DEFAULT 0,
  hosts BIGINT NOT NULL DEFAULT 0,
  max_score BIGINT NOT NULL DEFAULT 0,
  exception_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  false_positive BIGINT NOT NULL DEFAULT 0,
  rank_severity BIGINT NOT NULL DEFAULT 0,
  rank_raw BIGINT NOT NULL DEFAULT 0,
  rank_positive BIGINT NOT NULL DEFAULT 0,
  rank_last_seen BIGINT NOT NULL DEFAULT 0);
CREATE TABLE reports(
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents(id),
  report_id TEXT COLLATE "C" NOT NULL,
  received_at BIGINT NOT NULL,
  complete BIGINT NOT NULL,
  findings BIGINT NOT NULL,
  status TEXT COLLATE "C" NOT NULL CHECK (status IN ('stored', 'held')),
  UNIQUE (agent_id, report_id)
);
CREATE TABLE held_reports(
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents(id),
  report_id TEXT COLLATE "C" NOT NULL,
  received_at BIGINT NOT NULL,
  body TEXT COLLATE "C" NOT NULL,                 -- the report document (facts and fingerprints only)
  UNIQUE (agent_id, report_id)
);
CREATE TABLE events(
  seq BIGINT PRIMARY KEY,            -- max+1 in the writing transaction: gap-free
  time BIGINT NOT NULL,
  type TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  identity TEXT COLLATE "C" NOT NULL DEFAULT '',
  finding_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  detail TEXT COLLATE "C" NOT NULL DEFAULT '{}'
);
CREATE TABLE exceptions(
  id TEXT COLLATE "C" PRIMARY KEY,
  identity TEXT COLLATE "C" NOT NULL REFERENCES identities(identity),
  reason TEXT COLLATE "C" NOT NULL,
  expires_at BIGINT NOT NULL,
  requested_by TEXT COLLATE "C" NOT NULL,
  requested_at BIGINT NOT NULL,
  approved_by TEXT COLLATE "C" NOT NULL DEFAULT '',
  approved_at BIGINT NOT NULL DEFAULT 0,
  kind TEXT COLLATE "C" NOT NULL DEFAULT 'accepted_risk'
  CHECK (kind IN ('accepted_risk', 'false_positive')));
CREATE INDEX exceptions_identity ON exceptions(identity);
CREATE TABLE audit(
  seq BIGINT PRIMARY KEY,
  time BIGINT NOT NULL,
  actor TEXT COLLATE "C" NOT NULL,
  action TEXT COLLATE "C" NOT NULL,
  subject TEXT COLLATE "C" NOT NULL,
  detail TEXT COLLATE "C" NOT NULL,               -- JSON
  prev_hash TEXT COLLATE "C" NOT NULL,
  hash TEXT COLLATE "C" NOT NULL,
  chain BIGINT NOT NULL DEFAULT 1,
  via TEXT COLLATE "C" NOT NULL DEFAULT '');
CREATE TABLE places(
  place_id TEXT COLLATE "C" PRIMARY KEY,
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents(id),
  finding_id TEXT COLLATE "C" NOT NULL,
  identity TEXT COLLATE "C" NOT NULL REFERENCES identities(identity),
  kind TEXT COLLATE "C" NOT NULL,
  rule TEXT COLLATE "C" NOT NULL,
  path BYTEA NOT NULL,
  member BYTEA NOT NULL,
  algorithm TEXT COLLATE "C" NOT NULL,
  bits BIGINT,
  holds_key BIGINT NOT NULL,
  not_after BIGINT NOT NULL DEFAULT 0,
  base_risk TEXT COLLATE "C" NOT NULL,
  score BIGINT NOT NULL,
  severity TEXT COLLATE "C" NOT NULL,
  severity_rank BIGINT NOT NULL,
  status TEXT COLLATE "C" NOT NULL CHECK (status IN ('open', 'resolved', 'excepted', 'false_positive', 'managed')),
  exception_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  resolved_at BIGINT NOT NULL DEFAULT 0,
  finding_json TEXT COLLATE "C" NOT NULL,
  risk TEXT COLLATE "C" NOT NULL DEFAULT '',
  raw BIGINT NOT NULL DEFAULT 0,               -- the fleet risk's points, unclipped
  positive_factors BIGINT NOT NULL DEFAULT 0,  -- its factors with points > 0
  package_owned BIGINT NOT NULL DEFAULT 0      -- the engine's risk has package-owned
);
CREATE INDEX places_identity ON places(identity);
CREATE INDEX places_agent ON places(agent_id, resolved_at);
CREATE INDEX places_not_after ON places(not_after) WHERE not_after != 0;
CREATE INDEX places_agent_status ON places(agent_id, status, severity_rank);
CREATE INDEX places_status_rank
  ON places(status, severity_rank DESC, raw DESC, positive_factors DESC, last_seen DESC, place_id);
CREATE TABLE migration_items(
  item_id TEXT COLLATE "C" PRIMARY KEY,
  identity TEXT COLLATE "C" NOT NULL,
  state TEXT COLLATE "C" NOT NULL CHECK (state IN ('proposed', 'approved', 'running', 'done', 'failed', 'refused')),
  strategy TEXT COLLATE "C" NOT NULL,
  item_json TEXT COLLATE "C" NOT NULL,            -- the plan item as last requested or approved (keyward.plan/v1 item)
  binding_json TEXT COLLATE "C" NOT NULL DEFAULT '',  -- what the approval is bound to; '' unless approved
  requested_by TEXT COLLATE "C" NOT NULL DEFAULT '',
  requested_at BIGINT NOT NULL DEFAULT 0,
  approved_by TEXT COLLATE "C" NOT NULL DEFAULT '',
  refused_by TEXT COLLATE "C" NOT NULL DEFAULT '',
  decided_at BIGINT NOT NULL DEFAULT 0,
  decision_reason TEXT COLLATE "C" NOT NULL DEFAULT '',
  result_json TEXT COLLATE "C" NOT NULL DEFAULT '',   -- the last result (keyward.migration-result/v1)
  updated_at BIGINT NOT NULL
);
CREATE INDEX migration_items_state ON migration_items(state);
CREATE TABLE migration_cleanups(
  item_id TEXT COLLATE "C" NOT NULL REFERENCES migration_items(item_id),
  agent_id TEXT COLLATE "C" NOT NULL,
  path BYTEA NOT NULL,
  state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'done')),
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (item_id, agent_id, path)
);
CREATE INDEX migration_cleanups_agent ON migration_cleanups(agent_id, state);
CREATE INDEX events_identity ON events(identity, seq);
CREATE INDEX identities_rank
  ON identities(present, rank_severity DESC, rank_raw DESC, rank_positive DESC, rank_last_seen DESC, identity);
CREATE INDEX identities_spread ON identities(present, hosts DESC, max_score DESC, rank_raw DESC, identity);
CREATE INDEX places_identity_facts
  ON places(identity, resolved_at, agent_id, holds_key, package_owned, score, status, exception_id);
CREATE INDEX places_identity_rank
  ON places(identity, resolved_at, severity_rank DESC, raw DESC, positive_factors DESC, last_seen DESC, place_id);
)sql";

}  // namespace

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

int migrate(Db& db) {
  auto& engine = db.backend();
  int version = static_cast<int>(engine.schema_version());
  if (version > latest_schema_version())
    throw StoreError(
        fmt::format("the database has schema version {}, newer than this collector knows ({}): "
                    "use a newer keyward-collector",
                    version, latest_schema_version()));
  while (version < latest_schema_version()) {
    Transaction tx(db);
    // Re-read inside the write lock: another process (a replica) may have migrated meanwhile.
    version = static_cast<int>(engine.schema_version());
    if (version >= latest_schema_version()) break;
    int next = version + 1;
    if (!db.postgres()) {
      db.exec(kMigrations[static_cast<std::size_t>(version)]);
    } else if (version == 0) {
      db.exec(kPostgresSchema);
      next = kPostgresBase;
    } else {
      throw StoreError(fmt::format("no PostgreSQL migration from schema version {}", version));
    }
    engine.set_schema_version(next);
    tx.commit();
    version = next;
  }
  return version;
}

}  // namespace keyward::collector::detail
