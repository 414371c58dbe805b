// SPDX-License-Identifier: Apache-2.0
#include "commands/remote_cmd.hpp"

#include "commands/scan.hpp"

#include <keyward/common/terminal.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/ssh/inventory.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

namespace keyward::cli {
namespace {

constexpr int kExitHostNotWhole = 3;

// DIR/<stem>.<ext>: the host's name with anything but letters, digits, '.', '_' and '-' made '_'
// (and no leading '.'), so a name can never reach outside DIR.
std::string file_stem(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  if (s.empty() || s.front() == '.') s.insert(s.begin(), '_');
  return s;
}

std::string extension(ReportFormat format) { return "." + std::string(file_extension(format)); }

// --output-dir: made if missing; every host's file name distinct (and none is hosts.json).
bool prepare_output_dir(const std::string& dir, const std::vector<ssh::InventoryHost>& hosts,
                        ReportFormat format) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "keyward: cannot write to %s: %s (nothing was scanned)\n", dir.c_str(),
                 ec ? ec.message().c_str() : "not a directory");
    return false;
  }
  std::map<std::string, std::string> seen{{"hosts.json", "(the status list)"}};
  for (const auto& h : hosts) {
    const std::string file = file_stem(h.name) + extension(format);
    if (const auto [it, fresh] = seen.emplace(file, h.name); !fresh) {
      std::fprintf(stderr,
                   "keyward: hosts %s and %s would both be written to %s/%s; give one a name: (nothing was scanned)\n",
                   it->second.c_str(), h.name.c_str(), dir.c_str(), file.c_str());
      return false;
    }
  }
  return output_writable(dir + "/hosts.json");
}

// One host's scan with its own identity, known_hosts and mode (else the command's).
ssh::HostResult scan_one(const ssh::InventoryHost& h, const RemoteCommand& cmd, const scanner::ScanOptions& opts,
                         const ssh::ConnectOptions& connect) {
  ssh::ConnectOptions c = connect.copy();
  if (!h.identity_file.empty()) c.credentials.identity_file = h.identity_file;
  if (!h.known_hosts.empty()) c.known_hosts = h.known_hosts;
  const ssh::Mode mode = cmd.mode_given ? ssh::parse_mode(cmd.ssh.mode).value_or(h.mode) : h.mode;
  try {
    return scan_endpoint(h.target, h.paths, opts, std::move(c), mode, cmd.ssh.connections, cmd.common.password_files);
  } catch (const std::exception& e) {  // never lets one host stop the others
    ssh::HostResult r;
    r.target = h.target;
    r.status = ssh::HostStatus::error;
    r.message = e.what();
    return r;
  }
}

// Every host, `parallel` at once, in a small pool of threads that take the next host as they finish.
std::vector<ssh::HostResult> scan_hosts(const std::vector<ssh::InventoryHost>& hosts, const RemoteCommand& cmd,
                                        const scanner::ScanOptions& opts, const ssh::ConnectOptions& connect) {
  std::vector<ssh::HostResult> results(hosts.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < hosts.size(); i = next++) results[i] = scan_one(hosts[i], cmd, opts, connect);
  };
  std::vector<std::thread> pool;
  const std::size_t n = std::min<std::size_t>(std::max(1u, cmd.parallel), hosts.size());
  for (std::size_t i = 0; i < n; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return results;
}

void print_table(const std::vector<ssh::InventoryHost>& hosts, const std::vector<ssh::HostResult>& results) {
  std::size_t width = 4;
  for (const auto& h : hosts) width = std::max(width, common::terminal_safe(h.name).size());
  std::string out = fmt::format("{:<{}}  {:<17}  {:>8}  {:>8}\n", "HOST", width, "STATUS", "FINDINGS", "SECONDS");
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const ssh::HostResult& r = results[i];
    out += fmt::format("{:<{}}  {:<17}  {:>8}  {:>8.1f}", common::terminal_safe(hosts[i].name), width,
                       ssh::to_string(r.status), r.result ? std::to_string(r.result->findings.size()) : "-", r.seconds);
    if (!r.message.empty()) out += "  " + common::terminal_safe(r.message);
    out += "\n";
  }
  std::fputs(out.c_str(), stderr);
}

