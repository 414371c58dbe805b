// agent.yaml: where the collector is, the agent's TLS files, what to scan, when, and how
// gently (docs/fleet.md, "Agent"). Used by: main (run, status), enroll (writes one).
// Holds file paths only, never key bytes or tokens. Bad files throw ConfigError naming the
// file and the key.
#pragma once

#include <chrono>
#include <cstdint>
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

  std::string spool_dir() const { return state_dir + "/spool"; }
  std::string cache_file() const { return state_dir + "/cache"; }
  std::string status_file() const { return state_dir + "/status.json"; }
};

// Reads and checks an agent.yaml; relative paths are taken relative to the file's directory.
AgentConfig load_config(const std::string& path);

// Parses the YAML text of a config (`source` names it in errors).
AgentConfig parse_config(std::string_view yaml, const std::string& source, const std::string& base_dir = ".");

// "30s", "10m", "6h", "1d", or plain seconds; throws std::invalid_argument.
std::chrono::seconds parse_duration(std::string_view text);

// "268435456", "64K", "64M", "1G", "256MiB"; binary units; throws std::invalid_argument.
std::uint64_t parse_size(std::string_view text);

// The YAML text of a config (written by enroll --config-out).
std::string render_config(const AgentConfig& c);

}  // namespace keyward::agent
