// SPDX-License-Identifier: Apache-2.0
#include "server/metrics.hpp"

#include <fmt/format.h>

namespace keyward::collector {

void Metrics::count_status(unsigned status) noexcept {
  if (status < 300) ++requests_2xx;
  else if (status < 400) ++requests_3xx;
  else if (status < 500) ++requests_4xx;
  else ++requests_5xx;
}

std::string Metrics::render(const StoreCounts& c) const {
  std::string o;
  auto counter = [&](const char* name, const char* help) {
    o += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
  };
  auto gauge = [&](const char* name, const char* help) {
    o += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  };
  counter("keyward_http_requests_total", "HTTP requests answered, by status class.");
  o += fmt::format("keyward_http_requests_total{{code=\"2xx\"}} {}\n", requests_2xx.load());
  o += fmt::format("keyward_http_requests_total{{code=\"3xx\"}} {}\n", requests_3xx.load());
  o += fmt::format("keyward_http_requests_total{{code=\"4xx\"}} {}\n", requests_4xx.load());
  o += fmt::format("keyward_http_requests_total{{code=\"5xx\"}} {}\n", requests_5xx.load());
  counter("keyward_reports_total", "Agent reports, by outcome.");
  o += fmt::format("keyward_reports_total{{outcome=\"stored\"}} {}\n", reports_stored.load());
  o += fmt::format("keyward_reports_total{{outcome=\"duplicate\"}} {}\n", reports_duplicate.load());
  o += fmt::format("keyward_reports_total{{outcome=\"held\"}} {}\n", reports_held.load());
  o += fmt::format("keyward_reports_total{{outcome=\"rejected\"}} {}\n", reports_rejected.load());
  o += fmt::format("keyward_reports_total{{outcome=\"rate_limited\"}} {}\n", reports_rate_limited.load());
  counter("keyward_reads_rate_limited_total", "GET requests refused with 429 (limits.reads_per_minute per token).");
  o += fmt::format("keyward_reads_rate_limited_total {}\n", reads_rate_limited.load());
  counter("keyward_findings_ingested_total", "Findings (places) in ingested reports.");
  o += fmt::format("keyward_findings_ingested_total {}\n", findings_ingested.load());
  o += "# HELP keyward_ingest_seconds Time spent ingesting reports into the store.\n"
       "# TYPE keyward_ingest_seconds summary\n";
  o += fmt::format("keyward_ingest_seconds_sum {:.6f}\n", static_cast<double>(ingest_microseconds.load()) / 1e6);
  o += fmt::format("keyward_ingest_seconds_count {}\n", ingest_count.load());
  counter("keyward_tls_handshake_failures_total",
          "TLS handshakes that failed (bad or foreign client certificates, probes).");
  o += fmt::format("keyward_tls_handshake_failures_total {}\n", tls_handshake_failures.load());
  counter("keyward_connections_refused_total", "Connections closed at once because max_connections was reached.");
  o += fmt::format("keyward_connections_refused_total {}\n", connections_refused.load());
  counter("keyward_connections_refused_per_client_total",
          "Connections closed at once because their client address had max_connections_per_client open.");
  o += fmt::format("keyward_connections_refused_per_client_total {}\n", connections_refused_per_client.load());
  gauge("keyward_connections_open", "Open client connections.");
  o += fmt::format("keyward_connections_open {}\n", connections_open.load());
  gauge("keyward_agents", "Enrolled agents, by status.");
  o += fmt::format("keyward_agents{{status=\"pending\"}} {}\n", c.agents_pending);
  o += fmt::format("keyward_agents{{status=\"approved\"}} {}\n", c.agents_approved);
  o += fmt::format("keyward_agents{{status=\"revoked\"}} {}\n", c.agents_revoked);
  gauge("keyward_hosts", "Hosts with at least one report.");
  o += fmt::format("keyward_hosts {}\n", c.hosts);
  gauge("keyward_findings", "Places in the inventory, by status.");
  o += fmt::format("keyward_findings{{status=\"open\"}} {}\n", c.open_findings);
  o += fmt::format("keyward_findings{{status=\"resolved\"}} {}\n", c.resolved_findings);
  o += fmt::format("keyward_findings{{status=\"excepted\"}} {}\n", c.excepted_findings);
  o += fmt::format("keyward_findings{{status=\"false_positive\"}} {}\n", c.false_positive_findings);
  gauge("keyward_keys", "Distinct key identities.");
  o += fmt::format("keyward_keys {}\n", c.keys);
  gauge("keyward_stored_reports", "Reports in the store (held: from agents not yet approved).");
  o += fmt::format("keyward_stored_reports{{state=\"all\"}} {}\n", c.reports);
  o += fmt::format("keyward_stored_reports{{state=\"held\"}} {}\n", c.held_reports);
  gauge("keyward_events", "Events recorded.");
  o += fmt::format("keyward_events {}\n", c.events);
  gauge("keyward_audit_entries", "Entries in the audit log.");
  o += fmt::format("keyward_audit_entries {}\n", c.audit_entries);
  return o;
}

}  // namespace keyward::collector
