// SPDX-License-Identifier: Apache-2.0
// keyward-agent: enroll this host, then scan on a schedule and deliver each scan to the
// collector over mutual TLS (docs/fleet.md, "Agent"). Thin: parses the command line, lowers
// priority, installs signal handlers and hands over to src/.
#include "config.hpp"
#include "enroll.hpp"
#include "manual.hpp"
#include "priority.hpp"
#include "runner.hpp"
#include "status.hpp"

#include <keyward/version.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop(int) { g_stop.store(true); }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// Loads the config into c; false (the error printed) when it is not valid.
bool load(const std::string& config_file, keyward::agent::AgentConfig& c) {
  try {
    c = keyward::agent::load_config(config_file);
    return true;
  } catch (const keyward::agent::ConfigError& e) {
    std::fprintf(stderr, "keyward-agent: %s\n", e.what());
    return false;
  }
}

int run(const std::string& config_file, bool once) {
  using namespace keyward::agent;
  AgentConfig c;
  if (!load(config_file, c)) return kExitError;
  if (const std::string warn = lower_priority(c.nice, c.io_class); !warn.empty())
    std::fprintf(stderr, "keyward-agent: warning: %s\n", warn.c_str());
  install_signals();
  RunOptions o;
  o.once = once;
  o.stop = &g_stop;
  try {
    return run_agent(c, o);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "keyward-agent: %s\n", e.what());
    return kExitError;
  }
}

int status(const std::string& config_file, bool json) {
  using namespace keyward::agent;
  AgentConfig c;
  if (!load(config_file, c)) return 2;
  std::ifstream in(c.status_file());
  if (!in) {
    std::fprintf(stderr, "keyward-agent: no status yet (%s): the agent has not run with this config\n",
                 c.status_file().c_str());
    return 2;
  }
  const AgentStatus s = AgentStatus::load(c.status_file());
  if (json) std::cout << s.to_json().dump(2) << "\n";
  else std::cout << s.render_text();
  return 0;
}

// `keyward-agent enroll`: its options fill eo (and token_file).
CLI::App* add_enroll_command(CLI::App& app, keyward::agent::EnrollOptions& eo, std::string& token_file) {
  CLI::App* cmd = app.add_subcommand("enroll", "Make this host's key, enroll with the collector, write a config");
  cmd->add_option("--collector", eo.collector, "The collector, https://host:port")->required();
  cmd->add_option("--token", eo.token, "One-time enrollment token (kwe_...); also KEYWARD_ENROLL_TOKEN")
      ->envname("KEYWARD_ENROLL_TOKEN");
  cmd->add_option("--token-file", token_file, "Read the token from FILE (keeps it out of ps)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ca", eo.ca, "The collector's CA certificate (from the admin)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--state-dir", eo.state_dir, "Where key, certificate, spool and cache live")
      ->type_name("DIR")
      ->default_str("/var/lib/keyward-agent");
  eo.state_dir = "/var/lib/keyward-agent";
  cmd->add_option("--root", eo.roots, "What to scan (repeatable; default /)")->type_name("PATH");
  cmd->add_option("--config-out", eo.config_out, "Write the agent's config here")->type_name("FILE");
  cmd->add_option("--proxy", eo.proxy, "HTTP proxy for CONNECT, http://host:port");
  cmd->add_flag("--force", eo.force,
                "Replace an existing enrollment with a new key (the old one stays until the new one is written)");
  cmd->footer(
      "The key is made on this host (EC P-256, mode 0600) and never leaves it; the token is "
      "used once and never written anywhere.");
  return cmd;
}

// Runs `enroll` and prints what was made (never the token); 0 or 2.
int run_enroll(keyward::agent::EnrollOptions& eo, const std::string& token_file) {
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    std::getline(in, eo.token);
    while (!eo.token.empty() && (eo.token.back() == '\r' || eo.token.back() == ' ')) eo.token.pop_back();
  }
  try {
    const auto r = keyward::agent::enroll(eo);
    std::printf("agent id: %s\n", r.agent_id.c_str());
    std::printf("key: %s (made on this host, mode 0600)\ncertificate: %s\n", r.config.key.c_str(),
                r.config.certificate.c_str());
    if (!eo.config_out.empty()) std::printf("config: %s\n", eo.config_out.c_str());
    if (r.status == "pending" || r.status.empty())
      std::printf(
          "status: pending, waiting for an admin to approve "
          "(keyward-collector agents approve --config ... %s)\n",
          r.agent_id.c_str());
    else std::printf("status: %s\n", r.status.c_str());
    return 0;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "keyward-agent: %s\n", e.what());
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "keyward-agent: scans this host for keys and certificates on a schedule and reports to keyward-collector"};
  const std::string footer = keyward::agent::help_footer();
  app.footer(footer);
  std::string config_file;
  bool once = false;
  app.add_option("-c,--config", config_file, "The agent's config (agent.yaml)")->type_name("FILE");
  app.add_flag("--once", once, "Scan once, try to deliver, exit (for cron or a systemd timer)");

  CLI::App* run_cmd = app.add_subcommand("run", "Scan on the schedule and deliver (the default)");
  std::string run_config;
  bool run_once = false;
  run_cmd->add_option("-c,--config", run_config, "The agent's config (agent.yaml)")->required()->type_name("FILE");
  run_cmd->add_flag("--once", run_once, "Scan once, try to deliver, exit");
  run_cmd->footer(footer);

  keyward::agent::EnrollOptions eo;
  std::string token_file;
  CLI::App* enroll_cmd = add_enroll_command(app, eo, token_file);

  CLI::App* status_cmd = app.add_subcommand("status", "Last scan, last delivery, spool depth, last error");
  std::string status_config;
  bool status_json = false;
  status_cmd->add_option("-c,--config", status_config, "The agent's config")->required()->type_name("FILE");
  status_cmd->add_flag("--json", status_json, "Print status.json as is");
  app.require_subcommand(0, 1);
  keyward::cli_docs::add_standard_commands(app, "keyward-agent", keyward::agent::manual(), KEYWARD_VERSION);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*enroll_cmd) return run_enroll(eo, token_file);
  if (*status_cmd) return status(status_config, status_json);
  if (*run_cmd) return run(run_config, run_once);
  if (config_file.empty()) {
    std::fprintf(stderr, "keyward-agent: --config FILE is required (or: enroll, status; see --help)\n");
    return 2;
  }
  return run(config_file, once);
}