// The report with the `hosts` list added: JSON and JSON Lines at the document's top level, SARIF
// in the run's properties, text as a closing section.
std::string with_hosts(std::string report, ReportFormat format, const nlohmann::json& hosts) {
  if (format == ReportFormat::json || format == ReportFormat::jsonl) {
    std::string head = report.substr(0, report.rfind('}'));
    head.erase(head.find_last_not_of(" \n") + 1);
    std::string list = hosts.dump(format == ReportFormat::json ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (format == ReportFormat::jsonl) return head + ",\"hosts\":" + list + "}\n";
    for (std::size_t p = list.find('\n'); p != std::string::npos; p = list.find('\n', p + 1)) list.insert(p + 1, "  ");
    return head + ",\n  \"hosts\": " + list + "\n}\n";
  }
  if (format == ReportFormat::sarif) {
    nlohmann::json doc = nlohmann::json::parse(report);
    doc["runs"][0]["properties"]["hosts"] = hosts;
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  report += "\nHosts:\n";
  for (const auto& h : hosts) {
    report +=
        fmt::format("  {}  {}", common::terminal_safe(h["name"].get<std::string>()), h["status"].get<std::string>());
    if (h.contains("findings")) report += fmt::format("  {} findings", h["findings"].get<std::size_t>());
    if (h.contains("message")) report += "  " + common::terminal_safe(h["message"].get<std::string>());
    report += "\n";
  }
  return report;
}

ReportSettings report_settings(const RemoteCommand& cmd, const std::string& output) {
  ReportSettings rs;
  rs.format = cmd.format;
  rs.output = output;
  rs.sarif_root = "/";
  rs.junit_fail_on = "high";
  return rs;
}

// One merged document: every host's findings (each naming its host), scored together.
bool write_merged(const RemoteCommand& cmd, const std::vector<ssh::InventoryHost>& hosts,
                  std::vector<ssh::HostResult>& results, const scanner::ScanOptions& opts, const rules::RuleSet& rules,
                  bool& private_key) {
  scanner::ScanResult merged = empty_result(opts);
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    list.push_back(host_status_json(hosts[i].name, results[i]));
    if (results[i].result) merge_result(merged, std::move(*results[i].result), hosts[i].target);
    else merged.complete = false;
  }
  rules::score(merged, rules, score_context(cmd.ranking));
  private_key = std::any_of(merged.findings.begin(), merged.findings.end(),
                            [](const auto& f) { return f.holds_private_key() && !f.suppressed; });
  return write_report(with_hosts(render_report(merged, rules, report_settings(cmd, cmd.output)), cmd.format, list),
                      cmd.output);
}

// --output-dir: DIR/<name>.<ext> for every host a scan ran on (each scored on its own), and
// DIR/hosts.json with every host's status.
bool write_per_host(const RemoteCommand& cmd, const std::vector<ssh::InventoryHost>& hosts,
                    std::vector<ssh::HostResult>& results, const rules::RuleSet& rules, bool& private_key) {
  nlohmann::json list = nlohmann::json::array();
  bool ok = true;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    list.push_back(host_status_json(hosts[i].name, results[i]));
    if (!results[i].result) continue;
    scanner::ScanResult& r = *results[i].result;
    rules::score(r, rules, score_context(cmd.ranking));
    for (const auto& f : r.findings) private_key = private_key || (f.holds_private_key() && !f.suppressed);
    const std::string file = cmd.output_dir + "/" + file_stem(hosts[i].name) + extension(cmd.format);
    ok = write_report(render_report(r, rules, report_settings(cmd, file)), file) && ok;
  }
  const nlohmann::json doc = {{"hosts", list}};
  return write_report(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                      cmd.output_dir + "/hosts.json") &&
         ok;
}

}  // namespace

