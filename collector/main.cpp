// SPDX-License-Identifier: Apache-2.0
// keyward-collector: the fleet's inventory server (docs/fleet.md). Thin: declares the commands
// (each paired with its function in src/cli/commands.cpp), parses arguments, runs the one given
// and maps errors to one line and exit 2.
#include "cli/commands.hpp"
#include "manual.hpp"

#include <keyward/version.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <vector>

namespace {

using keyward::collector::cli::Options;
namespace cmd = keyward::collector::cli;

// A subcommand and the function that runs it once parsed.
struct Command {
  CLI::App* app;
  int (*run)(const Options&);
};

// A subcommand that needs --config.
CLI::App* with_config(CLI::App* sub, Options& o) {
  sub->add_option("--config", o.config, "collector.yaml (written by init)")->required()->type_name("FILE");
  return sub;
}

// A subcommand that needs --config and names one object by ID.
CLI::App* with_config_and_id(CLI::App* sub, Options& o, const char* what) {
  with_config(sub, o)->add_option("ID", o.id, what)->required();
  return sub;
}

CLI::App* add_init(CLI::App& app, Options& o) {
  CLI::App* init =
      app.add_subcommand("init", "Make the CA, server certificate, collector.yaml, database and a first admin token");
  init->add_option("--dir", o.dir, "Data directory (created 0700)")->required()->type_name("DIR");
  init->add_option("--listen", o.listen, "host:port to listen on")->capture_default_str();
  init->add_option(
      "--san", o.sans,
      "Name or IP address in the server certificate (repeat); default: localhost, 127.0.0.1, ::1, the host name");
  init->add_option("--ca-cert", o.ca_cert, "Bring your own CA certificate (PEM) instead of making one")
      ->type_name("FILE");
  init->add_option("--ca-key", o.ca_key, "Its private key (PEM, unencrypted, mode 0600)")->type_name("FILE");
  init->add_option("--database", o.database,
                   "The inventory's database: a SQLite file in --dir (default keyward.db), or "
                   "postgres://user@host:port/db for PostgreSQL and replicas (docs/deployment.md)");
  init->add_option("--database-password-file", o.database_password_file,
                   "PostgreSQL's password, the first line of this file (mode 0600); else PGPASSWORD or ~/.pgpass")
      ->type_name("FILE");
  init->add_flag("--force", o.force,
                 "Replace an existing CA, server certificate and config (agents must enroll again)");
  init->footer("Prints the config path, the CA file to hand to agents and an admin token (shown once).");
  return init;
}

void add_token_commands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* token = app.add_subcommand("token", "API and enrollment tokens");
  token->require_subcommand(1);
  CLI::App* create =
      with_config(token->add_subcommand("create", "Create a token; its secret is printed once on stdout"), o);
  create->add_option("--role", o.role, "viewer | analyst | approver | admin");
  create->add_option("--name", o.name, "What it is for (e.g. grafana, alice laptop)");
  create->add_option("--principal", o.principal,
                     "Who holds it (default: the name); one principal never approves their own exception request");
  create->add_option(
      "--ttl", o.ttl,
      "Lifetime: N[s|m|h|d] up to 3650d, or never; default 90d for API tokens, 24h for enrollment tokens");
  create->add_flag("--enrollment", o.enrollment, "A one-time token to enroll one agent (kwe_...)");
  commands.push_back({create, cmd::run_token_create});
  commands.push_back(
      {with_config(token->add_subcommand("list", "List API tokens (never their secrets)"), o), cmd::run_token_list});
  commands.push_back(
      {with_config_and_id(token->add_subcommand("revoke", "Revoke an API token by id"), o, "Token id (token list)"),
       cmd::run_token_revoke});
}

void add_agents_commands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* agents = app.add_subcommand("agents", "Enrolled agents (actor cli:$USER in the audit log)");
  agents->require_subcommand(1);
  commands.push_back({with_config(agents->add_subcommand("list", "List agents"), o), cmd::run_agents_list});
  commands.push_back(
      {with_config_and_id(agents->add_subcommand("approve", "Approve a pending agent (its held reports are ingested)"),
                          o, "Agent id"),
       cmd::run_agents_approve});
  commands.push_back(
      {with_config_and_id(agents->add_subcommand("revoke", "Revoke an agent (its next request is refused)"), o,
                          "Agent id"),
       cmd::run_agents_revoke});
  CLI::App* tag = with_config_and_id(agents->add_subcommand("tag", "Set an agent's tags (replaces them; e.g. build)"),
                                     o, "Agent id");
  tag->add_option("TAG", o.tags, "Tags; none clears them");
  commands.push_back({tag, cmd::run_agents_tag});
}

void add_audit_commands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* audit = app.add_subcommand("audit", "The hash-chained audit log");
  audit->require_subcommand(1);
  CLI::App* verify = with_config(
      audit->add_subcommand(
          "verify", "Recompute the chain and check the signed checkpoints; exit 1 when the log was changed or cut"),
      o);
  verify->add_option("--head", o.head_file, "A head exported earlier by `audit head`: also detects a cut-off tail")
      ->type_name("FILE");
  verify
      ->add_option("--checkpoints", o.checkpoints_file,
                   "A file of signed checkpoints (default: the events file), e.g. a SIEM's copy; each must match")
      ->type_name("FILE");
  verify
      ->add_option("--public-key", o.public_key_file,
                   "The audit public key to check them with (default: audit.public_key), e.g. a copy kept elsewhere")
      ->type_name("FILE");
  commands.push_back({verify, cmd::run_audit_verify});
  commands.push_back(
      {with_config(audit->add_subcommand("head", "Print the last entry's {seq, hash} as JSON (keep it somewhere safe)"),
                   o),
       cmd::run_audit_head});
}

