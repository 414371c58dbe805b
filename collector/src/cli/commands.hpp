// SPDX-License-Identifier: Apache-2.0
// The collector's commands (serve, init, token, agents, audit, report, plan): thin wrappers over the store,
// the CA and the server. Used by: collector/main.cpp only.
// Must never print a token secret except once, on stdout, when it is created.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace keyward::collector::cli {

// Everything the command line can set; each command reads its part.
struct Options {
  std::string config;
  // init
  std::string dir;
  std::string listen = "127.0.0.1:8443";
  std::vector<std::string> sans;
  std::string ca_cert, ca_key;
  std::string database, database_password_file;  // init: the inventory's database (default: keyward.db)
  bool force = false;
  // token
  std::string role, name, principal, ttl;
  bool enrollment = false;
  // token revoke, agents approve/revoke/tag
  std::string id;
  std::vector<std::string> tags;
  // audit verify
  std::string head_file;
  std::string checkpoints_file;  // "": the events file
  std::string public_key_file;   // "": audit.public_key of the config
  // report, plan
  std::string format = "text";
  std::size_t top = 10;
  // remote-scan
  std::string host;  // "": every host of the inventory
  // backup --to, restore --from
  std::string file;
};

int run_serve(const Options& o);
int run_init(const Options& o);
int run_token_create(const Options& o);
int run_token_list(const Options& o);
int run_token_revoke(const Options& o);
int run_agents_list(const Options& o);
int run_agents_approve(const Options& o);
int run_agents_revoke(const Options& o);
int run_agents_tag(const Options& o);
int run_audit_verify(const Options& o);
int run_audit_head(const Options& o);
// The fleet report (report.hpp) on stdout; reads the store only (no audit entry, no events file).
int run_report(const Options& o);
// The fleet's migration plan into HSM storage (docs/migration.md) on stdout, text, json or markdown.
int run_plan(const Options& o);
// The configured remote scans once now (docs/fleet.md, "Remote scans"): one line per host on
// stdout; 0 when every host was scanned whole, 3 when some host was not or only partly.
int run_remote_scan(const Options& o);
// The database copied online into a new file (docs/deployment.md, "Backup and restore"); prints
// the copy's audit head as JSON.
int run_backup(const Options& o);
// A backup checked (integrity, audit chain), put in place of the database (moved aside with the
// events file), and the audit log re-anchored with a signed collector.restore entry.
int run_restore(const Options& o);

}  // namespace keyward::collector::cli
