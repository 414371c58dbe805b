// SPDX-License-Identifier: Apache-2.0
// The prose of keyward-collector(8): what --help cannot say (CONTRIBUTING.md, "Man pages and
// completion").
#include "manual.hpp"

namespace keyward::collector {

const cli_docs::Manual& manual() {
  static const cli_docs::Manual m{
      8,
      "keyward-collector is the fleet's inventory server: keyward-agent(8) hosts enroll with it and "
      "deliver their scans over mutual TLS; it keeps every key's places, risk, events and a hash-chained "
      "audit log in SQLite or PostgreSQL, serves API v1 and the dashboard, and runs scheduled remote scans "
      "over SSH.\n\n"
      "With no command and --config FILE it serves, as `keyward-collector serve` does. The other commands "
      "work on the same config and database, most of them safely while it serves.",
      {
          {"EXIT STATUS",
           "Exit codes:",
           "",
           {{"0", "success"},
            {"1", "audit verify found the log changed or cut"},
            {"2", "error (one line on stderr)"},
            {"3", "remote-scan: some host was not scanned, or only partly (the others are stored)"}},
           "",
           cli_docs::Layout::tagged},
          {"FILES",
           "",
           "",
           {{"/var/lib/keyward-collector/collector.yaml", "the config that init writes (--dir)"},
            {"/var/lib/keyward-collector/pki/", "the CA and server keys: back them up apart, encrypted"},
            {"/var/lib/keyward-collector/keyward.db", "the SQLite inventory (or a PostgreSQL database)"},
            {"/usr/share/keyward/ui/", "the dashboard's files"}},
           "",
           cli_docs::Layout::tagged},
          {"ENVIRONMENT",
           "",
           "",
           {{"PGPASSWORD", "PostgreSQL's password when --database-password-file is not given (or ~/.pgpass)"},
            {"USER", "the actor cli:$USER that commands write in the audit log"}},
           "",
           cli_docs::Layout::tagged},
          {"EXAMPLES",
           "Examples:",
           "",
           {{"keyward-collector init --dir /var/lib/keyward-collector --listen 127.0.0.1:8443 --san 127.0.0.1 "
             "--san localhost",
             ""},
            {"keyward-collector serve --config /var/lib/keyward-collector/collector.yaml", ""},
            {"keyward-collector token create --config F --enrollment --ttl 24h", ""},
            {"keyward-collector token create --config F --role viewer --name grafana --ttl 90d", ""},
            {"keyward-collector token create --config F --role approver --name \"alice laptop\" --principal alice", ""},
            {"keyward-collector agents approve --config F AGENT_ID", ""},
            {"keyward-collector report --config F", "hosts, spread and risky keys, expiring certificates, events"},
            {"keyward-collector report --config F --format json --top 20 > fleet.json", ""},
            {"keyward-collector plan --config F --format markdown", "the fleet's migration plan into HSM storage"},
            {"keyward-collector remote-scan --config F --host build-01", "the configured remote scans, once, now"},
            {"keyward-collector audit head --config F > head.json", ""},
            {"keyward-collector audit verify --config F --head head.json", ""},
            {"keyward-collector backup --config F --to /backups/keyward-$(date +%F).db",
             "online; prints the copy's audit head"},
            {"keyward-collector restore --config F --from /backups/keyward-2026-12-01.db", "collector stopped"}},
           "",
           cli_docs::Layout::commands},
          {"SEE ALSO",
           "",
           "keyward(1), keyward-agent(8), keyward-rules(5).\n\n"
           "The documentation in /usr/share/doc/keyward: fleet.md, deployment.md, dashboard.md, reports.md, "
           "api/.",
           {},
           "",
           cli_docs::Layout::tagged},
      }};
  return m;
}

std::string help_footer() {
  return cli_docs::help_footer(manual(), {"EXAMPLES", "EXIT STATUS"},
                               "Manual: man 8 keyward-collector; docs: /usr/share/doc/keyward (fleet.md, "
                               "deployment.md).");
}

}  // namespace keyward::collector
