// SPDX-License-Identifier: Apache-2.0
// agent.yaml: where the collector is, the agent's TLS files, what to scan, when, and how
// gently (docs/fleet.md, "Agent"). Used by: main (run, status), enroll (writes one).
// Holds file paths only, never key bytes, tokens or PINs (the `migrate:` section names where a
// PIN is read from, never the PIN). Bad files throw ConfigError naming the file and the key.
#pragma once

#include <keyward/migrate/plan.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::agent {

// A configuration problem: file and key in the message, one actionable line.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How the agent asks the kernel for I/O priority (ionice classes).
enum class IoClass { idle, best_effort, none };
std::string_view to_string(IoClass c);

// The opt-in `migrate:` section (docs/fleet.md, "Migration by the agent"): approved plan items
// of this host run into a PKCS#11 token after each scan. Without it the agent never loads a
// module, asks for migrations or reads a PIN.
struct MigrateSection {
  std::string module;      // the PKCS#11 module (a path; dlopen'ed)
  std::string token;       // the token's label
  std::string pin_source;  // "env:VAR" or "file:PATH" (migrate::read_secret_source): never the PIN
  std::vector<migrate::Strategy> strategies{migrate::Strategy::regenerate, migrate::Strategy::import};
  bool remove_source = false;         // overwrite and remove each copy on this host after verification
  std::chrono::seconds poll{5 * 60};  // how often the running agent asks for approved items
};

struct AgentConfig {
  std::string source;       // the file read (for messages)
  std::string collector;    // https://host[:port]
  std::string ca;           // the collector's CA (PEM)
  std::string certificate;  // this agent's certificate (PEM)
  std::string key;          // this agent's key (PEM, 0600)
  std::string state_dir;    // cache, spool, status.json
  std::vector<std::string> roots{"/"};
  std::vector<std::string> excludes;
  std::chrono::seconds interval{6 * 3600};
  std::chrono::seconds jitter{10 * 60};
  double max_cpu_percent = 25;  // of one core
  unsigned threads = 1;
  int nice = 10;
  IoClass io_class = IoClass::idle;
  std::uint64_t max_file_size = 64ull << 20;
  std::uint64_t spool_max_bytes = 256ull << 20;
  std::string proxy;  // optional http://host:port
  std::optional<MigrateSection> migrate;

  std::string spool_dir() const { return state_dir + "/spool"; }
  std::string cache_file() const { return state_dir + "/cache"; }
  std::string status_file() const { return state_dir + "/status.json"; }
  // Migration results not yet taken by the collector (JSON lines, sent first on the next round).
  std::string migration_results_file() const { return state_dir + "/migration-results.jsonl"; }
};

// Reads and checks an agent.yaml; relative paths are taken relative to the file's directory.
AgentConfig load_config(const std::string& path);

// The TLS files must be there before anything runs (without them nothing can ever be sent):
// throws ConfigError naming the key and path when ca, certificate or key cannot be read.
void check_tls_files(const AgentConfig& c);

// Parses the YAML text of a config (`source` names it in errors).
AgentConfig parse_config(std::string_view yaml, const std::string& source, const std::string& base_dir = ".");

// "30s", "10m", "6h", "1d", or plain seconds; throws std::invalid_argument.
std::chrono::seconds parse_duration(std::string_view text);

// "268435456", "64K", "64M", "1G", "256MiB"; binary units; throws std::invalid_argument.
std::uint64_t parse_size(std::string_view text);

// The YAML text of a config (written by enroll --config-out).
std::string render_config(const AgentConfig& c);

}  // namespace keyward::agent
