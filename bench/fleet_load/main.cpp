// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load: a load generator for keyward-collector (issue 19, bench/).
//   enroll  makes N agent identities once (keys, CSRs, enrollment, approval) into a directory
//   run     N agents post gzip'd full-snapshot reports over mTLS while /health is probed
//   query   times the inventory reads (keys, findings, hosts, overview, plan, cbom)
//   sample  prints one host's report as `run` sends it (to read, or check against the schema)
// bench/fleet_scale.py starts a collector and drives it. A benchmark, not a test: loopback
// only, bounded by --seconds and --max-reports, it stops by itself.
// Must never print a token or a key: tokens are read from files, keys only handed to OpenSSL.
#include "fleet_load.hpp"

#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <exception>

namespace {

using namespace keyward::fleet_load;

void common_options(CLI::App* app, CommonOptions& c) {
  app->add_option("--url", c.url, "the collector, https://127.0.0.1:PORT (loopback only)")->required();
  app->add_option("--ca", c.ca_file, "the collector's CA certificate (PEM)")->required()->check(CLI::ExistingFile);
}

CLI::App* enroll_command(CLI::App& app, EnrollOptions& e) {
  auto* cmd = app.add_subcommand("enroll", "make N agent identities: keys, CSRs, enrollment and approval");
  common_options(cmd, e.common);
  cmd->add_option("--admin-token-file", e.admin_token_file, "a file holding an admin API token")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--agents", e.agents, "how many agents")->required()->check(CLI::Range(1, 1000000));
  cmd->add_option("--out", e.out_dir, "the fleet directory to write")->required();
  cmd->add_option("--connections", e.connections, "enrollments at once")->check(CLI::Range(1, 1024));
  return cmd;
}

// The options that shape the hosts' findings (run and sample).
void findings_options(CLI::App* cmd, RunOptions& r) {
  cmd->add_option("--findings-min", r.findings_min, "fewest findings of a host")->check(CLI::Range(1, 100000));
  cmd->add_option("--findings-max", r.findings_max, "most findings of a host")->check(CLI::Range(1, 100000));
  cmd->add_option("--shared-keys", r.shared_keys, "key identities shared across hosts");
  cmd->add_option("--shared-fraction", r.shared_fraction, "share of a host's keys that are shared ones")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--changing", r.changing, "every report has this many findings, all new each time (0: off)");
  cmd->add_option("--seed", r.seed, "the seed the hosts' findings follow from");
}

CLI::App* sample_command(CLI::App& app, SampleOptions& s) {
  auto* cmd = app.add_subcommand("sample", "print the report host I sends at generation G (JSON, uncompressed)");
  findings_options(cmd, s.shape);
  cmd->add_option("--index", s.index, "the host");
  cmd->add_option("--generation", s.generation, "its generation (churns so far; in --changing mode, reports)");
  return cmd;
}

CLI::App* run_command(CLI::App& app, RunOptions& r) {
  auto* cmd = app.add_subcommand("run", "N agents post full-snapshot reports; /health probed meanwhile");
  common_options(cmd, r.common);
  findings_options(cmd, r);
  cmd->add_option("--fleet", r.fleet_dir, "a fleet directory made by enroll")->required();
  cmd->add_option("--agents", r.agents, "agents to simulate (the fleet's first N)")
      ->required()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--seconds", r.seconds, "how long to send")->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--max-reports", r.max_reports, "stop after this many reports (0: the time only)");
  cmd->add_option("--connections", r.connections, "reports in flight at once")->check(CLI::Range(1, 10000));
  cmd->add_option("--threads", r.threads, "client threads (each its own agents)")->check(CLI::Range(1, 64));
  cmd->add_option("--rate", r.rate, "reports begun per second (0: as fast as the connections go)");
  cmd->add_option("--churn", r.churn, "share of rescans that change (a tenth of the host's keys)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--health-interval-ms", r.health_interval_ms, "GET /health every this many ms")
      ->check(CLI::Range(1.0, 60000.0));
  cmd->add_option("--gzip-level", r.gzip_level, "libdeflate level of the report bodies")->check(CLI::Range(1, 12));
  cmd->add_flag("--keep-alive", r.keep_alive, "keep each agent's connection open between its reports");
  cmd->add_flag("!--no-resume", r.resume, "no TLS session resumption (a full handshake every connection)");
  cmd->add_flag("--json", r.json, "print one JSON object");
  return cmd;
}

CLI::App* query_command(CLI::App& app, QueryOptions& q) {
  auto* cmd = app.add_subcommand("query", "time the inventory reads over keep-alive with a token");
  common_options(cmd, q.common);
  cmd->add_option("--token-file", q.token_file, "a file holding an API token")->required()->check(CLI::ExistingFile);
  cmd->add_option("--rounds", q.rounds, "requests per endpoint")->check(CLI::Range(1, 100000));
  cmd->add_flag("--cbom", q.cbom, "also GET /api/v1/cbom");
  cmd->add_flag("--json", q.json, "print one JSON object");
  return cmd;
}

// As many descriptors as allowed: --keep-alive holds one connection per agent.
void raise_fd_limit() {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    setrlimit(RLIMIT_NOFILE, &l);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"keyward_fleet_load: a load generator for keyward-collector (loopback only)"};
  app.require_subcommand(1);
  EnrollOptions e;
  RunOptions r;
  QueryOptions q;
  SampleOptions sm;
  auto* enroll = enroll_command(app, e);
  auto* run = run_command(app, r);
  auto* query = query_command(app, q);
  auto* sample = sample_command(app, sm);
  CLI11_PARSE(app, argc, argv);
  raise_fd_limit();
  try {
    if (r.findings_min > r.findings_max || sm.shape.findings_min > sm.shape.findings_max)
      throw std::runtime_error("--findings-min is above --findings-max");
    if (enroll->parsed()) return run_enroll(e);
    if (run->parsed()) return run_load(r);
    if (query->parsed()) return run_query(q);
    if (sample->parsed()) return run_sample(sm);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "keyward_fleet_load: %s\n", x.what());
    return 2;
  }
  return 2;
}
