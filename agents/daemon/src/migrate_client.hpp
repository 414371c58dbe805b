// SPDX-License-Identifier: Apache-2.0
// The host's side of HSM migrations (docs/migration.md, "What runs where"): ask the collector
// for the approved plan items of this host over the agent's mutual TLS, run each into the
// PKCS#11 token (migrate::TokenSession), and post each result. A result the collector could not
// be given waits in a local JSON-lines file (AgentConfig::migration_results_file) and is sent
// first on the next round, before anything new is fetched or run. Each run is announced first (a
// result without finished_at: the collector marks the item running and audits the start).
// Used by: the runner (after a scan, only when agent.yaml has `migrate:`), and
// `keyward migrate --collector URL --agent-config FILE` (a person on the host).
// Never sends, logs or writes the PIN, a password or key bytes: results are facts only.
#pragma once

#include "config.hpp"
#include "tls_client.hpp"

#include <keyward/migrate/execute.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::agent {

// The collector's routes for agents (docs/api/openapi.yaml): the list, and one item's result.
inline constexpr std::string_view kMigrationsPath = "/api/v1/agent/migrations";
std::string migration_result_path(std::string_view item_id);

// Runs one item (a TokenSession in production); an exception from it is a failed result.
using RunItem = std::function<migrate::ItemResult(const migrate::PlanItem&)>;

// What one round did.
struct MigrationRound {
  bool reached = false;  // the collector answered the request for items
  std::size_t items = 0;
  std::size_t done = 0, skipped = 0, failed = 0, refused = 0, dry_run = 0;
  std::size_t cleaned = 0;   // done items whose copies on this host were cleaned up (or tried)
  std::size_t sent = 0;      // results the collector took (earlier queued ones included)
  std::size_t queued = 0;    // results waiting in the local file when the round ended
  std::size_t rejected = 0;  // results the collector refused (kept in the .rejected file)
  std::string error;         // why the round stopped early; "" when it did not
};

class MigrationClient {
 public:
  // collector: https://host:port; results_file: the local queue (its directory must exist).
  MigrationClient(TlsClientOptions tls, std::string collector, std::string results_file,
                  std::function<void(std::string_view)> log);

  // Sends the queued results oldest first; false (they stay queued) when the collector cannot
  // be reached or does not accept this agent. A result refused as such (400/404/409) moves to
  // `<results_file>.rejected` and is counted.
  bool flush(MigrationRound& round);
  // The approved items for this host; nullopt (round.error says why) when not reachable.
  std::optional<std::vector<migrate::PlanItem>> fetch(MigrationRound& round);
  // Gives one result to the collector, or queues it when the collector cannot take it now.
  void post(const migrate::ItemResult& result, MigrationRound& round);
  // flush, fetch; then for each approved item: open() before the first one (loads the module and
  // logs in; when it throws the round ends, nothing is announced or posted and the items stay
  // approved for the next round), announce the start, run it, post its result. dry_run: nothing
  // is announced or posted (the caller prints the results).
  // Items already done whose copies on this host wait: clean (no token) removes them when the
  // section allows it, and its result is posted; without clean they are left to a person.
  MigrationRound round(const RunItem& run, bool dry_run = false, const std::function<void()>& open = {},
                       const RunItem& clean = {});

 private:
  enum class Sent { taken, refused, later };
  Sent send(const nlohmann::json& result, const std::string& item_id, MigrationRound& round);
  // Tells the collector the item starts; false when it is not taken (round.error set when the
  // collector could not be reached).
  bool announce(const migrate::PlanItem& item, MigrationRound& round);
  void clean_up(const migrate::PlanItem& item, const RunItem& clean, bool dry_run, MigrationRound& round);
  void log(std::string_view line) const;

  TlsClientOptions tls_;
  std::string collector_, results_file_;
  std::function<void(std::string_view)> log_;
};

// What a round on the token needs besides the section: this host's name, and a dry run.
struct TokenRunOptions {
  std::string host;  // "" = this machine's host name (as the scanner reports it)
  bool dry_run = false;
  std::string password_source;                  // env:VAR or file:PATH of an encrypted key's password (import)
  std::function<void(const std::string&)> say;  // progress lines of the executor
  std::function<void(const migrate::ItemResult&)> on_result;  // each result, when it is known
};

// The client for an agent config (its collector, CA, certificate, key, proxy, results file).
MigrationClient client_for(const AgentConfig& c, std::function<void(std::string_view)> log);

// One round with the token the section names: the module is loaded and the PIN read from
// pin_source only when there is an item to run, and both are let go when the round ends.
MigrationRound run_migrations(MigrationClient& client, const MigrateSection& m, const TokenRunOptions& o);

// `keyward migrate --collector URL --agent-config FILE` (a person on the host): the agent's
// identity (CA, certificate, key, proxy and results file from FILE) with the module, token and
// PIN source of the command line. Throws ConfigError for a bad FILE or unreadable TLS files.
struct CollectorMigrateOptions {
  std::string collector;     // "" = the config's
  std::string agent_config;  // agent.yaml
  MigrateSection section;    // module, token, pin_source, strategies, remove_source
  TokenRunOptions run;
};
MigrationRound migrate_with_collector(const CollectorMigrateOptions& o, std::function<void(std::string_view)> log);

}  // namespace keyward::agent
