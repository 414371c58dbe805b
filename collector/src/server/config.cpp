// SPDX-License-Identifier: Apache-2.0
#include "server/config.hpp"

#include <keyward/collector/store.hpp>

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <stdexcept>

namespace keyward::collector {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& file, const std::string& key, const std::string& what) {
  throw std::runtime_error(file + ": " + key + ": " + what);
}

std::string scalar(const YAML::Node& n, const std::string& file, const std::string& key) {
  if (!n.IsScalar()) bad(file, key, "must be a string");
  return n.Scalar();
}

std::uint64_t unsigned_at(const YAML::Node& n, const std::string& file, const std::string& key, std::uint64_t lo,
                          std::uint64_t hi) {
  const std::string s = scalar(n, file, key);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    bad(file, key, "must be a whole number, not \"" + s.substr(0, 40) + "\"");
  if (v < lo || v > hi) bad(file, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return v;
}

std::string resolve(const std::string& base, const std::string& p) {
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (fs::path(base) / path).lexically_normal().string();
}

// limits: each key in its range; an unknown key is an error (a typo must not pass silently).
void load_limits(const YAML::Node& lim, const std::string& path, Limits& l) {
  if (!lim.IsMap()) bad(path, "limits", "must be a mapping");
  struct Key {
    const char* name;
    std::uint32_t* value;
    std::uint64_t lo, hi;
  };
  const Key keys[] = {
      {"max_findings_per_report", &l.max_findings_per_report, 1, 1000000},
      {"reports_per_minute", &l.reports_per_minute, 1, 100000},
      {"reads_per_minute", &l.reads_per_minute, 1, 1000000},
      {"request_timeout_seconds", &l.request_timeout_seconds, 1, 3600},
      {"handshake_timeout_seconds", &l.handshake_timeout_seconds, 1, 3600},
      {"max_connections", &l.max_connections, 1, 100000},
      {"max_connections_per_client", &l.max_connections_per_client, 1, 100000},
  };
  for (auto it = lim.begin(); it != lim.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    const std::string full = "limits." + key;
    if (key == "max_request_bytes") {
      l.max_request_bytes = unsigned_at(it->second, path, full, 4096, 1ull << 32);
      continue;
    }
    if (key == "max_exception_seconds") {  // how far ahead an exception may expire
      l.max_exception_seconds = static_cast<std::int64_t>(unsigned_at(it->second, path, full, 3600, 315360000));
      continue;
    }
    const Key* k = std::find_if(std::begin(keys), std::end(keys), [&](const Key& x) { return key == x.name; });
    if (k == std::end(keys))
      bad(path, full,
          "unknown key (expected max_request_bytes, max_findings_per_report, reports_per_minute, reads_per_minute, "
          "request_timeout_seconds, handshake_timeout_seconds, max_connections, max_connections_per_client, "
          "max_exception_seconds)");
    *k->value = static_cast<std::uint32_t>(unsigned_at(it->second, path, full, k->lo, k->hi));
  }
}

// A list of directories (rules_dirs, hsm_dirs), each resolved against data_dir; empty when absent.
std::vector<std::string> directory_list(const YAML::Node& root, const std::string& key, const std::string& file,
                                        const std::string& data_dir) {
  std::vector<std::string> out;
  const YAML::Node list = root[key];
  if (!list) return out;
  if (!list.IsSequence() && !list.IsNull()) bad(file, key, "must be a list of directories");
  for (std::size_t i = 0; list.IsSequence() && i < list.size(); ++i)
    out.push_back(resolve(data_dir, scalar(list[i], file, key + "[" + std::to_string(i) + "]")));
  return out;
}

// The audit section (absent: pki/audit.key and pki/audit.pub in data_dir, no syslog).
void load_audit_files(const YAML::Node& audit, const std::string& file, Config& c) {
  c.audit.signing_key = resolve(c.data_dir, c.audit.signing_key);
  c.audit.public_key = resolve(c.data_dir, c.audit.public_key);
  if (!audit) return;
  if (!audit.IsMap()) bad(file, "audit", "must be a mapping with signing_key, public_key, syslog");
  for (auto it = audit.begin(); it != audit.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    const std::string full = "audit." + key;
    const std::string v = scalar(it->second, file, full);
    if (key == "signing_key") c.audit.signing_key = resolve(c.data_dir, v);
    else if (key == "public_key") c.audit.public_key = resolve(c.data_dir, v);
    else if (key == "syslog" && (v == "true" || v == "false")) c.audit.syslog = v == "true";
    else if (key == "syslog") bad(file, full, "must be true or false");
    else bad(file, full, "unknown key (expected signing_key, public_key, syslog)");
  }
  if (c.audit.signing_key.empty() || c.audit.public_key.empty()) bad(file, "audit", "the key files must be named");
}

// A duration key of remote_scans, in [lo, hi] seconds.
std::int64_t duration_at(const YAML::Node& n, const std::string& file, const std::string& key, std::int64_t lo,
                         std::int64_t hi) {
  const std::string s = scalar(n, file, key);
  const auto v = parse_duration(s);
  if (!v) bad(file, key, "must be a duration N[s|m|h|d], not \"" + s.substr(0, 40) + "\"");
  if (*v < lo || *v > hi)
    bad(file, key, "must be between " + std::to_string(lo) + " s and " + std::to_string(hi) + " s");
  return *v;
}

// One key of remote_scans into r; false when the key is unknown.
bool remote_scans_key(const std::string& key, const YAML::Node& v, const std::string& file, const std::string& data_dir,
                      RemoteScans& r) {
  const std::string full = "remote_scans." + key;
  if (key == "inventory") r.inventory = resolve(data_dir, scalar(v, file, full));
  else if (key == "identity") r.identity = resolve(data_dir, scalar(v, file, full));
  else if (key == "passphrase_file") r.passphrase_file = resolve(data_dir, scalar(v, file, full));
  else if (key == "known_hosts") r.known_hosts = resolve(data_dir, scalar(v, file, full));
  else if (key == "every") r.every_seconds = duration_at(v, file, full, 60, 366LL * 86400);
  else if (key == "connect_timeout") r.connect_timeout_seconds = duration_at(v, file, full, 1, 3600);
  else if (key == "timeout") r.timeout_seconds = duration_at(v, file, full, 1, 86400);
  else if (key == "parallel") r.parallel = static_cast<std::uint32_t>(unsigned_at(v, file, full, 1, 256));
  else return false;
  return true;
}

// The remote_scans section: the inventory, the identity and known_hosts are required, and the
// credential files must be private (mode 0600).
std::optional<RemoteScans> load_remote_scans(const YAML::Node& n, const std::string& file,
                                             const std::string& data_dir) {
  if (!n || n.IsNull()) return std::nullopt;
  if (!n.IsMap()) bad(file, "remote_scans", "must be a mapping (inventory, every, identity, known_hosts, ...)");
  RemoteScans r;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    if (!remote_scans_key(key, it->second, file, data_dir, r))
      bad(file, "remote_scans." + key,
          "unknown key (expected inventory, every, identity, passphrase_file, known_hosts, parallel, "
          "connect_timeout, timeout)");
  }
  if (r.inventory.empty()) bad(file, "remote_scans.inventory", "is required: the hosts YAML (docs/remote.md)");
  if (r.identity.empty()) bad(file, "remote_scans.identity", "is required: the OpenSSH private key to log in with");
  if (r.known_hosts.empty())
    bad(file, "remote_scans.known_hosts",
        "is required: the collector checks every host key against it and never accepts a new one");
  check_private_file(r.identity, file, "remote_scans.identity");
  if (!r.passphrase_file.empty()) check_private_file(r.passphrase_file, file, "remote_scans.passphrase_file");
  return r;
}

