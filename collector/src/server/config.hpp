// Collector configuration: collector.yaml (docs/fleet.md) loaded into one struct, plus the
// duration syntax shared by the config, the API and the command line ("30d", "24h", "90s").
// Used by: the server (serve) and the command line (init writes it, every command reads it).
// Must never hold a secret: the file names key files, it never contains keys or tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::collector {

// limits: request size, rate, deadlines and connections.
struct Limits {
  std::uint64_t max_request_bytes = 32ull << 20;  // after decompression, and before it
  std::uint32_t reports_per_minute = 12;          // per agent
  std::uint32_t request_timeout_seconds = 30;     // each handshake, read and write
  std::uint32_t max_connections = 256;
};

// tls: the CA that signs agents and the server's certificate (absolute paths after loading).
struct TlsFiles {
  std::string ca_cert;
  std::string ca_key;
  std::string server_cert;
  std::string server_key;
};

// collector.yaml; every relative path is resolved against data_dir when loaded.
struct Config {
  std::string path;  // the file it was read from
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  std::string data_dir;
  std::string database;
  std::string events_file;  // "" disables the event file
  TlsFiles tls;
  Limits limits;
  std::vector<std::string> rules_dirs;
};

// Reads and checks collector.yaml; throws std::runtime_error naming the file and key.
Config load_config(const std::string& path);

// The YAML text of a config as `init` writes it (paths as given, relative to data_dir).
std::string config_to_yaml(const Config& c);

// Splits "host:port" or "[v6]:port"; nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view s);

// Seconds of a duration "N[s|m|h|d]" (no unit: seconds); nullopt when malformed, negative or huge.
std::optional<std::int64_t> parse_duration(std::string_view s);

// "2024-05-01T12:00:00Z" for a Unix time; "" for 0.
std::string rfc3339(std::int64_t t);
// Unix time of "YYYY-MM-DDTHH:MM:SSZ"; nullopt otherwise.
std::optional<std::int64_t> parse_rfc3339(std::string_view s);

}  // namespace keyward::collector
