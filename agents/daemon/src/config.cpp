// SPDX-License-Identifier: Apache-2.0
#include "config.hpp"

#include "fs_util.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

namespace keyward::agent {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Splits "123abc" into 123 and "abc"; throws when there is no leading number.
std::pair<std::uint64_t, std::string> number_and_unit(std::string_view text, const char* what) {
  const std::string t = trim(text);
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || end == t.data()) throw std::invalid_argument(fmt::format("\"{}\" is not a {}", t, what));
  std::string unit = trim(std::string_view(end, static_cast<std::size_t>(t.data() + t.size() - end)));
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  return {n, unit};
}

class Reader {
 public:
  Reader(std::string source, std::string base_dir) : source_(std::move(source)), base_(std::move(base_dir)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw ConfigError(fmt::format("{}: {}: {}", source_, key, why));
  }

  void known_keys(const YAML::Node& map, const std::string& prefix, const std::set<std::string>& keys) const {
    for (const auto& kv : map) {
      // A key that is a list or mapping ({[a]: 1}) would throw YAML::BadConversion past ConfigError.
      if (!kv.first.IsScalar()) fail(prefix + "?", "keys must be plain names");
      const std::string k = kv.first.as<std::string>();
      if (!keys.count(k)) {
        std::string list;
        for (const auto& x : keys) list += (list.empty() ? "" : ", ") + x;
        fail(prefix + k, "unknown key (known: " + list + ")");
      }
    }
  }

  std::string scalar(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(key, "must be a single value");
    return n.as<std::string>();
  }

  std::string path(const YAML::Node& n, const std::string& key) const {
    std::string p = scalar(n, key);
    if (p.empty()) fail(key, "must not be empty");
    if (p.front() != '/' && base_ != ".") p = base_ + "/" + p;
    return p;
  }

  std::vector<std::string> list(const YAML::Node& n, const std::string& key) const {
    if (!n.IsSequence()) fail(key, "must be a list, e.g. [/home, /srv]");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) out.push_back(scalar(n[i], fmt::format("{}[{}]", key, i)));
    return out;
  }

  std::chrono::seconds duration(const YAML::Node& n, const std::string& key) const {
    try {
      return parse_duration(scalar(n, key));
    } catch (const std::invalid_argument& e) {
      fail(key, std::string(e.what()) + "; use e.g. 30s, 10m, 6h or 1d");
    }
  }

  std::uint64_t size(const YAML::Node& n, const std::string& key) const {
    try {
      return parse_size(scalar(n, key));
    } catch (const std::invalid_argument& e) {
      fail(key, std::string(e.what()) + "; use bytes or e.g. 64M, 256MiB, 1G");
    }
  }

  long integer(const YAML::Node& n, const std::string& key, long lo, long hi) const {
    const std::string s = trim(scalar(n, key));
    long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
      fail(key, fmt::format("must be a whole number from {} to {} (got \"{}\")", lo, hi, s));
    return v;
  }

  bool boolean(const YAML::Node& n, const std::string& key) const {
    const std::string v = trim(scalar(n, key));
    if (v == "true") return true;
    if (v == "false") return false;
    fail(key, "must be true or false (got \"" + v + "\")");
  }

  // "env:VAR" or "file:PATH" (a relative PATH is taken relative to the config's directory).
  std::string secret_source(const YAML::Node& n, const std::string& key) const {
    const std::string v = trim(scalar(n, key));
    if (v.rfind("env:", 0) == 0 && v.size() > 4) return v;
    if (v.rfind("file:", 0) == 0 && v.size() > 5) {
      if (v[5] == '/' || base_ == ".") return v;
      return "file:" + base_ + "/" + v.substr(5);
    }
    fail(key, "must be env:VARIABLE or file:PATH (where the secret is read from, never the secret itself)");
  }

  std::string url(const YAML::Node& n, const std::string& key, const char* scheme) const {
    const std::string u = trim(scalar(n, key));
    const std::string prefix = std::string(scheme) + "://";
    if (u.rfind(prefix, 0) != 0 || u.size() == prefix.size())
      fail(key, fmt::format("must be a URL like {}host:port (got \"{}\")", prefix, u));
    return u;
  }

 private:
  std::string source_;
  std::string base_;
};