void add_backup_commands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* backup = with_config(
      app.add_subcommand("backup", "Copy the inventory database while the collector serves (SQLite's backup API)"), o);
  backup->add_option("--to", o.file, "The new backup file (mode 0600; must not exist)")->required()->type_name("FILE");
  backup->footer(
      "Prints the copy's audit head: keep it with the backup. The key files (pki/) are not copied: back them up "
      "apart, encrypted. Docs: docs/deployment.md.");
  commands.push_back({backup, cmd::run_backup});
  CLI::App* restore =
      with_config(app.add_subcommand("restore", "Put a backup in place of the database (stop the collector first)"), o);
  restore->add_option("--from", o.file, "A file that `backup` wrote")->required()->type_name("FILE");
  restore->footer(
      "Checks the backup (integrity, audit chain) before changing anything; moves the database and the events file "
      "aside (suffix .before-restore-<time>); appends a signed collector.restore audit entry naming both heads. "
      "Docs: docs/deployment.md.");
  commands.push_back({restore, cmd::run_restore});
}

CLI::App* add_report(CLI::App& app, Options& o) {
  CLI::App* report = with_config(
      app.add_subcommand("report", "Print the fleet report from the database (reads only; never a secret)"), o);
  report
      ->add_option("-f,--format", o.format,
                   "text (aligned tables) | json (one keyward.fleet-report/v1 object) | cbom (CycloneDX 1.6) | "
                   "html (one self-contained file) | csv (one row per open finding); docs/reports.md")
      ->check(CLI::IsMember({"text", "json", "cbom", "html", "csv"}))
      ->capture_default_str();
  report->add_option("--top", o.top, "Rows in each key, certificate and event list (every host is listed)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  report->footer(R"(Sections: open findings by severity; hosts (worst first: status, tags, open findings, worst
severity, last report); keys open on two or more hosts; the riskiest keys (kind, algorithm,
hosts, severity, managed/excepted, first places); certificates expiring within 30 days
(expired included); the last events. Safe while `serve` runs.
Example: keyward-collector report --config /var/lib/keyward-collector/collector.yaml --top 20)");
  return report;
}

CLI::App* add_plan(CLI::App& app, Options& o) {
  CLI::App* plan =
      with_config(app.add_subcommand("plan", "Print the fleet's migration plan into HSM storage from the database"), o);
  plan->add_option("-f,--format", o.format, "text | json (keyward.plan/v1) | markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  plan->footer(R"(One item per key identity, every place it sits, ordered by risk: strategy and its reasons,
blockers, target token, steps, owner and state (proposed, approved, running, done, failed,
refused). An approval whose places changed goes back to proposed first (audited), as through
the API. Requests and approvals go through the API (docs/fleet.md, docs/migration.md).
Example: keyward-collector plan --config /var/lib/keyward-collector/collector.yaml --format markdown)");
  return plan;
}

CLI::App* add_remote_scan(CLI::App& app, Options& o) {
  CLI::App* scan = with_config(
      app.add_subcommand("remote-scan", "Run the configured remote scans (remote_scans in collector.yaml) once, now"),
      o);
  scan->add_option("--host", o.host, "Only this host of the inventory (its name)");
  scan->footer(R"(Each host is scanned over SSH and stored like an agent's report (host id ssh:NAME, source
remote); one line per host: name, status (ok, unreachable, host_key_unknown, host_key_mismatch,
auth_refused, incompatible, partial, error), what was stored, the message. Safe while `serve` runs.
Exit: 0 every host scanned whole; 3 some host not scanned or only partly; 2 error. Docs: docs/fleet.md.)");
  return scan;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"keyward-collector: the fleet inventory server for keyward agents (mutual TLS, API v1, SQLite)"};
  app.add_option("--config", o.config, "collector.yaml; with no command, serve it")->type_name("FILE");
  app.footer(keyward::collector::help_footer());

  std::vector<Command> commands;
  commands.push_back(
      {with_config(app.add_subcommand("serve", "Run the HTTPS server until SIGINT/SIGTERM"), o), cmd::run_serve});
  commands.push_back({add_init(app, o), cmd::run_init});
  add_token_commands(app, o, commands);
  add_agents_commands(app, o, commands);
  add_audit_commands(app, o, commands);
  add_backup_commands(app, o, commands);
  commands.push_back({add_report(app, o), cmd::run_report});
  commands.push_back({add_plan(app, o), cmd::run_plan});
  commands.push_back({add_remote_scan(app, o), cmd::run_remote_scan});
  keyward::cli_docs::add_standard_commands(app, "keyward-collector", keyward::collector::manual(), KEYWARD_VERSION);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (const Command& c : commands)
      if (c.app->parsed()) return c.run(o);
    if (!o.config.empty()) return cmd::run_serve(o);
    std::fprintf(stderr,
                 "keyward-collector: give a command (serve, init, token, agents, audit, report, plan, remote-scan) or "
                 "--config F to "
                 "serve; see --help\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keyward-collector: %s\n", e.what());
    return 2;
  }
}