// ui: true | false (default true); ui_dir: the dashboard's files (default beside the executable).
void load_ui(const YAML::Node& root, const std::string& file, Config& c) {
  if (auto n = root["ui"]) {
    const std::string v = scalar(n, file, "ui");
    if (v != "true" && v != "false") bad(file, "ui", "must be true or false (false: no dashboard under /ui/)");
    c.ui.enabled = v == "true";
  }
  if (auto n = root["ui_dir"]) {
    c.ui.dir = resolve(c.data_dir, scalar(n, file, "ui_dir"));
    if (c.ui.dir.empty()) bad(file, "ui_dir", "must name a directory (omit it for the installed dashboard)");
  }
}

void emit_remote_scans(YAML::Emitter& out, const RemoteScans& r) {
  out << YAML::Key << "remote_scans" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "inventory" << YAML::Value << r.inventory;
  out << YAML::Key << "every" << YAML::Value << (std::to_string(r.every_seconds) + "s");
  out << YAML::Key << "identity" << YAML::Value << r.identity;
  if (!r.passphrase_file.empty()) out << YAML::Key << "passphrase_file" << YAML::Value << r.passphrase_file;
  out << YAML::Key << "known_hosts" << YAML::Value << r.known_hosts;
  out << YAML::Key << "parallel" << YAML::Value << r.parallel;
  out << YAML::Key << "connect_timeout" << YAML::Value << (std::to_string(r.connect_timeout_seconds) + "s");
  out << YAML::Key << "timeout" << YAML::Value << (std::to_string(r.timeout_seconds) + "s");
  out << YAML::EndMap;
}

}  // namespace