// The `migrate:` section: module, token and pin_source are required.
MigrateSection parse_migrate(const Reader& r, const YAML::Node& m) {
  if (!m.IsMap()) r.fail("migrate", "must be a mapping with module, token and pin_source");
  r.known_keys(m, "migrate.", {"module", "token", "pin_source", "strategies", "remove_source", "poll"});
  for (const char* required : {"module", "token", "pin_source"})
    if (!m[required]) r.fail(std::string("migrate.") + required, "is required when migrate: is set");
  MigrateSection s;
  s.module = r.path(m["module"], "migrate.module");
  s.token = r.scalar(m["token"], "migrate.token");
  if (s.token.empty()) r.fail("migrate.token", "must not be empty");
  s.pin_source = r.secret_source(m["pin_source"], "migrate.pin_source");
  if (m["strategies"]) {
    const auto names = r.list(m["strategies"], "migrate.strategies");
    if (names.empty()) r.fail("migrate.strategies", "must name at least one of regenerate, import");
    s.strategies.clear();
    for (const auto& n : names) {
      const auto st = migrate::strategy_from_string(n);
      if (!st) r.fail("migrate.strategies", "must be regenerate or import (got \"" + n + "\")");
      if (std::find(s.strategies.begin(), s.strategies.end(), *st) == s.strategies.end()) s.strategies.push_back(*st);
    }
  }
  if (m["remove_source"]) s.remove_source = r.boolean(m["remove_source"], "migrate.remove_source");
  if (m["poll"]) s.poll = r.duration(m["poll"], "migrate.poll");
  if (s.poll.count() < 10) r.fail("migrate.poll", "must be at least 10s");
  return s;
}

}  // namespace

std::string_view to_string(IoClass c) {
  switch (c) {
    case IoClass::idle:
      return "idle";
    case IoClass::best_effort:
      return "best-effort";
    case IoClass::none:
      return "none";
  }
  return "none";
}

std::chrono::seconds parse_duration(std::string_view text) {
  const auto [n, unit] = number_and_unit(text, "duration");
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "s") mult = 1;
  else if (unit == "m") mult = 60;
  else if (unit == "h") mult = 3600;
  else if (unit == "d") mult = 86400;
  else throw std::invalid_argument(fmt::format("\"{}\" has an unknown unit \"{}\"", trim(text), unit));
  if (n > (1ull << 40) / mult) throw std::invalid_argument(fmt::format("\"{}\" is too long", trim(text)));
  return std::chrono::seconds(static_cast<std::int64_t>(n * mult));
}

std::uint64_t parse_size(std::string_view text) {
  const auto [n, unit] = number_and_unit(text, "size");
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kib" || unit == "kb") mult = 1ull << 10;
  else if (unit == "m" || unit == "mib" || unit == "mb") mult = 1ull << 20;
  else if (unit == "g" || unit == "gib" || unit == "gb") mult = 1ull << 30;
  else throw std::invalid_argument(fmt::format("\"{}\" has an unknown unit \"{}\"", trim(text), unit));
  if (n > (1ull << 50) / mult) throw std::invalid_argument(fmt::format("\"{}\" is too large", trim(text)));
  return n * mult;
}

AgentConfig parse_config(std::string_view yaml, const std::string& source, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: line {}: not valid YAML: {}", source, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) throw ConfigError(source + ": must be a YAML mapping (see samples/agent.yaml)");
  Reader r(source, base_dir);
  r.known_keys(root, "",
               {"collector", "ca", "certificate", "key", "state_dir", "roots", "excludes", "schedule", "limits",
                "proxy", "migrate"});
  AgentConfig c;
  c.source = source;
  for (const char* required : {"collector", "ca", "certificate", "key", "state_dir"})
    if (!root[required]) r.fail(required, "is required (keyward-agent enroll --config-out writes it)");
  c.collector = r.url(root["collector"], "collector", "https");
  c.ca = r.path(root["ca"], "ca");
  c.certificate = r.path(root["certificate"], "certificate");
  c.key = r.path(root["key"], "key");
  c.state_dir = r.path(root["state_dir"], "state_dir");
  if (root["roots"]) {
    c.roots = r.list(root["roots"], "roots");
    if (c.roots.empty()) r.fail("roots", "must name at least one directory");
  }
  if (root["excludes"]) c.excludes = r.list(root["excludes"], "excludes");
  if (root["proxy"] && !root["proxy"].IsNull()) c.proxy = r.url(root["proxy"], "proxy", "http");
  if (const YAML::Node s = root["schedule"]; s && !s.IsNull()) {
    if (!s.IsMap()) r.fail("schedule", "must be a mapping with interval and jitter");
    r.known_keys(s, "schedule.", {"interval", "jitter"});
    if (s["interval"]) c.interval = r.duration(s["interval"], "schedule.interval");
    if (s["jitter"]) c.jitter = r.duration(s["jitter"], "schedule.jitter");
    if (c.interval.count() < 1) r.fail("schedule.interval", "must be at least 1s");
  }
  if (const YAML::Node l = root["limits"]; l && !l.IsNull()) {
    if (!l.IsMap()) r.fail("limits", "must be a mapping");
    r.known_keys(l, "limits.", {"max_cpu_percent", "threads", "nice", "io_class", "max_file_size", "spool_max_bytes"});
    if (l["max_cpu_percent"])
      c.max_cpu_percent = static_cast<double>(r.integer(l["max_cpu_percent"], "limits.max_cpu_percent", 1, 100));
    if (l["threads"]) c.threads = static_cast<unsigned>(r.integer(l["threads"], "limits.threads", 1, 64));
    if (l["nice"]) c.nice = static_cast<int>(r.integer(l["nice"], "limits.nice", 0, 19));
    if (l["io_class"]) {
      const std::string v = r.scalar(l["io_class"], "limits.io_class");
      if (v == "idle") c.io_class = IoClass::idle;
      else if (v == "best-effort") c.io_class = IoClass::best_effort;
      else if (v == "none") c.io_class = IoClass::none;
      else r.fail("limits.io_class", "must be idle, best-effort or none (got \"" + v + "\")");
    }
    if (l["max_file_size"]) c.max_file_size = r.size(l["max_file_size"], "limits.max_file_size");
    if (l["spool_max_bytes"]) c.spool_max_bytes = r.size(l["spool_max_bytes"], "limits.spool_max_bytes");
    if (c.max_file_size == 0) r.fail("limits.max_file_size", "must be more than 0");
    if (c.spool_max_bytes < (1ull << 20)) r.fail("limits.spool_max_bytes", "must be at least 1M");
  }
  if (const YAML::Node m = root["migrate"]; m && !m.IsNull()) c.migrate = parse_migrate(r, m);
  return c;
}

