// SPDX-License-Identifier: Apache-2.0
// The prose of keyward-agent(8): what --help cannot say (CONTRIBUTING.md, "Man pages and completion").
#include "manual.hpp"

namespace keyward::agent {

const cli_docs::Manual& manual() {
  static const cli_docs::Manual m{
      8,
      "keyward-agent runs on a host of the fleet: it enrolls once with keyward-collector(8) (a key made "
      "on this host, a one-time token), then scans the configured roots on a schedule with the same "
      "scanner and rules as keyward(1) and delivers each scan over mutual TLS. Reports that cannot be "
      "delivered wait in a spool and go with the next run.\n\n"
      "Without a command it runs as `keyward-agent run` does, with the top-level --config and --once; "
      "as a daemon it runs until SIGTERM or SIGINT, at a lowered CPU and I/O priority.",
      {
          {"EXIT STATUS",
           "Exit status of run (and of keyward-agent --config F):",
           "",
           {{"0", "--once: the report was delivered (202); without --once: stopped by SIGTERM/SIGINT"},
            {"2", "configuration or setup error (nothing was scanned)"},
            {"3", "--once: the report is in the spool but not delivered yet (the next run sends it)"},
            {"4", "--once: the collector refused the report (HTTP 400/413; kept in spool/rejected)"},
            {"5", "--once: the collector holds the report until an admin approves this agent (then ingests it)"}},
           "enroll and status exit 0 on success and 2 on any error.\n"
           "Reports are findings documents: key bytes, passwords and tokens are never sent, spooled or logged.",
           cli_docs::Layout::tagged},
          {"FILES",
           "",
           "",
           {{"agent.yaml", "the config that enroll --config-out writes (often /etc/keyward-agent.yaml)"},
            {"/var/lib/keyward-agent/", "the state directory: key (0600), certificate, CA, cache, spool, status.json"},
            {"STATE_DIR/spool/rejected/", "reports the collector refused"},
            {"STATE_DIR/status.json", "what keyward-agent status prints"}},
           "",
           cli_docs::Layout::tagged},
          {"ENVIRONMENT",
           "",
           "",
           {{"KEYWARD_ENROLL_TOKEN", "the enrollment token, when neither --token nor --token-file is given"}},
           "",
           cli_docs::Layout::tagged},
          {"EXAMPLES",
           "Examples:",
           "",
           {{"keyward-agent enroll --collector https://collector:8443 --token-file token --ca ca.pem "
             "--config-out /etc/keyward-agent.yaml",
             ""},
            {"keyward-agent --config /etc/keyward-agent.yaml --once", "scan once, deliver, exit (cron, timer)"},
            {"keyward-agent run --config /etc/keyward-agent.yaml", "the daemon"},
            {"keyward-agent status --config /etc/keyward-agent.yaml", ""}},
           "",
           cli_docs::Layout::commands},
          {"SEE ALSO",
           "",
           "keyward(1), keyward-collector(8), keyward-rules(5).\n\n"
           "The documentation in /usr/share/doc/keyward: fleet.md (the agent's config and protocol), "
           "deployment.md.",
           {},
           "",
           cli_docs::Layout::tagged},
      }};
  return m;
}

std::string help_footer() {
  return cli_docs::help_footer(manual(), {"EXIT STATUS"},
                               "Manual: man 8 keyward-agent; docs: /usr/share/doc/keyward (fleet.md).");
}

}  // namespace keyward::agent