CLI::App* add_remote_command(CLI::App& app, RemoteCommand& cmd) {
  CLI::App* sub = app.add_subcommand("remote", "Scan many hosts over SSH, agentless, from an inventory file");
  sub->footer(
      "Examples:\n"
      "  keyward remote --inventory hosts.yaml                       # text report, status table on stderr\n"
      "  keyward remote --inventory hosts.yaml --format json -o fleet.json --parallel 8\n"
      "  keyward remote --inventory hosts.yaml --format json --output-dir out/   # out/<host>.json + out/hosts.json\n"
      "  keyward remote --inventory hosts.yaml -i ~/.ssh/keyward_scan --passphrase-source env:SCAN_KEY_PASS\n\n"
      "hosts.yaml (docs/remote.md, \"The inventory\"):\n"
      "  defaults: {user: scan, paths: [/etc, /home, /opt, /srv], identity: ~/.ssh/keyward_scan}\n"
      "  hosts:\n"
      "    - build-1.example.com\n"
      "    - {host: 10.0.0.5, port: 2222, user: deploy, paths: [/opt/app], mode: exec, name: app-1}\n"
      "    - url: ssh://ops@db-1/var/lib\n\n"
      "Each host is scanned with the same walk and detectors as a local scan; every finding names its\n"
      "host (location.host) and the document lists how each host's scan ended (`hosts`): ok,\n"
      "unreachable, host_key_unknown, host_key_mismatch, auth_refused, incompatible, partial, error.\n"
      "One host down or refusing never stops the others. Host keys are checked against known_hosts;\n"
      "an unknown one is refused unless --accept-new-host-keys, a changed one always. --mode, when\n"
      "given, overrides the inventory's modes; -i and --known-hosts apply to hosts whose inventory\n"
      "names none.\n\n"
      "Exit status: 0 every host scanned whole and no private key found; 1 every host scanned whole\n"
      "and a private key found on some host; 3 some host not scanned or only partly (the others'\n"
      "findings are still written); 2 usage error, unreadable inventory or output.");
  sub->add_option("--inventory", cmd.inventory, "The hosts to scan (YAML)")
      ->required()
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  sub->add_option("--parallel", cmd.parallel, "Hosts scanned at once")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  add_format_option(*sub, cmd.format,
                    {ReportFormat::text, ReportFormat::json, ReportFormat::jsonl, ReportFormat::sarif});
  auto* out = sub->add_option("-o,--output", cmd.output, "Write the merged report to FILE instead of standard output")
                  ->type_name("FILE");
  sub->add_option("--output-dir", cmd.output_dir,
                  "Write one report per host to DIR/<name>.<format>, and DIR/hosts.json")
      ->type_name("DIR")
      ->excludes(out);
  sub->add_flag("-q,--quiet", cmd.quiet, "No status table on stderr");
  add_walk_flags(*sub, cmd.walk);
  add_common_scan_flags(*sub, cmd.common);
  add_ranking_flags(*sub, cmd.ranking);
  add_ssh_flags(*sub, cmd.ssh);
  sub->get_option("--mode")->each([&cmd](const std::string&) { cmd.mode_given = true; });
  return sub;
}

int run_remote(const RemoteCommand& cmd) {
  const std::vector<ssh::InventoryHost> hosts = ssh::load_inventory(cmd.inventory);  // throws: exit 2
  if (cmd.output_dir.empty() ? !output_writable(cmd.output) : !prepare_output_dir(cmd.output_dir, hosts, cmd.format))
    return 2;
  scanner::ScanOptions opts = scan_options(cmd.common, cmd.walk);
  opts.cancel = &cancel_flag();
  const ssh::ConnectOptions connect = connect_options(cmd.ssh);
  const rules::RuleSet rules = load_rules(cmd.common.rules_dirs);
  std::vector<ssh::HostResult> results = scan_hosts(hosts, cmd, opts, connect);
  if (!cmd.quiet) print_table(hosts, results);
  bool private_key = false;
  const bool written = cmd.output_dir.empty() ? write_merged(cmd, hosts, results, opts, rules, private_key)
                                              : write_per_host(cmd, hosts, results, rules, private_key);
  if (!written) return 2;
  const bool whole =
      std::all_of(results.begin(), results.end(), [](const auto& r) { return r.status == ssh::HostStatus::ok; });
  if (!whole) return kExitHostNotWhole;
  return private_key ? 1 : 0;
}

}  // namespace keyward::cli