void check_private_file(const std::string& path, const std::string& file, const std::string& key) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) bad(file, key, "cannot read " + path);
  if (!S_ISREG(st.st_mode)) bad(file, key, path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    bad(file, key, path + " has mode " + mode + ": it holds a credential, run `chmod 600 " + path + "`");
  }
}

std::optional<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view s) {
  std::string host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
    host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || s.find(':') != colon) return std::nullopt;
    host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (host.empty() || port.empty() || ec != std::errc() || p != port.data() + port.size() || v > 65535)
    return std::nullopt;
  return std::pair{host, static_cast<std::uint16_t>(v)};
}

std::optional<std::int64_t> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (s.back()) {
    case 's':
      unit = 1;
      s.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      s.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      s.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      s.remove_suffix(1);
      break;
    default:
      break;
  }
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  // At most about 100 years: anything larger is a typo, and the product must not overflow.
  if (v > 3'200'000'000LL / unit) return std::nullopt;
  return v * unit;
}

std::string rfc3339(std::int64_t t) {
  if (t == 0) return {};
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
  std::string z(s);
  std::tm tm{};
  const char* end = strptime(z.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::optional<TokenLifetime> parse_token_ttl(std::string_view s) {
  TokenLifetime t;
  if (s.empty()) return t;
  if (s == "never") {
    t.never = true;
    return t;
  }
  const auto seconds = parse_duration(s);
  if (!seconds || *seconds < 60 || *seconds > kMaxTokenTtlSeconds) return std::nullopt;
  t.seconds = *seconds;
  return t;
}

Config load_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw std::runtime_error(path + ": cannot read the config file (run `keyward-collector init --dir D` to make one)");
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path + ": line " + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) throw std::runtime_error(path + ": must be a YAML mapping (see docs/fleet.md)");
  Config c;
  c.path = path;
  static const char* known[] = {
      "listen", "data_dir",   "database", "database_password_file", "events_file", "tls",   "limits",
      "audit",  "rules_dirs", "hsm_dirs", "remote_scans",           "ui",          "ui_dir"};
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok)
      bad(path, key,
          "unknown key (expected listen, data_dir, database, database_password_file, events_file, tls, limits, "
          "audit, rules_dirs, hsm_dirs, remote_scans, ui, ui_dir)");
  }
  if (auto n = root["listen"]) {
    const std::string s = scalar(n, path, "listen");
    auto hp = parse_listen(s);
    if (!hp) bad(path, "listen", "must be host:port (e.g. 127.0.0.1:8443 or [::1]:8443), not \"" + s + "\"");
    c.listen_host = hp->first;
    c.listen_port = hp->second;
  }
  const std::string config_dir = fs::absolute(fs::path(path)).parent_path().string();
  c.data_dir = config_dir;
  if (auto n = root["data_dir"]) c.data_dir = resolve(config_dir, scalar(n, path, "data_dir"));
  c.database = resolve(c.data_dir, "keyward.db");
  if (auto n = root["database"]) {
    const std::string v = scalar(n, path, "database");
    c.database = is_postgres_url(v) ? v : resolve(c.data_dir, v);
  }
  if (c.database.empty()) bad(path, "database", "must name a file or a postgres:// URL");
  if (is_postgres_url(c.database)) {
    if (const auto problem = postgres_conninfo_problem(c.database); !problem.empty()) bad(path, "database", problem);
  }
  if (auto n = root["database_password_file"]) {
    c.database_password_file = resolve(c.data_dir, scalar(n, path, "database_password_file"));
    if (!is_postgres_url(c.database))
      bad(path, "database_password_file", "is for a PostgreSQL database (database: postgres://...)");
  }
  c.events_file = resolve(c.data_dir, "events.jsonl");
  if (auto n = root["events_file"])
    c.events_file = n.IsNull() ? "" : resolve(c.data_dir, scalar(n, path, "events_file"));

  c.tls.ca_cert = resolve(c.data_dir, "pki/ca.pem");
  c.tls.ca_key = resolve(c.data_dir, "pki/ca.key");
  c.tls.server_cert = resolve(c.data_dir, "pki/server.pem");
  c.tls.server_key = resolve(c.data_dir, "pki/server.key");
  if (auto tls = root["tls"]) {
    if (!tls.IsMap()) bad(path, "tls", "must be a mapping with ca_cert, ca_key, server_cert, server_key");
    for (auto it = tls.begin(); it != tls.end(); ++it) {
      const std::string key = it->first.as<std::string>("");
      const std::string full = "tls." + key;
      const std::string v = resolve(c.data_dir, scalar(it->second, path, full));
      if (key == "ca_cert") c.tls.ca_cert = v;
      else if (key == "ca_key") c.tls.ca_key = v;
      else if (key == "server_cert") c.tls.server_cert = v;
      else if (key == "server_key") c.tls.server_key = v;
      else bad(path, full, "unknown key (expected ca_cert, ca_key, server_cert, server_key)");
    }
  }
  if (auto lim = root["limits"]) load_limits(lim, path, c.limits);
  load_audit_files(root["audit"], path, c);
  c.rules_dirs = directory_list(root, "rules_dirs", path, c.data_dir);
  c.hsm_dirs = directory_list(root, "hsm_dirs", path, c.data_dir);
  c.remote_scans = load_remote_scans(root["remote_scans"], path, c.data_dir);
  load_ui(root, path, c);
  return c;
}

