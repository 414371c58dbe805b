// SPDX-License-Identifier: Apache-2.0
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

// limits: request size, findings per report, rate, deadlines and connections.
struct Limits {
  std::uint64_t max_request_bytes = 32ull << 20;  // after decompression, and before it
  std::uint32_t max_findings_per_report = 20000;  // more: 413 too_many_findings (issue 12)
  std::uint32_t reports_per_minute = 12;          // per agent
  std::uint32_t reads_per_minute = 600;           // GET requests per API token
  std::uint32_t request_timeout_seconds = 30;     // each read and write
  std::uint32_t handshake_timeout_seconds = 10;   // TLS handshake and first request's header
  std::uint32_t max_connections = 256;
  std::uint32_t max_connections_per_client = 32;       // per client IP address, loopback too
  std::int64_t max_exception_seconds = 365LL * 86400;  // how far ahead an exception may expire
};

// audit: the key that signs checkpoints of the audit log (docs/fleet.md, "Events and audit").
struct AuditFiles {
  std::string signing_key = "pki/audit.key";  // Ed25519 private key, mode 0600, apart from the database
  std::string public_key = "pki/audit.pub";   // its public half, for `audit verify`
  bool syslog = false;                        // also send each checkpoint to syslog(3)
};

// API tokens: 90 days unless "never" is asked for (the API and the command line alike).
inline constexpr std::int64_t kDefaultTokenTtlSeconds = 90LL * 86400;
inline constexpr std::int64_t kMaxTokenTtlSeconds = 3650LL * 86400;
// An API token's lifetime: a number of seconds, or never (asked for explicitly).
struct TokenLifetime {
  bool never = false;
  std::int64_t seconds = kDefaultTokenTtlSeconds;
  // expires_at of a token made at now (0: never).
  std::int64_t expires_at(std::int64_t now) const { return never ? 0 : now + seconds; }
};
// `token create --ttl`: "" (90 days), "never", or a duration of 60 s to 3650 days; nullopt otherwise.
std::optional<TokenLifetime> parse_token_ttl(std::string_view s);

// tls: the CA that signs agents and the server's certificate (absolute paths after loading).
struct TlsFiles {
  std::string ca_cert;
  std::string ca_key;
  std::string server_cert;
  std::string server_key;
};

// remote_scans: agentless scans over SSH that the collector runs on a schedule (docs/fleet.md,
// "Remote scans"). The files hold the credentials; the config only names them.
struct RemoteScans {
  std::string inventory;  // the hosts YAML of `keyward remote --inventory` (docs/remote.md)
  std::int64_t every_seconds = 6 * 3600;
  std::string identity;         // OpenSSH private key, mode 0600
  std::string passphrase_file;  // "" : the identity is not encrypted; else mode 0600
  std::string known_hosts;      // required: the collector never records a new host key
  std::uint32_t parallel = 4;   // hosts scanned at once
  std::int64_t connect_timeout_seconds = 10;
  std::int64_t timeout_seconds = 30;  // every later SSH operation
};

// The dashboard (docs/dashboard.md): static files served under /ui/ on the API's listener.
struct UiSettings {
  bool enabled = true;  // `ui: false` serves no /ui/ at all
  std::string dir;      // `ui_dir`; "" : share/keyward/ui beside the executable (default_ui_dir())
};

// collector.yaml; every relative path is resolved against data_dir when loaded.
struct Config {
  std::string path;  // the file it was read from
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  std::string data_dir;
  std::string database;                // a SQLite file, or postgres://user@host:port/db (docs/deployment.md)
  std::string database_password_file;  // PostgreSQL's password, the file's first line ("" : PGPASSWORD, ~/.pgpass)
  std::string events_file;             // "" disables the event file
  TlsFiles tls;
  Limits limits;
  AuditFiles audit;
  std::vector<std::string> rules_dirs;
  std::vector<std::string> hsm_dirs;        // extra HSM target profiles and policy (docs/migration.md)
  std::optional<RemoteScans> remote_scans;  // absent: no remote scans
  UiSettings ui;
};

// Throws std::runtime_error naming `file` and `key` unless `path` is a regular file that only its
// owner may read or write (mode 0600 or 0400): a credential the collector holds.
void check_private_file(const std::string& path, const std::string& file, const std::string& key);

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