void check_tls_files(const AgentConfig& c) {
  for (const auto& [key, path] : {std::pair{"ca", c.ca}, {"certificate", c.certificate}, {"key", c.key}}) {
    if (::access(path.c_str(), R_OK) != 0)
      throw ConfigError(fmt::format("{}: {}: cannot read {} ({}); run keyward-agent enroll first", c.source, key, path,
                                    std::strerror(errno)));
  }
}

AgentConfig load_config(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::runtime_error& e) {
    throw ConfigError(std::string(e.what()) + " (the agent's config, see samples/agent.yaml)");
  }
  std::string base = dir_of(path);
  return parse_config(text, path, base);
}

namespace {
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}
std::string seconds_text(std::chrono::seconds s) {
  const auto n = s.count();
  if (n % 86400 == 0) return fmt::format("{}d", n / 86400);
  if (n % 3600 == 0) return fmt::format("{}h", n / 3600);
  if (n % 60 == 0) return fmt::format("{}m", n / 60);
  return fmt::format("{}s", n);
}
}  // namespace

std::string render_config(const AgentConfig& c) {
  std::string out = "# keyward-agent configuration (docs/fleet.md, \"Agent\").\n";
  out += fmt::format("collector: {}\n", quoted(c.collector));
  out += fmt::format("ca: {}\n", quoted(c.ca));
  out += fmt::format("certificate: {}\n", quoted(c.certificate));
  out += fmt::format("key: {}\n", quoted(c.key));
  out += fmt::format("state_dir: {}\n", quoted(c.state_dir));
  out += "roots:\n";
  for (const auto& r : c.roots) out += fmt::format("  - {}\n", quoted(r));
  out += c.excludes.empty() ? "excludes: []\n" : "excludes:\n";
  for (const auto& e : c.excludes) out += fmt::format("  - {}\n", quoted(e));
  out += fmt::format("schedule:\n  interval: {}\n  jitter: {}\n", seconds_text(c.interval), seconds_text(c.jitter));
  out += fmt::format(
      "limits:\n  max_cpu_percent: {}\n  threads: {}\n  nice: {}\n  io_class: {}\n  max_file_size: {}\n"
      "  spool_max_bytes: {}\n",
      static_cast<int>(c.max_cpu_percent), c.threads, c.nice, to_string(c.io_class), c.max_file_size,
      c.spool_max_bytes);
  if (!c.proxy.empty()) out += fmt::format("proxy: {}\n", quoted(c.proxy));
  if (c.migrate) {
    const MigrateSection& m = *c.migrate;
    out += fmt::format("migrate:\n  module: {}\n  token: {}\n  pin_source: {}\n  strategies: [", quoted(m.module),
                       quoted(m.token), quoted(m.pin_source));
    for (std::size_t i = 0; i < m.strategies.size(); ++i)
      out += fmt::format("{}{}", i == 0 ? "" : ", ", migrate::to_string(m.strategies[i]));
    out +=
        fmt::format("]\n  remove_source: {}\n  poll: {}\n", m.remove_source ? "true" : "false", seconds_text(m.poll));
  }
  return out;
}

}  // namespace keyward::agent