std::string config_to_yaml(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  const bool v6 = c.listen_host.find(':') != std::string::npos;
  out << YAML::Key << "listen" << YAML::Value
      << ((v6 ? "[" + c.listen_host + "]" : c.listen_host) + ":" + std::to_string(c.listen_port));
  out << YAML::Key << "data_dir" << YAML::Value << c.data_dir;
  out << YAML::Key << "database" << YAML::Value << c.database;
  if (!c.database_password_file.empty())
    out << YAML::Key << "database_password_file" << YAML::Value << c.database_password_file;
  out << YAML::Key << "events_file" << YAML::Value << c.events_file;
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "ca_cert" << YAML::Value << c.tls.ca_cert;
  out << YAML::Key << "ca_key" << YAML::Value << c.tls.ca_key;
  out << YAML::Key << "server_cert" << YAML::Value << c.tls.server_cert;
  out << YAML::Key << "server_key" << YAML::Value << c.tls.server_key;
  out << YAML::EndMap;
  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_request_bytes" << YAML::Value << c.limits.max_request_bytes;
  out << YAML::Key << "max_findings_per_report" << YAML::Value << c.limits.max_findings_per_report;
  out << YAML::Key << "reports_per_minute" << YAML::Value << c.limits.reports_per_minute;
  out << YAML::Key << "reads_per_minute" << YAML::Value << c.limits.reads_per_minute;
  out << YAML::Key << "request_timeout_seconds" << YAML::Value << c.limits.request_timeout_seconds;
  out << YAML::Key << "handshake_timeout_seconds" << YAML::Value << c.limits.handshake_timeout_seconds;
  out << YAML::Key << "max_connections" << YAML::Value << c.limits.max_connections;
  out << YAML::Key << "max_connections_per_client" << YAML::Value << c.limits.max_connections_per_client;
  out << YAML::Key << "max_exception_seconds" << YAML::Value << c.limits.max_exception_seconds;
  out << YAML::EndMap;
  out << YAML::Key << "audit" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "signing_key" << YAML::Value << c.audit.signing_key;
  out << YAML::Key << "public_key" << YAML::Value << c.audit.public_key;
  out << YAML::Key << "syslog" << YAML::Value << (c.audit.syslog ? "true" : "false");
  out << YAML::EndMap;
  out << YAML::Key << "rules_dirs" << YAML::Value << YAML::Flow << c.rules_dirs;
  out << YAML::Key << "hsm_dirs" << YAML::Value << YAML::Flow << c.hsm_dirs;
  if (c.remote_scans) emit_remote_scans(out, *c.remote_scans);
  out << YAML::Key << "ui" << YAML::Value << (c.ui.enabled ? "true" : "false");
  if (!c.ui.dir.empty()) out << YAML::Key << "ui_dir" << YAML::Value << c.ui.dir;
  out << YAML::EndMap;
  return std::string("# keyward-collector configuration (docs/fleet.md). Relative paths are relative to data_dir.\n") +
         out.c_str() + "\n";
}

}  // namespace keyward::collector
